"""Member sync windows in the location's time zone (clubsync.resources.member_windows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clubsync.domain.runs import SyncKind
from clubsync.domain.windows import ActiveStatus
from clubsync.resources.member_windows import (
    CATCH_UP_SAFETY_MARGIN,
    local_midnight,
    member_queries,
    partial_window_start,
)

CHICAGO = ZoneInfo("America/Chicago")


def test_full_sync_pulls_every_active_member_and_inactive_ones_modified_in_90_days() -> None:
    now = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 21:00 on the 21st in Chicago
    active, inactive = member_queries(SyncKind.FULL, now=now, zone=CHICAGO, last_success=None)
    assert active.active_status is ActiveStatus.ACTIVE and active.modified_since is None
    assert inactive.active_status is ActiveStatus.INACTIVE
    assert inactive.modified_since is not None
    # 90 days before 2026-11-21 local is 2026-08-23; the window opens at that local midnight.
    assert inactive.modified_since.astimezone(CHICAGO) == datetime(2026, 8, 23, tzinfo=CHICAGO)


def test_partial_sync_pulls_all_members_modified_since_local_midnight() -> None:
    now = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)  # 17:00 in Chicago
    last = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)  # today's 12:00 partial sync
    (query,) = member_queries(SyncKind.PARTIAL, now=now, zone=CHICAGO, last_success=last)
    assert query.active_status is ActiveStatus.ALL
    assert query.modified_since == datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


def test_first_partial_sync_of_the_day_reaches_back_to_last_nights_full_sync() -> None:
    now = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)  # 12:00 in Chicago
    last = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # last night's 21:00 full sync
    (query,) = member_queries(SyncKind.PARTIAL, now=now, zone=CHICAGO, last_success=last)
    assert query.modified_since == last - CATCH_UP_SAFETY_MARGIN


def test_partial_sync_catches_up_after_a_failed_sync() -> None:
    now = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
    last_success = datetime(2026, 11, 19, 23, 0, tzinfo=UTC)  # two days ago
    start = partial_window_start(
        now=now, zone=CHICAGO, last_success=last_success, margin=CATCH_UP_SAFETY_MARGIN
    )
    assert start == last_success - CATCH_UP_SAFETY_MARGIN


def test_partial_window_never_starts_later_than_last_success_minus_margin() -> None:
    now = datetime(2026, 11, 21, 6, 5, tzinfo=UTC)  # 00:05 local
    last_success = datetime(2026, 11, 21, 6, 1, tzinfo=UTC)  # 00:01 local
    start = partial_window_start(
        now=now, zone=CHICAGO, last_success=last_success, margin=timedelta(minutes=15)
    )
    assert start == datetime(2026, 11, 21, 5, 46, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "moment", "expected_local"),
    [
        # US spring forward (02:00 -> 03:00): midnight exists, the day is 23 hours long.
        ("America/Chicago", datetime(2026, 3, 8, 20, tzinfo=UTC), datetime(2026, 3, 8, 0)),
        # US fall back: the day is 25 hours long.
        ("America/Chicago", datetime(2026, 11, 1, 20, tzinfo=UTC), datetime(2026, 11, 1, 0)),
        # Chile springs forward at midnight: 00:00 does not exist, the day starts at 01:00.
        ("America/Santiago", datetime(2026, 9, 6, 12, tzinfo=UTC), datetime(2026, 9, 6, 1)),
        # Far east of UTC: the local day began on the previous UTC day.
        ("Pacific/Auckland", datetime(2026, 11, 21, 20, tzinfo=UTC), datetime(2026, 11, 22, 0)),
    ],
)
def test_local_midnight_on_dst_days(zone: str, moment: datetime, expected_local: datetime) -> None:
    tz = ZoneInfo(zone)
    midnight = local_midnight(moment, tz)
    assert midnight.tzinfo is UTC
    assert midnight.astimezone(tz).replace(tzinfo=None) == expected_local


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        member_queries(SyncKind.PARTIAL, now=datetime(2026, 1, 1), zone=CHICAGO, last_success=None)


def test_a_partial_sync_of_a_location_never_synced_reads_what_a_full_sync_reads() -> None:
    """Since midnight would miss every member modified before it, and the watermark the run
    leaves would claim they were read."""
    now = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
    partial = member_queries(SyncKind.PARTIAL, now=now, zone=CHICAGO, last_success=None)
    assert partial == member_queries(SyncKind.FULL, now=now, zone=CHICAGO, last_success=None)
