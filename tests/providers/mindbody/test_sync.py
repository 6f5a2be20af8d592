"""A Mindbody member sync through the engine: contracts are read only for clients whose
record changed, every run records its calls, and the call budget stops a run cleanly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clubsync.domain.people import PersonKind
from clubsync.domain.runs import RunStatus, SyncKind
from clubsync.resources.members import MemberSync, SyncFailed
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository
from tests.providers.mindbody.fixtures import FakeMindbody, client_record, contract_record
from tests.providers.mindbody.test_provider import connect, settings

NOW = datetime(2026, 12, 2, 2, tzinfo=UTC)


def site(count: int) -> FakeMindbody:
    fake = FakeMindbody()
    clients = [
        client_record(i, Notes="prefers mornings" if i == 1 else None) for i in range(1, count + 1)
    ]
    clients.append(client_record(900, Status="Non-Member"))
    fake.add_list("/client/clients", "Clients", clients)
    fake.add_list(
        "/client/clientcontracts",
        "Contracts",
        lambda params: (
            [contract_record(10_000 + int(params["request.uniqueClientId"]))]
            if params["request.uniqueClientId"] != "900"
            else []
        ),
    )
    return fake


def run(
    fake: FakeMindbody,
    state: StateRepository,
    entities: EntityRepository,
    kind: SyncKind,
    at: datetime,
    **account: Any,
) -> Any:
    connection = connect(fake, state, page_size=200, now=at, **account)
    job = MemberSync(
        settings=settings(**account),
        source=connection.member_source(),
        entities=entities,
        state=state,
        clock=lambda: at,
    )
    try:
        return job.run(kind, at)
    finally:
        connection.close()


def contract_calls(fake: FakeMindbody) -> int:
    return fake.paths().count("/client/clientcontracts")


def test_contracts_are_read_for_changed_clients_only() -> None:
    fake = site(5)
    state = StateRepository(MemoryItemTable("state"))
    entities = EntityRepository(MemoryItemTable("entities"))
    first = run(fake, state, entities, SyncKind.FULL, NOW)
    assert first.status is RunStatus.SUCCEEDED
    assert contract_calls(fake) == 6  # every client is new
    # token, a page of each query (active, inactive modified in 90 days), 6 contract reads;
    # the Non-Member without a contract is skipped (the Non-Member rule)
    assert first.billing_requests == 9 and first.counts.skipped == 1
    people = {p.person_id: p for p in entities.people("studio-1")}
    member = people["mindbody-1"]
    assert member.kind is PersonKind.MEMBER and member.notes == "prefers mornings"
    assert member.photo_url == "https://photos.example.com/1.jpg"
    assert len(people) == 5

    fake.calls.clear()
    # The Non-Member changed lately: its contracts are read again while that is recent.
    next_night = run(fake, state, entities, SyncKind.FULL, NOW + timedelta(days=1))
    assert contract_calls(fake) == 1 and next_night.billing_requests == 4
    fake.calls.clear()
    nightly = run(fake, state, entities, SyncKind.FULL, NOW + timedelta(days=4))
    assert contract_calls(fake) == 0 and nightly.billing_requests == 3
    # The Non-Member is translated again (nothing of it is stored), now without a call.
    assert (nightly.counts.unchanged, nightly.counts.skipped) == (5, 1)

    # One client changes: one contract read.
    fake.lists["/client/clients"][2] = client_record(3, LastModifiedDateTime="2026-12-06T10:00:00Z")
    fake.calls.clear()
    partial = run(fake, state, entities, SyncKind.PARTIAL, NOW + timedelta(days=1, hours=8))
    asked = [
        c.url.params["request.uniqueClientId"]
        for c in fake.calls
        if c.url.path.endswith("/clientcontracts")
    ]
    assert asked == ["3"] and partial.billing_requests == 3
    day = NOW.date().isoformat()
    assert state.calls_on("mindbody#-99", day) == 9


def test_a_sync_past_the_budget_fails_with_the_reason_and_keeps_its_watermark() -> None:
    fake = site(5)
    state = StateRepository(MemoryItemTable("state"))
    entities = EntityRepository(MemoryItemTable("entities"))
    run(fake, state, entities, SyncKind.FULL, NOW)
    watermark = state.watermark("studio-1", "members")
    for i in range(1, 7):
        fake.lists["/client/clients"][i - 1]["LastModifiedDateTime"] = "2026-12-02T10:00:00Z"
    later = NOW + timedelta(hours=10)
    with pytest.raises(
        SyncFailed, match="12 calls a day, 9 spent on 2026-12-02 UTC before this run"
    ):
        run(fake, state, entities, SyncKind.PARTIAL, later, daily_call_budget=12)
    assert state.watermark("studio-1", "members") == watermark
    [failed] = [r for r in state.runs("studio-1") if r.status is RunStatus.FAILED]
    assert "the next run reads its window again" in failed.message
    assert failed.billing_requests == 3  # what was left of the day's 12 after the first 9
    assert state.calls_on("mindbody#-99", NOW.date().isoformat()) == 12
