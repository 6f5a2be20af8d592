"""A crash at any DynamoDB request of a sync loses nothing: the next run repairs it.

The issue's reproduction (120 members, pages of 40, the process dies after the first 25-item
chunk of the first page) is one of the crash points below; every other request of the run is
tried too, both as a DynamoDB error (the engine records a failed run) and as a killed process
(nothing after the crash runs; the lease is left to expire)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clubsync.domain.runs import RunStatus, SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.engine.sync_engine import LEASE_TTL
from clubsync.resources.members import MemberSync
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository
from tests.conftest import abc_member
from tests.fakes import ListMemberSource
from tests.faults import FaultyTable, Killed, StoreError

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
MEMBERS = 120
PAGE_SIZE = 40


def billing_members() -> list[dict[str, Any]]:
    return [
        abc_member(
            f"{n:032x}",
            personal__firstName=f"Person{n}",
            personal__email=f"p{n}@example.org",
            personal__mobilePhone=f"555{n:07d}",
            personal__primaryPhone="",
            agreement__agreementNumber=f"{n:05d}",
        )
        for n in range(1, MEMBERS + 1)
    ]


class Club:
    """Billing, the two tables (each able to crash) and a clock."""

    def __init__(self, settings: LocationSettings) -> None:
        self.settings = settings
        self.records = billing_members()
        self.entity_table = FaultyTable(MemoryItemTable("entities"))
        self.state_table = FaultyTable(MemoryItemTable("state"))
        self.entities = EntityRepository(self.entity_table)  # type: ignore[arg-type]
        self.state = StateRepository(self.state_table)  # type: ignore[arg-type]
        self.state.put_location(settings)
        self.now = NOW

    def sync(self, kind: SyncKind = SyncKind.FULL) -> Any:
        source = ListMemberSource(self.records, self.settings.zone, page_size=PAGE_SIZE)
        job = MemberSync(self.settings, source, self.entities, self.state, clock=lambda: self.now)
        return job.run(kind, self.now)

    def assert_converged(self) -> None:
        """Every billing member once, with billing's agreement as its current agreement."""
        people = {p.billing_member_id: p for p in self.entities.people("springfield")}
        agreements = {a.agreement_key: a for a in self.entities.agreements("springfield")}
        assert len(people) == len(self.records)
        for record in self.records:
            person = people[record["memberId"]]
            current = agreements.get(person.current_agreement_key or "")
            assert current is not None, f"{person.person_id} has no current agreement"
            assert current.agreement_number == record["agreement"]["agreementNumber"]
            assert current.is_current
            assert all(key in agreements for key in person.agreement_keys)


def requests_of_a_clean_run(settings: LocationSettings) -> tuple[int, int]:
    club = Club(settings)
    entity_before, state_before = club.entity_table.requests, club.state_table.requests
    club.sync()
    return club.entity_table.requests - entity_before, club.state_table.requests - state_before


def test_the_issue_reproduction_page_of_40_crashing_after_its_first_chunk(
    settings: LocationSettings,
) -> None:
    club = Club(settings)
    # Entity requests of the run: the person index, the agreement batch-get, then writes.
    club.entity_table.crash_at(4, Killed)
    with pytest.raises(Killed):
        club.sync()
    club.now += LEASE_TTL + timedelta(minutes=1)
    run = club.sync()
    assert run.status is RunStatus.SUCCEEDED
    club.assert_converged()


@pytest.mark.parametrize("crash", [StoreError, Killed], ids=["dynamodb-error", "killed"])
@pytest.mark.parametrize("table", ["entities", "state"])
def test_a_crash_at_any_request_is_repaired_by_the_next_full_sync(
    settings: LocationSettings, crash: type[BaseException], table: str
) -> None:
    entity_requests, state_requests = requests_of_a_clean_run(settings)
    points = entity_requests if table == "entities" else state_requests
    for point in range(1, points + 1):
        club = Club(settings)
        faulty = club.entity_table if table == "entities" else club.state_table
        faulty.crash_at(point, crash)
        try:
            club.sync()
        except (StoreError, Killed):
            pass
        else:
            pytest.fail(f"no crash at {table} request {point}")
        club.now += LEASE_TTL + timedelta(minutes=1)
        run = club.sync()
        assert run.status is RunStatus.SUCCEEDED, f"crash at {table} request {point}: {run}"
        club.assert_converged()
        # And the repaired state is stable: one more sync writes nothing.
        club.entity_table.usage.reset()
        club.now += timedelta(hours=1)
        assert club.sync().counts.unchanged == MEMBERS
        assert club.entity_table.usage.items_written == 0


def test_any_exception_records_a_failed_run_keeps_the_watermark_and_frees_the_lease(
    settings: LocationSettings,
) -> None:
    club = Club(settings)
    club.sync()
    watermark = club.state.watermark("springfield", "members")
    club.now += timedelta(days=1)
    club.records[0]["personal"]["lastName"] = "Changed"
    club.entity_table.crash_at(4, StoreError)
    with pytest.raises(StoreError):
        club.sync()
    (failed,) = [
        run for run in club.state.runs("springfield", "members") if run.status is RunStatus.FAILED
    ]
    assert failed.status is RunStatus.FAILED
    assert "StoreError: injected crash" in failed.message
    assert club.state.watermark("springfield", "members") == watermark
    # The lease was released: a run right away (no expiry wait) goes ahead and repairs.
    run = club.sync()
    assert run.status is RunStatus.SUCCEEDED
    club.assert_converged()


def test_an_agreement_written_before_a_crash_is_retired_when_billing_moves_on(
    settings: LocationSettings,
) -> None:
    """Found by the model-based test: the agreements of a page were stored, their (new)
    people were not, then billing gave a member a new agreement. The first agreement must not
    stay current beside the new one."""
    club = Club(settings)
    club.records = club.records[:2]
    # Entity requests: person index, agreement batch-get, then the page's writes; the first
    # write after the intents stores one item and fails.
    club.entity_table.crash_at(4, StoreError, applied=1)
    with pytest.raises(StoreError):
        club.sync()
    club.records[0]["agreement"]["agreementNumber"] = "99999"
    club.now += timedelta(hours=1)
    assert club.sync().status is RunStatus.SUCCEEDED
    club.assert_converged()
    for person in club.entities.people("springfield"):
        held = [
            a for a in club.entities.agreements("springfield") if a.person_id == person.person_id
        ]
        assert sum(a.is_current for a in held) == 1, person.person_id
