"""Which locations have had no successful member sync for too long (issue 11).

A failed run is alarmed by its own metric; what no run metric can show is a run that never
happens (a schedule deleted or never created) or one that never ends (it keeps continuing, or
its invocations vanish). Both leave the member watermark where it was, so an hourly check reads
every location's watermark and counts the ones older than 26 hours (the daily 21:00 full sync,
a 25-hour DST day and an hour of slack). functions/stale_locations emits the count as one
metric, `StaleLocations` (alarmed), and logs each stale location: one metric whatever the
number of locations, instead of a metric per location.

Cost at 10,000 locations, per check: one Query over the registry and 100 BatchGetItem requests
of 100 watermarks (about 10,000 read units, $0.0025 on demand); hourly, under $2 a month.

A location that has never synced has no watermark: it is stale once it has been registered for
26 hours, counted from the first check that saw it without one (`STALECHECK#members`, written
once per such location), so registering a location does not alarm before its first sync can
have run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clubsync.domain.runs import SyncType
from clubsync.store.state import StateRepository

STALE_AFTER = timedelta(hours=26)


@dataclass(frozen=True)
class StaleLocation:
    location_id: str
    # None: never synced successfully.
    last_success: datetime | None
    # When the check first saw it without a watermark (never-synced locations only).
    first_checked: datetime | None = None

    def hours_since(self, now: datetime) -> float:
        since = self.last_success or self.first_checked or now
        return round((now - since).total_seconds() / 3600, 1)


@dataclass
class StalenessReport:
    checked: int
    stale: list[StaleLocation] = field(default_factory=list)
    # Locations seen without a watermark for the first time by this check.
    newly_seen: list[str] = field(default_factory=list)


def check_staleness(
    state: StateRepository,
    now: datetime,
    *,
    sync_type: SyncType = SyncType.MEMBERS,
    stale_after: timedelta = STALE_AFTER,
) -> StalenessReport:
    """Every registered location whose last successful `sync_type` sync is older than
    `stale_after` (or that never had one and was first seen longer ago than that)."""
    location_ids = state.location_ids()
    watermarks = state.watermarks(location_ids, sync_type.value)
    never = [location_id for location_id in location_ids if location_id not in watermarks]
    first_checked = state.first_checked(never, sync_type.value) if never else {}
    report = StalenessReport(checked=len(location_ids))
    for location_id in location_ids:
        last = watermarks.get(location_id)
        if last is not None:
            if now - last > stale_after:
                report.stale.append(StaleLocation(location_id, last))
            continue
        seen = first_checked.get(location_id)
        if seen is None:
            state.set_first_checked(location_id, sync_type.value, now)
            report.newly_seen.append(location_id)
        elif now - seen > stale_after:
            report.stale.append(StaleLocation(location_id, None, seen))
    return report
