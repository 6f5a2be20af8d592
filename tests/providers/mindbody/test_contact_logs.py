"""Follow-up contacts as Mindbody contact logs, exactly once each (features/follow_up_push)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import httpx

from clubsync.domain.follow_up_schedule import Channel, Contact, FollowUpTrack, ScheduleKind
from clubsync.domain.people import FollowUpStatus, Person, PersonKind
from clubsync.features.follow_up_push import contact_log_entries, push_contact_logs
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository
from tests.providers.mindbody.fixtures import FakeMindbody, client_record
from tests.providers.mindbody.test_provider import connect

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def track() -> FollowUpTrack:
    status = next(iter(FollowUpStatus))
    return FollowUpTrack(
        person_id="p1",
        location_id="studio-1",
        schedule=next(iter(ScheduleKind)),
        status=status,
        entered_on=date(2026, 11, 20),
        contacts=(
            Contact(on=date(2026, 11, 21), channel=Channel.CALL, stage=1),
            Contact(on=date(2026, 11, 28), channel=Channel.TEXT, stage=2),
        ),
    )


def people() -> dict[str, Person]:
    return {
        "p1": Person(
            person_id="p1", location_id="studio-1", kind=PersonKind.MEMBER, billing_member_id="42"
        ),
        "p2": Person(person_id="p2", location_id="studio-1", kind=PersonKind.PROSPECT),
    }


def fake_with_logs(sent: list[dict[str, Any]]) -> FakeMindbody:
    fake = FakeMindbody()
    fake.add_list("/client/clients", "Clients", [client_record(42, Id="B42")])

    def add(request: httpx.Request) -> dict[str, Any]:
        body = json.loads(request.content)
        sent.append(body)
        return {"Id": 1000 + len(sent), "Text": body["Text"]}

    fake.objects["/client/addcontactlog"] = add
    fake.add_list(
        "/client/contactlogs",
        "ContactLogs",
        lambda params: [
            {"Id": 1000 + i + 1, "Comments": [{"Text": body["Comments"][0]}]}
            for i, body in enumerate(sent)
            if body["ClientId"] == params.get("request.clientId")
        ],
    )
    return fake


def test_each_contact_is_logged_once_and_replays_send_nothing() -> None:
    sent: list[dict[str, Any]] = []
    fake = fake_with_logs(sent)
    state = StateRepository(MemoryItemTable())
    entries = contact_log_entries([track()], people())
    target = connect(fake).contact_log_target()
    first = push_contact_logs("studio-1", entries, target, state, NOW)
    again = push_contact_logs("studio-1", entries, target, state, NOW)
    assert len(first.sent) == 2 and again.already == 2 and not again.sent
    assert [b["ContactMethod"] for b in sent] == ["Call", "Text"]
    assert {b["ClientId"] for b in sent} == {"B42"}  # Mindbody names the client by its Id
    assert fake.paths().count("/client/clients") == 1  # the Id read once per target


def test_an_unknown_outcome_is_found_in_billing_instead_of_sent_twice() -> None:
    sent: list[dict[str, Any]] = []
    fake = fake_with_logs(sent)
    state = StateRepository(MemoryItemTable())
    [entry, _] = contact_log_entries([track()], people())

    # Mindbody records the log, then the answer is lost (a 500 after the write).
    original = fake.objects["/client/addcontactlog"]

    def applied_then_500(request: httpx.Request) -> dict[str, Any]:
        original(request)
        raise RuntimeError("answer lost")

    fake.objects["/client/addcontactlog"] = applied_then_500
    handler = fake.handler

    def lossy(request: httpx.Request) -> httpx.Response:
        try:
            return handler(request)
        except RuntimeError:
            return httpx.Response(500)

    fake.handler = lossy  # type: ignore[method-assign]
    target = connect(fake).contact_log_target()
    lost = push_contact_logs("studio-1", [entry], target, state, NOW)
    assert entry.key in lost.pending and len(sent) == 1
    fake.objects["/client/addcontactlog"] = original
    retried = push_contact_logs("studio-1", [entry], connect(fake).contact_log_target(), state, NOW)
    assert retried.found == [entry.key] and len(sent) == 1
    push = state.contact_log_push("studio-1", entry.key)
    assert push is not None and push["state"] == "sent" and push["billing_id"] == "1001"
