"""Which members a sync asks billing for (spec: "Members", and DESIGN.md "Never miss, never lose").

- Full sync: every active member, plus inactive members modified in the past 90 days.
- Partial sync: active and inactive members modified since midnight of the current day in the
  club's time zone, and never later than the last successful sync minus a safety margin, so a
  sync that failed is caught up by the next one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clubsync.domain.runs import SyncKind
from clubsync.domain.windows import ActiveStatus, MemberQuery

INACTIVE_MEMBERS_LOOKBACK = timedelta(days=90)
CATCH_UP_SAFETY_MARGIN = timedelta(minutes=15)


def local_midnight(moment: datetime, zone: ZoneInfo) -> datetime:
    """The first instant of `moment`'s local day, as UTC. On the rare zones whose DST change
    happens at midnight, 00:00 does not exist; the day then starts at the first real instant."""
    local_day = moment.astimezone(zone).date()
    naive = datetime.combine(local_day, time(0))
    candidate = naive.replace(tzinfo=zone)
    # zoneinfo reads a wall time inside a gap with the offset from before the gap, which is
    # the instant the gap ends: the first real instant of the day.
    return candidate.astimezone(UTC)


# The one query of a partial member sync: what a job reads a run's kind from, on a
# continuation too (the queries come back from the checkpoint).
PARTIAL_QUERY_NAME = "modified-since"


def member_queries(
    kind: SyncKind,
    *,
    now: datetime,
    zone: ZoneInfo,
    last_success: datetime | None,
    margin: timedelta = CATCH_UP_SAFETY_MARGIN,
) -> list[MemberQuery]:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # A location never synced has no "since" to catch up from: its first sync reads what a
    # full sync reads, partial or not, so the watermark it leaves is true (nothing modified
    # before it was missed).
    if kind is SyncKind.FULL or last_success is None:
        return [
            MemberQuery(name="active", active_status=ActiveStatus.ACTIVE),
            MemberQuery(
                name="inactive-modified-90-days",
                active_status=ActiveStatus.INACTIVE,
                modified_since=local_midnight(now - INACTIVE_MEMBERS_LOOKBACK, zone),
            ),
        ]
    return [
        MemberQuery(
            name=PARTIAL_QUERY_NAME,
            active_status=ActiveStatus.ALL,
            modified_since=partial_window_start(
                now=now, zone=zone, last_success=last_success, margin=margin
            ),
        )
    ]


def integration_member_queries() -> list[MemberQuery]:
    """A location's initial integration (FAQ: "All active members, employees, prospects"):
    active members only. Inactive members are not pulled at integration; the nightly full sync
    reads those modified in the past 90 days from then on."""
    return [MemberQuery(name="integration-active", active_status=ActiveStatus.ACTIVE)]


def partial_window_start(
    *, now: datetime, zone: ZoneInfo, last_success: datetime | None, margin: timedelta
) -> datetime:
    start = local_midnight(now, zone)
    if last_success is not None:
        start = min(start, last_success - margin)
    return start


# -- the other sync types (spec: "Check-ins", "Calendar Events", POS, service agreements) -------

SALES_LOOKBACK_DAYS = 30
# ABC silently rejects recurring-service ranges longer than 180 days (reference/abc-api.md).
RECURRING_SERVICES_MAX_RANGE = timedelta(days=179)


def _local_day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0)).replace(tzinfo=zone).astimezone(UTC)


def checkin_window_start(
    *, now: datetime, zone: ZoneInfo, last_success: datetime | None
) -> datetime:
    """Midnight (club time) of the most recent day the location was synced for check-ins; a
    location never synced starts at midnight of the current day."""
    return local_midnight(last_success if last_success is not None else now, zone)


def event_window(*, now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The previous, current and next month in club time: [first instant of the previous month,
    last second of the next month]."""
    local = now.astimezone(zone).date()
    first_of_month = local.replace(day=1)
    previous = (first_of_month - timedelta(days=1)).replace(day=1)
    after_next = (first_of_month + timedelta(days=62)).replace(day=1)
    return _local_day_start(previous, zone), _local_day_start(after_next, zone) - timedelta(
        seconds=1
    )


def days_before_midnight(*, now: datetime, zone: ZoneInfo, days: int) -> datetime:
    """Midnight of the club-local day `days` calendar days before `now`'s (DST-proof)."""
    return _local_day_start(now.astimezone(zone).date() - timedelta(days=days), zone)


def modified_sweep_start(
    *, now: datetime, zone: ZoneInfo, last_success: datetime | None, margin: timedelta
) -> datetime:
    """Where the sweep by modification date starts: the last success minus the margin, or the
    sales window for a first sync; never longer ago than ABC accepts."""
    start = (
        last_success - margin
        if last_success is not None
        else days_before_midnight(now=now, zone=zone, days=SALES_LOOKBACK_DAYS)
    )
    return max(start, now - RECURRING_SERVICES_MAX_RANGE)
