"""The Mindbody webhook receiver: its signature, the refusals of the gate, and deliveries
applied through the engine with the nightly pull's merge (billing over httpx.MockTransport,
in-memory stores)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from clubsync.domain.people import PersonKind
from clubsync.domain.runs import SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.features.public_url import lowered_headers
from clubsync.providers.mindbody.gate import MAX_BODY_BYTES, mindbody_refusal
from clubsync.providers.mindbody.signing import sign, signature_problem
from clubsync.providers.mindbody.webhook import (
    MindbodyWebhook,
    handle_webhook_event,
    signed_headers,
)
from clubsync.providers.registry import connect_location
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository
from tests.providers.mindbody.fixtures import BASE, FakeMindbody, client_record, contract_record

KEY = b"subscription-key-for-tests"  # a test value, not a credential
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
SECRET = {"api_key": "key-generated", "username": "staff.generated", "password": "pw-generated"}


def location(
    location_id: str = "studio-1", site_id: str = "-99", **fields: Any
) -> LocationSettings:
    return LocationSettings.model_validate(
        {
            "location_id": location_id,
            "provider": "mindbody",
            "account": {"site_id": site_id, "daily_call_budget": 50},
            "time_zone": "America/New_York",
            "billing_secret_name": f"mindbody/{location_id}",
            **fields,
        }
    )


def delivery(message_id: str, event_id: str = "client.updated", **data: Any) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "eventId": event_id,
        "eventSchemaVersion": 1,
        "eventInstanceOriginationDateTime": "2026-12-02T14:59:58Z",
        "eventData": {"siteId": -99, "clientId": "B7", "clientUniqueId": 7, **data},
    }


def site_with(*clients: dict[str, Any], contracts: list[dict[str, Any]] | None = None) -> Any:
    fake = FakeMindbody()
    by_unique = {str(c["UniqueId"]): c for c in clients}
    fake.add_list(
        "/client/clients",
        "Clients",
        lambda params: (
            [by_unique[params["request.uniqueIds"]]]
            if params.get("request.uniqueIds") in by_unique
            else []
        ),
    )
    fake.add_list("/client/clientcontracts", "Contracts", contracts or [])
    return fake


class Site:
    """A webhook over in-memory stores and a fake Mindbody site."""

    def __init__(self, fake: FakeMindbody, *locations: LocationSettings) -> None:
        self.fake = fake
        self.state = StateRepository(MemoryItemTable("state"))
        self.entity_table = MemoryItemTable("entities")
        self.entities = EntityRepository(self.entity_table)
        for settings in locations or (location(),):
            self.state.put_location(settings)
        self.webhook = MindbodyWebhook(
            self.entities, self.state, KEY, connect=self.connect, clock=lambda: NOW
        )

    def connect(self, settings: LocationSettings) -> Any:
        return connect_location(
            settings,
            lambda _: SECRET,
            client_options={"mindbody": {"base_url": BASE, "max_attempts": 1}},
            transport=self.fake.transport(),
            call_ledger=self.state,
            clock=lambda: NOW,
        )

    def post(self, body: dict[str, Any]) -> Any:
        raw = json.dumps(body).encode()
        return self.webhook.handle(raw, signed_headers(KEY, raw))


def url_event(body: bytes, headers: dict[str, str], method: str = "POST") -> dict[str, Any]:
    return {
        "headers": {k.lower(): v for k, v in headers.items()},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
        "requestContext": {"http": {"method": method}},
    }


# -- the signature ------------------------------------------------------------------------------
def test_the_signature_is_sha256_and_the_base64_hmac_of_the_raw_body() -> None:
    body = b'{"messageId":"m-1"}'
    expected = base64.b64encode(hmac.new(KEY, body, hashlib.sha256).digest()).decode()
    assert sign(KEY, body) == "sha256=" + expected
    assert signature_problem(KEY, body, {"x-mindbody-signature": sign(KEY, body)}) is None


def test_a_missing_or_wrong_signature_says_what_to_fix() -> None:
    body = b'{"messageId":"m-1"}'
    missing = signature_problem(KEY, body, {})
    assert missing == "missing X-Mindbody-Signature header"
    wrong = signature_problem(b"another-key", body, {"x-mindbody-signature": sign(KEY, body)})
    assert wrong is not None and "messageSignatureKey" in wrong
    changed = signature_problem(KEY, body + b" ", {"x-mindbody-signature": sign(KEY, body)})
    assert changed is not None and changed.startswith("invalid signature")


def test_no_configured_key_authenticates_nobody() -> None:
    body = b"{}"
    problem = signature_problem(b"", body, {"x-mindbody-signature": sign(b"", body)})
    assert problem is not None and "no signature key" in problem


def test_the_gate_refuses_method_size_and_signature() -> None:
    body = json.dumps(delivery("m-1")).encode()
    good = signed_headers(KEY, body)
    assert mindbody_refusal(url_event(body, good), KEY) is None
    wrong_method = mindbody_refusal(url_event(body, good, method="GET"), KEY)
    assert wrong_method is not None and wrong_method.status == 405
    big = b"{" + b" " * MAX_BODY_BYTES + b"}"
    oversize = mindbody_refusal(url_event(big, signed_headers(KEY, big)), KEY)
    assert oversize is not None and oversize.status == 413
    unsigned = mindbody_refusal(url_event(body, {}), KEY)
    assert unsigned is not None and unsigned.status == 401 and unsigned.unauthorized
    assert "x-mindbody-signature" in lowered_headers(url_event(body, good))


# -- deliveries ---------------------------------------------------------------------------------
def test_a_client_event_reads_the_client_and_its_contracts_and_merges_it() -> None:
    fake = site_with(client_record(7), contracts=[contract_record(70)])
    site = Site(fake)
    result = site.post(delivery("m-1"))
    assert result.status == 200 and result.body["status"] == "created"
    # A staff token, the client, its contracts: counted against the site's daily budget.
    assert fake.paths() == ["/usertoken/issue", "/client/clients", "/client/clientcontracts"]
    assert site.state.calls_on("mindbody#-99", NOW.date().isoformat()) == 3
    person = {p.person_id: p for p in site.entities.people("studio-1")}["mindbody-7"]
    assert person.kind is PersonKind.MEMBER
    assert person.current_agreement_key is not None
    runs = site.state.runs("studio-1", SyncType.MEMBERS)
    assert [run.kind for run in runs] == [SyncKind.PUSH]


def test_a_redelivered_message_reads_and_writes_nothing() -> None:
    fake = site_with(client_record(7), contracts=[contract_record(70)])
    site = Site(fake)
    assert site.post(delivery("m-1")).status == 200
    calls = len(fake.calls)
    writes = site.entity_table.usage.items_written
    again = site.post(delivery("m-1"))
    assert again.status == 200 and again.body["status"] == "duplicate"
    assert len(fake.calls) == calls and site.entity_table.usage.items_written == writes


def test_a_new_event_for_an_unchanged_client_writes_no_entity() -> None:
    fake = site_with(client_record(7), contracts=[contract_record(70)])
    site = Site(fake)
    site.post(delivery("m-1"))
    writes = site.entity_table.usage.items_written
    second = site.post(delivery("m-2", "clientContract.updated"))
    assert second.status == 200 and second.body["status"] == "unchanged"
    assert site.entity_table.usage.items_written == writes


def test_unknown_event_types_are_answered_200_and_ignored() -> None:
    fake = site_with(client_record(7))
    site = Site(fake)
    result = site.post(delivery("m-1", "classRosterBooking.created"))
    assert result.status == 200 and result.body == {
        "status": "ignored",
        "event": "classRosterBooking.created",
    }
    assert fake.calls == [] and site.entities.people("studio-1") == []


def test_only_mindbody_locations_are_matched_by_site() -> None:
    abc = LocationSettings.model_validate(
        {
            "location_id": "club-99",
            "provider": "abc",
            "account": {"club_number": "99"},
            "time_zone": "America/New_York",
        }
    )
    site = Site(site_with(client_record(7)), abc)
    result = site.post(delivery("m-1", siteId=99))
    assert result.status == 422 and "registered Mindbody location" in result.body["error"]


def test_billing_unreadable_answers_503_and_records_nothing() -> None:
    fake = site_with(client_record(7))
    fake.faults["/client/clients"] = [httpx.Response(503)]
    site = Site(fake)
    failed = site.post(delivery("m-1"))
    assert failed.status == 503 and "Mindbody could not be read" in failed.body["error"]
    # Not recorded: the redelivery reads and applies it.
    retried = site.post(delivery("m-1"))
    assert retried.status == 200 and retried.body["status"] == "created"


def test_a_spent_call_budget_answers_503() -> None:
    fake = site_with(client_record(7))
    site = Site(fake)
    site.state.add_calls("mindbody#-99", NOW.date().isoformat(), 50)
    result = site.post(delivery("m-1"))
    assert result.status == 503 and "call budget" in result.body["error"]
    assert fake.calls == []


def test_a_client_mindbody_no_longer_has_is_answered_and_remembered() -> None:
    site = Site(site_with())
    result = site.post(delivery("m-1"))
    assert result.status == 200 and result.body["status"] == "client_not_found"
    assert site.post(delivery("m-1")).body["status"] == "duplicate"


def test_a_held_lease_answers_503_and_records_nothing() -> None:
    site = Site(site_with(client_record(7)))
    site.state.acquire_lease("studio-1", SyncType.MEMBERS, "pull-run", NOW, timedelta(minutes=10))
    result = site.post(delivery("m-1"))
    assert result.status == 503 and "redeliver later" in result.body["error"]
    assert site.entities.people("studio-1") == []
    site.state.release_lease("studio-1", SyncType.MEMBERS, "pull-run")
    assert site.post(delivery("m-1")).body["status"] == "created"


def test_bad_bodies_fail_with_the_field_named() -> None:
    site = Site(site_with(client_record(7)))
    no_id = delivery("m-1")
    del no_id["messageId"]
    result = site.post(no_id)
    assert result.status == 422 and result.body["fields"] == ["messageId"]
    nobody = site.post(delivery("m-2", clientUniqueId=None, clientId=None))
    assert nobody.status == 422 and "names no client" in nobody.body["error"]
    raw = b"not json"
    assert site.webhook.handle(raw, signed_headers(KEY, raw)).status == 400


def test_the_function_url_event_is_checked_then_applied() -> None:
    site = Site(site_with(client_record(7), contracts=[contract_record(70)]))
    body = json.dumps(delivery("m-1")).encode()
    answer = handle_webhook_event(url_event(body, signed_headers(KEY, body)), site.webhook)
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["status"] == "created"
    refused = handle_webhook_event(url_event(body, {}), site.webhook)
    assert refused["statusCode"] == 401


def test_every_location_of_the_site_gets_the_client_from_one_read() -> None:
    fake = site_with(client_record(7), contracts=[contract_record(70)])
    site = Site(fake, location("studio-1"), location("studio-2"))
    result = site.post(delivery("m-1"))
    assert result.status == 200 and result.body["status"] == "created"
    assert fake.paths().count("/client/clients") == 1
    for location_id in ("studio-1", "studio-2"):
        assert [p.person_id for p in site.entities.people(location_id)] == ["mindbody-7"]
