"""Intake -> entities stream (moto) -> the real prospect_push handler -> the billing sandbox
over HTTP -> the outcome written back; replays create nothing new."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from types import ModuleType
from typing import Any

import boto3
import pytest

from clubsync.domain.people import ProspectPushState
from clubsync.domain.runs import RunStatus, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.engine.scheduled import SyncDependencies, run_scheduled_sync
from clubsync.features.prospect_intake import ProspectIntake, parse_form
from clubsync.features.prospect_stream import PROSPECT_RECORD_FILTER
from clubsync.resources.employees import employee_refs
from clubsync.runtime.local import (
    LOCAL_REGION,
    Repositories,
    sandbox_member_source,
    sandbox_sources,
)
from clubsync.runtime.local_streams import StreamPoller, load_function, streams_client
from clubsync.sandbox import BillingSandbox, Fault, FaultKind
from clubsync.store.prospects import ProspectStore
from clubsync.store.records import RecordRepository
from clubsync.store.tables import ENTITIES
from tests.integration.conftest import FULL_SYNC_AT

pytestmark = pytest.mark.enable_socket

FORM: dict[str, Any] = {
    "location_id": "springfield",
    "source": "dgw",
    "first_name": "Avery",
    "last_name": "Quinn",
    "email": "avery.quinn@example.org",
    "mobile_phone": "555-0101",
    "address_line1": "12 Elm St",
    "city": "Springfield",
    "state": "IL",
    "zip": "62701",
    "notes": "Wants a morning class",
    "guest_pass_start": "2026-11-20",
    "guest_pass_end": "2026-11-27",
}


@pytest.fixture
def handler(
    repos: Repositories, sandbox: BillingSandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    monkeypatch.setenv("CLUBSYNC_ABC_BASE_URL", sandbox.url)
    monkeypatch.setenv("CLUBSYNC_SANDBOX_CREDENTIALS", "1")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "prospect-push")
    module = load_function("prospect_push")
    module.reset()
    yield module
    module.reset()


@pytest.fixture
def poller(repos: Repositories, handler: ModuleType) -> StreamPoller:
    return StreamPoller(
        boto3.client("dynamodb", region_name=LOCAL_REGION),
        streams_client(region=LOCAL_REGION),
        ENTITIES.default_name,
        handler.lambda_handler,
        filter_pattern=PROSPECT_RECORD_FILTER,
        max_retries=2,
    )


@pytest.fixture
def store(repos: Repositories) -> ProspectStore:
    return ProspectStore(repos.entities.table, repos.state.table)


def add(repos: Repositories, **changes: Any) -> str:
    intake = ProspectIntake(repos.entities, repos.state)
    return intake.add(parse_form({**FORM, **changes})).person_id


def test_intake_to_billing_exactly_once(
    repos: Repositories, sandbox: BillingSandbox, poller: StreamPoller, store: ProspectStore
) -> None:
    person_id = add(repos)
    stats = poller.drain()
    assert stats.failed == 0

    (billed,) = sandbox.prospects("0451")
    assert billed["personal"]["firstName"] == "Avery"
    assert billed["personal"]["primaryPhone"] == billed["personal"]["mobilePhone"] == "555-0101"
    assert billed["agreement"]["issueDate"] == "2026-11-20"
    assert billed["note"] == {"text": "Wants a morning class"}

    person = store.get("springfield", person_id)
    assert person is not None and person.push is not None
    assert person.push.state is ProspectPushState.PUSHED
    assert person.billing_member_id == billed["memberId"]

    posts = [r for r in sandbox.requests if r[0] == "POST"]
    poller.rewind()  # replay the whole stream: intake, write-back, everything
    poller.drain()
    assert len(sandbox.prospects("0451")) == 1
    assert [r for r in sandbox.requests if r[0] == "POST"] == posts
    assert not any(r[0] == "PUT" for r in sandbox.requests)


def test_edit_is_a_put_and_a_later_note_is_not_pushed(
    repos: Repositories, sandbox: BillingSandbox, poller: StreamPoller, store: ProspectStore
) -> None:
    person_id = add(repos)
    poller.drain()
    person = store.get("springfield", person_id)
    assert person is not None
    repos.entities.save([person.model_copy(update={"notes": "Called back: not home"})])
    poller.drain()
    assert not any(r[0] == "PUT" for r in sandbox.requests)

    person = store.get("springfield", person_id)
    assert person is not None
    contact = person.contact.model_copy(update={"city": "Shelbyville"})
    repos.entities.save([person.model_copy(update={"contact": contact})])
    poller.drain()
    puts = [r for r in sandbox.requests if r[0] == "PUT"]
    assert len(puts) == 1 and puts[0][1].endswith(f"/prospects/{person.billing_member_id}")
    (billed,) = sandbox.prospects("0451")
    assert billed["personal"]["city"] == "Shelbyville"
    assert billed["note"] == {"text": "Wants a morning class"}


def test_rejection_is_recorded_and_not_retried(
    repos: Repositories, sandbox: BillingSandbox, poller: StreamPoller, store: ProspectStore
) -> None:
    sandbox.add_campaign("0451", "c-1", "Radio", "ADV")
    person_id = add(repos, marketing_source_id="c-1")
    poller.drain()
    person = store.get("springfield", person_id)
    assert person is not None and person.push is not None
    assert person.push.state is ProspectPushState.REJECTED
    assert "PON or PFA" in (person.push.reason or "")
    assert sandbox.prospects("0451") == []
    assert not any(r[0] == "POST" for r in sandbox.requests)


def test_billing_500_on_create_then_retry_creates_one(
    repos: Repositories,
    sandbox: BillingSandbox,
    poller: StreamPoller,
    store: ProspectStore,
    location: LocationSettings,
) -> None:
    sandbox.inject_fault(Fault(kind=FaultKind.SERVER_ERROR, resource="prospects"))
    person_id = add(repos)
    stats = poller.drain()
    assert stats.failed >= 1  # reported as a batch item failure, then retried
    assert len(sandbox.prospects("0451")) == 1
    person = store.get("springfield", person_id)
    assert person is not None and person.push is not None
    assert person.push.state is ProspectPushState.PUSHED


# -- the salesperson: employee sync, then the prospect, then the body billing received ---------
SAM: dict[str, Any] = {
    "personal": {"firstName": "Sam", "lastName": "Seller"},
    "contact": {"email": "sam.seller@example.org"},
    "employment": {
        "employeeStatus": "Active",
        "departments": {"department": [{"name": "Sales"}]},
        "commissionLevel": "2",
    },
}


def sync_employees(
    repos: Repositories, sandbox: BillingSandbox, location: LocationSettings, billing_id: str
) -> str:
    """Billing has Sam as employee `billing_id` of the location's club; the real employee sync
    pulls him over HTTP. Returns his CRM employee id."""
    sandbox.load_activity(location.club_number, "employees", [{"employeeId": billing_id, **SAM}])
    deps = SyncDependencies(
        entities=repos.entities,
        state=repos.state,
        member_source=sandbox_member_source(sandbox.url),
        sources=sandbox_sources(sandbox.url),
        clock=lambda: FULL_SYNC_AT.astimezone(UTC),
    )
    event = {
        "location": location.location_id,
        "kind": "full",
        "scheduled_time": FULL_SYNC_AT.isoformat(),
        "sync_type": SyncType.EMPLOYEES.value,
    }
    assert run_scheduled_sync(event, deps).status is RunStatus.SUCCEEDED
    refs = employee_refs(RecordRepository(repos.entities.table), location.location_id)
    return refs[billing_id]


def salespeople_sent(sandbox: BillingSandbox) -> list[str]:
    """agreement.salesPersonId of every prospect POST, as the sandbox received it."""
    return [
        body["prospects"][0]["prospect"]["agreement"]["salesPersonId"]
        for method, path, body in sandbox.request_bodies
        if method == "POST" and path.endswith("/prospects")
    ]


def test_the_follow_up_persons_billing_id_reaches_billing_as_the_salesperson(
    repos: Repositories,
    sandbox: BillingSandbox,
    poller: StreamPoller,
    store: ProspectStore,
    location: LocationSettings,
) -> None:
    sam = sync_employees(repos, sandbox, location, "0451-emp-sam")
    person_id = add(repos, follow_up_person_id=sam)
    assert poller.drain().failed == 0
    assert salespeople_sent(sandbox) == ["0451-emp-sam"]
    (billed,) = sandbox.prospects("0451")
    assert billed["agreement"]["salesPersonId"] == "0451-emp-sam"
    person = store.get("springfield", person_id)
    assert person is not None and person.push is not None
    assert person.push.state is ProspectPushState.PUSHED and person.push.warnings == []


def test_an_employee_of_an_unauthorized_location_is_resent_with_an_empty_salesperson(
    repos: Repositories,
    sandbox: BillingSandbox,
    poller: StreamPoller,
    store: ProspectStore,
    location: LocationSettings,
) -> None:
    # Sam works at Shelbyville only, and billing has not authorized Shelbyville for the
    # Springfield club where the prospect signs up.
    shelbyville = location.model_copy(update={"location_id": "shelbyville", "club_number": "0452"})
    repos.state.put_location(shelbyville)
    sandbox.add_club(shelbyville.club_number, shelbyville.time_zone)
    sam = sync_employees(repos, sandbox, shelbyville, "0452-emp-sam")
    sandbox.set_club_authorized("0451", "0452", False)
    person_id = add(repos, follow_up_person_id=sam)
    assert poller.drain().failed == 0
    assert salespeople_sent(sandbox) == ["0452-emp-sam", ""]  # refused, then re-sent empty
    (billed,) = sandbox.prospects("0451")
    assert billed["agreement"]["salesPersonId"] == ""
    person = store.get("springfield", person_id)
    assert person is not None and person.push is not None
    assert person.push.state is ProspectPushState.PUSHED
    assert person.billing_member_id == billed["memberId"]
    (warning,) = person.push.warnings
    assert "salesperson refused" in warning and "re-sent without one" in warning
    assert "not authorized for club 0451" in warning
