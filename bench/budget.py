"""Flat-budget benchmark (issue 15): what one location's syncs read and write, in DynamoDB units,
as history grows and as records change. Prints the goal-table rows it measures; asserts nothing.

    python bench/budget.py              # 1,000 members, a year of stored history
    python bench/budget.py --quick      # 300 members, 60 days of history

The billing sandbox runs as a child process (bench/_util.py); the tables are the library's
in-memory tables, which count requests, items and units by the same rules as the DynamoDB
table (tests/integration/test_item_tables.py holds the two to the same answers), so the figures
are counts, not timings, and do not depend on the machine or on moto's speed.

1. Read units of an unchanged nightly full sync (every type) after 1 day of history and after a
   simulated year: the year is the first day's check-ins, events and POS transactions copied
   onto each earlier day, stored as the syncs store them. Goal: ratio <= 1.1.
2. The two partial member syncs of the next day: read units (and items) per record fetched.
   The second fetches the first one's records again (billing's window starts at midnight) and
   skips them by hash. Goal: units <= 2.
3. Write units per changed record, index writes counted: person changes (a contact field,
   billing owning contact data) and agreement changes (past-due balance). Goal: <= 1.2.
"""

from __future__ import annotations

import argparse
import copy
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from _util import Servers, library_commit, raise_keyboard_interrupt, start_servers

from clubsync.domain.runs import RunCounts, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings, Product, RecordOwner
from clubsync.engine.full_sync import run_full_sync
from clubsync.engine.scheduled import SyncDependencies, run_scheduled_sync
from clubsync.engine.sync_types import RECORD_SYNC_TYPES
from clubsync.providers.abc.client import AbcClient
from clubsync.providers.abc.members import AbcMemberSource
from clubsync.providers.abc.sources import abc_record_source
from clubsync.providers.base import MemberSource, RecordSource
from clubsync.resources.member_windows import SALES_LOOKBACK_DAYS, event_window
from clubsync.runtime.local import SANDBOX_CREDENTIALS, Repositories, sandbox_client_config
from clubsync.store.entities import EntityRepository
from clubsync.store.items import Item, MemoryItemTable, TableUsage
from clubsync.store.records import (
    CHECKIN_DAY_PREFIX,
    EVENT_DAY_PREFIX,
    INVOICE_DAY_PREFIX,
    day_sort_key,
    expiry_epoch,
    record_id_of_day_key,
)
from clubsync.store.state import StateRepository

LOCATION = LocationSettings(
    location_id="bench-budget",
    club_number="0451",
    time_zone="America/Chicago",
    products=(Product(name="Water Bottle", upc="012345678905"),),
    sync_marketing_sources=True,
    # So a changed contact field in billing is a changed person (the CRM owns them otherwise).
    record_owner=RecordOwner.BILLING,
)
ZONE = ZoneInfo(LOCATION.time_zone)
SYNC_AT = datetime(2026, 11, 20, 21, 0, tzinfo=ZONE)
# The default partial syncs of the next day; billing records change an hour before each.
PARTIALS = (
    datetime(2026, 11, 21, 12, 0, tzinfo=ZONE),
    datetime(2026, 11, 21, 17, 0, tzinfo=ZONE),
)
SEED = 7
CHANGED = 50  # members changed in billing for each write figure


def memory_repositories() -> Repositories:
    return Repositories(
        entities=EntityRepository(MemoryItemTable("entities")),
        state=StateRepository(MemoryItemTable("state")),
    )


def dependencies(repos: Repositories, servers: Servers, at: datetime) -> SyncDependencies:
    def client(settings: LocationSettings) -> AbcClient:
        return AbcClient(
            settings.club_number, SANDBOX_CREDENTIALS, sandbox_client_config(servers.sandbox_url)
        )

    def member_source(settings: LocationSettings) -> MemberSource:
        return AbcMemberSource(client(settings), settings.zone)

    def record_source(sync_type: SyncType) -> Callable[[LocationSettings], RecordSource]:
        return lambda settings: abc_record_source(sync_type, client(settings), settings)

    return SyncDependencies(
        entities=repos.entities,
        state=repos.state,
        member_source=member_source,
        sources={t: record_source(t) for t in RECORD_SYNC_TYPES},
        clock=lambda: at.astimezone(UTC),
    )


@dataclass
class Units:
    read: float
    items_read: int
    written: int
    index_written: int
    requests: int

    @classmethod
    def of(cls, repos: Repositories) -> Units:
        usages: list[TableUsage] = [repos.entities.table.usage, repos.state.table.usage]
        return cls(
            read=sum(u.read_units for u in usages),
            items_read=sum(u.items_read for u in usages),
            written=sum(u.write_units for u in usages),
            index_written=sum(u.index_write_units for u in usages),
            requests=sum(u.requests for u in usages),
        )


def reset(repos: Repositories) -> None:
    repos.entities.table.usage.reset()
    repos.state.table.usage.reset()


def full_sync(repos: Repositories, servers: Servers) -> Units:
    reset(repos)
    summary = run_full_sync(LOCATION.location_id, SYNC_AT, dependencies(repos, servers, SYNC_AT))
    if summary.status != "succeeded":
        print(f"  full sync {summary.status}: {summary.types}", file=sys.stderr)
    return Units.of(repos)


def add_history(repos: Repositories, days: int) -> int:
    """Copies the day-keyed records of the sync day onto each of the `days` days before it that
    lie outside the type's window (inside it, billing's own records are stored already), as
    the syncs would have stored them: what a location holds after that much history."""
    table = repos.entities.table
    assert isinstance(table, MemoryItemTable)
    sample_day = SYNC_AT.date()
    window_first = {
        # The check-in window starts at midnight of the last synced day: today.
        CHECKIN_DAY_PREFIX: sample_day,
        EVENT_DAY_PREFIX: event_window(now=SYNC_AT, zone=ZONE)[0].astimezone(ZONE).date(),
        INVOICE_DAY_PREFIX: sample_day - timedelta(days=SALES_LOOKBACK_DAYS),
    }
    today = [
        (prefix, item)
        for item in table.all_items()
        for prefix in window_first
        if item["sk"].startswith(f"{prefix}{sample_day.isoformat()}#")
    ]
    added = 0
    for back in range(1, days + 1):
        day = sample_day - timedelta(days=back)
        copies: list[Item] = []
        for prefix, item in today:
            if day >= window_first[prefix]:
                continue
            record_id = f"h{back}-{record_id_of_day_key(prefix, item['sk'])}"
            copied = copy.deepcopy(item)
            copied["sk"] = day_sort_key(prefix, day, record_id)
            copied["expires_at"] = expiry_epoch(day, 400)
            if "local_day" in copied:
                copied["local_day"] = day.isoformat()
            copies.append(copied)
        table.batch_write(copies)
        added += len(copies)
    return added


def set_billing_clock(servers: Servers, at: datetime) -> None:
    httpx.post(
        f"{servers.sandbox_root}/_sandbox/clock", json={"now": at.isoformat()}, timeout=10
    ).raise_for_status()


def change_members(servers: Servers, member_ids: list[str], changes: dict[str, str]) -> None:
    with httpx.Client(base_url=servers.sandbox_root, timeout=10) as control:
        for member_id in member_ids:
            answer = control.post(
                f"/_sandbox/members/{LOCATION.club_number}/{member_id}", json={"changes": changes}
            )
            answer.raise_for_status()


def partial_sync(repos: Repositories, servers: Servers, at: datetime) -> tuple[Units, RunCounts]:
    reset(repos)
    event = {
        "location": LOCATION.location_id,
        "kind": SyncKind.PARTIAL.value,
        "scheduled_time": at.isoformat(),
        "sync_type": SyncType.MEMBERS.value,
    }
    run = run_scheduled_sync(event, dependencies(repos, servers, at))
    return Units.of(repos), run.counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--quick", action="store_true", help="300 members, 60 days of history")
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.history_days = 300, 60
    signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
    print(
        f"budget benchmark: {args.members:,} members, {args.history_days} days of history, "
        f"library at {library_commit()}",
        flush=True,
    )
    days_back = SYNC_AT.date() - event_window(now=SYNC_AT, zone=ZONE)[0].astimezone(ZONE).date()
    servers = start_servers(
        club=LOCATION.club_number,
        zone=LOCATION.time_zone,
        members=args.members,
        seed=SEED,
        now=SYNC_AT,
        sandbox_args=[
            "--employees",
            "20",
            "--checkin-days",
            "1",
            "--pos-days",
            "30",
            "--event-days-back",
            str(days_back.days),
            "--event-days-forward",
            "40",
            "--campaigns",
            "5",
        ],
    )
    try:
        rows: list[tuple[str, str, str]] = []
        # 1. history
        after_day, after_year = memory_repositories(), memory_repositories()
        for repos in (after_day, after_year):
            repos.state.put_location(LOCATION)
            full_sync(repos, servers)
        added = add_history(after_year, args.history_days)
        unchanged_day = full_sync(after_day, servers)
        unchanged_year = full_sync(after_year, servers)
        print(
            f"unchanged nightly full sync, every type: after 1 day {unchanged_day.read:,.1f} read "
            f"units ({unchanged_day.items_read:,} items, {unchanged_day.requests:,} requests); "
            f"after {args.history_days} days ({added:,} more stored records) "
            f"{unchanged_year.read:,.1f} read units ({unchanged_year.items_read:,} items, "
            f"{unchanged_year.requests:,} requests)"
        )
        rows.append(
            (
                f"read units, unchanged full sync after {args.history_days} days ÷ after 1 day",
                f"{unchanged_year.read / unchanged_day.read:.3f}",
                "<= 1.1",
            )
        )
        # 2. and 3. partial syncs with changed members
        repos = after_day
        linked = sorted(
            p.billing_member_id
            for p in repos.entities.people(LOCATION.location_id)
            if p.billing_member_id and p.current_agreement_key
        )
        person_changes, agreement_changes = linked[:CHANGED], linked[CHANGED : 2 * CHANGED]
        for at, label, ids, changes in (
            (PARTIALS[0], "person change", person_changes, {"personal.city": "Shelbyville"}),
            (
                PARTIALS[1],
                "agreement change",
                agreement_changes,
                {"agreement.pastDueBalance": "12.34"},
            ),
        ):
            set_billing_clock(servers, at - timedelta(hours=1))
            change_members(servers, ids, changes)
            set_billing_clock(servers, at)
            units, counts = partial_sync(repos, servers, at)
            print(
                f"partial sync after {len(ids)} {label}s: fetched {counts.fetched}, updated "
                f"{counts.updated}, unchanged {counts.unchanged}; read {units.read:,.1f} units "
                f"({units.items_read} items, {units.requests} requests), wrote {units.written} "
                f"units ({units.index_written} of them index writes)"
            )
            fetched = max(counts.fetched, 1)
            rows.append(
                (
                    f"partial sync ({label}s): read units ÷ records fetched",
                    f"{units.read / fetched:.2f} ({units.items_read / fetched:.2f} items)",
                    "<= 2",
                )
            )
            rows.append(
                (
                    f"write units per changed record ({label})",
                    f"{units.written / max(counts.updated, 1):.2f}",
                    "<= 1.2",
                )
            )
        width = max(len(r[0]) for r in rows)
        print()
        print(f"| {'measure'.ljust(width)} | measured | goal |")
        for measure, value, goal in rows:
            print(f"| {measure.ljust(width)} | {value} | {goal} |")
    finally:
        servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
