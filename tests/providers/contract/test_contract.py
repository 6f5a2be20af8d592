"""The contract every billing provider passes (issue 12, item 7), run through the real engine
with in-memory tables against each provider's harness (tests/providers/<name>/harness.py):
paging to the end, window edges, equal timestamps at the edge, time zones, bad records
quarantined, replays that write nothing, a crash between pages.

A provider without a modified-since window (Club Hub's full listing) skips the window
contracts with its reason; everything else runs for every provider."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clubsync.domain.runs import RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings, RecordOwner
from clubsync.engine.sync_engine import LEASE_TTL, SyncFailed
from clubsync.resources.member_windows import CATCH_UP_SAFETY_MARGIN
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository
from tests.faults import FaultyTable, Killed, StoreError
from tests.providers.contract.harness import ContractMember, Harness, members

CHICAGO = "America/Chicago"
DAY = datetime(2026, 11, 20).date()


def local(zone: str, hour: int, minute: int = 0, second: int = 0, *, days: int = 0) -> datetime:
    return datetime.combine(DAY + timedelta(days=days), time(hour, minute, second)).replace(
        tzinfo=ZoneInfo(zone)
    )


class Club:
    """One location of the harness's provider, with its two tables in memory (the entity
    table able to crash) and the engine's runs at chosen instants."""

    def __init__(self, harness: Harness, time_zone: str = CHICAGO) -> None:
        self.harness = harness
        # Billing owns the contact fields here, so a change billing sends shows in the CRM
        # (under the default owner, the CRM, billing only fills blanks).
        self.settings: LocationSettings = harness.location(time_zone).model_copy(
            update={"record_owner": RecordOwner.BILLING}
        )
        self.entity_table = FaultyTable(MemoryItemTable("entities"))
        self.entities = EntityRepository(self.entity_table)  # type: ignore[arg-type]
        self.state = StateRepository(MemoryItemTable("state"))
        self.state.put_location(self.settings)

    def seed(self, seeded: list[ContractMember]) -> None:
        self.harness.seed(self.settings, seeded)

    def run(self, kind: SyncKind, now: datetime, **options: Any) -> RunRecord:
        run = self.harness.run(self.settings, self.entities, self.state, kind, now, **options)
        return run

    def stored(self) -> dict[str, str]:
        """billing id -> last name of every stored person (a person stored twice fails)."""
        people = self.entities.people(self.settings.location_id)
        ids = [p.billing_member_id or "" for p in people]
        assert len(ids) == len(set(ids)), f"a member is stored twice: {sorted(ids)}"
        return {p.billing_member_id or "": p.contact.last_name or "" for p in people}

    def expect_stored(self, numbers: range | list[int]) -> None:
        assert set(self.stored()) == {self.harness.billing_id(n) for n in numbers}

    def last_name(self, number: int) -> str:
        return self.stored()[self.harness.billing_id(number)]

    @property
    def written(self) -> int:
        return self.entity_table.usage.items_written


def windowed(harness: Harness) -> None:
    if harness.no_window is not None:
        pytest.skip(harness.no_window)


# -- paging to the end -------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [0, 1], ids=["last-page-full", "last-page-of-one"])
def test_paging_reads_every_page_to_the_end(harness: Harness, extra: int) -> None:
    club = Club(harness)
    count = 2 * harness.page_size + extra
    club.seed(members(count, local(CHICAGO, 10, days=-1)))
    run = club.run(SyncKind.FULL, local(CHICAGO, 21))
    assert run.status is RunStatus.SUCCEEDED, run.message
    assert run.counts.fetched == count
    assert run.counts.created == count
    club.expect_stored(range(1, count + 1))
    member_pages = math.ceil(count / harness.page_size)
    # The full sync's other query (inactive members) may answer one empty page, or read the
    # recently modified active members again where billing cannot ask for inactive ones only.
    reread = member_pages if getattr(harness, "inactive_query_reads_active", False) else 0
    assert member_pages <= run.counts.pages <= member_pages + reread + 1, run.counts


# -- window edges and equal timestamps -----------------------------------------------------------
def test_a_record_modified_exactly_at_the_window_start_is_in_the_partial(
    harness: Harness,
) -> None:
    windowed(harness)
    club = Club(harness)
    club.seed(members(3, local(CHICAGO, 10, days=-1)))
    assert club.run(SyncKind.FULL, local(CHICAGO, 0, 20)).status is RunStatus.SUCCEEDED
    midnight = local(CHICAGO, 0)
    # Changes that became visible after the full sync read them, stamped earlier (billing
    # writes its timestamp when the change starts): one at the window start, one before it.
    club.seed(
        [
            ContractMember(1, midnight, "AtTheEdge"),
            ContractMember(2, midnight - timedelta(seconds=1), "BeforeTheEdge"),
        ]
    )
    run = club.run(SyncKind.PARTIAL, local(CHICAGO, 14))
    assert run.status is RunStatus.SUCCEEDED, run.message
    assert run.window_start == midnight
    assert club.last_name(1) == "AtTheEdge"
    assert club.last_name(2) == "Member"  # outside the window: the next full sync has it


def test_a_record_at_the_watermark_instant_is_not_missed_by_the_next_partial(
    harness: Harness,
) -> None:
    windowed(harness)
    club = Club(harness)
    club.seed(members(3, local(CHICAGO, 10)))
    synced_at = local(CHICAGO, 23, 55)
    assert club.run(SyncKind.FULL, synced_at).status is RunStatus.SUCCEEDED
    watermark = club.state.watermark(club.settings.location_id, SyncType.MEMBERS)
    assert watermark == synced_at
    # Modified at the very instant the sync read (equal timestamps), and at the next
    # partial's window start (the watermark less the catch-up margin).
    club.seed(
        [
            ContractMember(1, synced_at, "AtTheWatermark"),
            ContractMember(2, synced_at - CATCH_UP_SAFETY_MARGIN, "AtTheMargin"),
        ]
    )
    # Just after the next local midnight: the window starts at the watermark less the margin.
    run = club.run(SyncKind.PARTIAL, local(CHICAGO, 0, 10, days=1))
    assert run.status is RunStatus.SUCCEEDED, run.message
    assert run.window_start == synced_at - CATCH_UP_SAFETY_MARGIN
    assert club.last_name(1) == "AtTheWatermark"
    assert club.last_name(2) == "AtTheMargin"


# -- time zones ----------------------------------------------------------------------------------
@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles"])
def test_the_partial_day_is_the_clubs_local_day(harness: Harness, zone: str) -> None:
    windowed(harness)
    club = Club(harness, zone)
    club.seed(members(3, local(zone, 10, days=-1)))
    assert club.run(SyncKind.FULL, local(zone, 0, 20)).status is RunStatus.SUCCEEDED
    club.seed(
        [
            ContractMember(1, local(zone, 0, 0, 30), "JustAfterMidnight"),
            ContractMember(2, local(zone, 23, 59, 30, days=-1), "JustBeforeMidnight"),
        ]
    )
    run = club.run(SyncKind.PARTIAL, local(zone, 14))
    assert run.status is RunStatus.SUCCEEDED, run.message
    assert run.window_start == local(zone, 0)
    assert club.last_name(1) == "JustAfterMidnight"
    assert club.last_name(2) == "Member"  # the previous local day, whatever the UTC date


# -- bad records ---------------------------------------------------------------------------------
def test_a_bad_record_is_quarantined_and_the_sync_goes_on(harness: Harness) -> None:
    club = Club(harness)
    count = harness.page_size + 1  # the good ones span two pages around the bad one
    club.seed(members(count, local(CHICAGO, 10, days=-1)))
    harness.seed_malformed(club.settings, 99, local(CHICAGO, 10, days=-1))
    run = club.run(SyncKind.FULL, local(CHICAGO, 21))
    assert run.status is RunStatus.SUCCEEDED, run.message
    assert (run.counts.created, run.counts.quarantined) == (count, 1)
    club.expect_stored(range(1, count + 1))
    assert len(club.state.quarantined(club.settings.location_id)) == 1
    # Sent again unchanged: still quarantined once, nothing written.
    club.entity_table.usage.reset()
    again = club.run(SyncKind.FULL, local(CHICAGO, 21, days=1))
    assert again.status is RunStatus.SUCCEEDED, again.message
    assert len(club.state.quarantined(club.settings.location_id)) == 1
    assert club.written == 0


# -- replays -------------------------------------------------------------------------------------
def test_a_replay_writes_nothing(harness: Harness) -> None:
    club = Club(harness)
    count = 2 * harness.page_size + 1
    club.seed(members(count, local(CHICAGO, 10)))
    assert club.run(SyncKind.FULL, local(CHICAGO, 12)).status is RunStatus.SUCCEEDED
    club.entity_table.usage.reset()
    again = club.run(SyncKind.FULL, local(CHICAGO, 13))
    assert again.status is RunStatus.SUCCEEDED, again.message
    assert again.counts.unchanged == count
    assert club.written == 0
    if harness.no_window is None:
        # A partial over the same records (modified today, inside its window): nothing either.
        partial = club.run(SyncKind.PARTIAL, local(CHICAGO, 14))
        assert partial.counts.fetched == count
        assert club.written == 0


# -- a crash between pages -----------------------------------------------------------------------
@pytest.mark.parametrize("crash", ["killed", "dynamodb-error"])
def test_a_crash_between_pages_is_repaired_by_the_next_run(harness: Harness, crash: str) -> None:
    club = Club(harness)
    count = 2 * harness.page_size + 1
    club.seed(members(count, local(CHICAGO, 10, days=-1)))

    # Asked by the engine after each page but the last: the first page is stored.
    def after_first_page() -> bool:
        if crash == "killed":
            raise Killed("the process died after page 1")
        club.entity_table.crash_at(1, StoreError)  # the first write of page 2 fails
        return False

    started = local(CHICAGO, 21)
    with pytest.raises((Killed, StoreError, SyncFailed)):
        club.run(SyncKind.FULL, started, should_pause=after_first_page)
    assert 0 < len(club.stored()) < count
    # The next run (the lease of a killed one has expired by then) repairs it.
    later = started + LEASE_TTL + timedelta(minutes=1)
    run = club.run(SyncKind.FULL, later)
    assert run.status is RunStatus.SUCCEEDED, run.message
    club.expect_stored(range(1, count + 1))
    club.entity_table.usage.reset()
    again = club.run(SyncKind.FULL, later + timedelta(hours=1))
    assert again.counts.unchanged == count
    assert club.written == 0
