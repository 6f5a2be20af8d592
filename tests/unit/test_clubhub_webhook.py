"""The Club Hub webhook receiver: signature over timestamp and body, stale and replayed
deliveries, malformed bodies, redelivery, the article."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clubsync.domain.settings import LocationSettings
from clubsync.providers.clubhub.webhook import (
    ClubHubWebhook,
    handle_webhook_event,
    sign,
    signed_headers,
)
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository
from tests.unit.clubhub_helpers import CLUBHUB_LOCATION

SECRET = b"webhook-secret-for-tests"  # a test value, not a credential
NOW = datetime(2022, 1, 3, 15, 0, tzinfo=UTC)
STAMP = int(NOW.timestamp())


def delivery(
    delivery_id: str,
    account: str,
    membership: str | None,
    *,
    pending: bool = False,
    sold: str = "2022-01-01",
    **member: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "delivery_id": delivery_id,
        "event": "membership.updated" if membership else "member.updated",
        "club_id": "0451",
        "occurred_at": "2022-01-03T15:00:00Z",
        "member": {
            "member_id": account,
            "first_name": "Mary",
            "last_name": "Member",
            "email": "mary@example.org",
            "mobile_phone": "(555) 010-0111",
            **member,
        },
    }
    if membership:
        body["membership"] = {"membership_id": membership, "pending": pending, "sale_date": sold}
    return body


def url_event(
    body: bytes, signature: str | None, *, b64: bool = False, timestamp: int | None = STAMP
) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["X-ClubHub-Signature"] = signature
    if timestamp is not None:
        headers["X-ClubHub-Timestamp"] = str(timestamp)
    return {
        "version": "2.0",
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": "/"}},
        "body": base64.b64encode(body).decode() if b64 else body.decode(),
        "isBase64Encoded": b64,
    }


@pytest.fixture
def settings() -> LocationSettings:
    """The webhook serves Club Hub's locations only."""
    return CLUBHUB_LOCATION


@pytest.fixture
def webhook(entities: EntityRepository, state: StateRepository) -> ClubHubWebhook:
    return ClubHubWebhook(entities, state, SECRET, clock=lambda: NOW)


def post(
    webhook: ClubHubWebhook, body: dict[str, Any], *, b64: bool = False, at: datetime = NOW
) -> dict[str, Any]:
    """`body` as Club Hub sends it at `at` (signed with the time it is sent)."""
    raw = json.dumps(body).encode()
    stamp = int(at.timestamp())
    return handle_webhook_event(
        url_event(raw, sign(SECRET, raw, stamp), b64=b64, timestamp=stamp), webhook
    )


def test_a_signed_delivery_creates_the_member_and_the_pending_membership(
    webhook: ClubHubWebhook, entities: EntityRepository
) -> None:
    response = post(webhook, delivery("d1", "A", "456", pending=True), b64=True)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "added"
    (agreement,) = entities.agreements("springfield")
    assert (agreement.system_id, agreement.billing_status) == ("456", "pending")
    (person,) = entities.people("springfield")
    assert person.billing_member_id == "A"
    assert person.current_agreement_key == "456#2022-01-01"


@pytest.mark.parametrize(
    "signature", [None, "", "sha256=" + "0" * 64, sign(b"another secret", b"{}", STAMP)]
)
def test_a_bad_signature_is_401_and_changes_nothing(
    webhook: ClubHubWebhook, entity_table: MemoryItemTable, signature: str | None
) -> None:
    raw = json.dumps(delivery("d1", "A", "123")).encode()
    response = handle_webhook_event(url_event(raw, signature), webhook)
    assert response["statusCode"] == 401
    assert entity_table.all_items() == []


def test_a_signature_over_other_bytes_is_refused(
    webhook: ClubHubWebhook, entity_table: MemoryItemTable
) -> None:
    raw = json.dumps(delivery("d1", "A", "123")).encode()
    tampered = raw.replace(b"123", b"999")
    assert (
        handle_webhook_event(url_event(tampered, sign(SECRET, raw, STAMP)), webhook)["statusCode"]
        == 401
    )
    assert entity_table.all_items() == []


def test_the_timestamp_is_signed_with_the_body(
    webhook: ClubHubWebhook, entity_table: MemoryItemTable
) -> None:
    """A captured signature cannot be sent with a fresher timestamp: the signature is over
    `<timestamp>.<body>`, and a body signature alone (the old scheme) is refused."""
    raw = json.dumps(delivery("d1", "A", "123")).encode()
    captured = sign(SECRET, raw, STAMP - 3600)
    for signature, stamp in ((captured, STAMP), (sign(SECRET, b"." + raw, 0), None)):
        response = handle_webhook_event(url_event(raw, signature, timestamp=stamp), webhook)
        assert response["statusCode"] == 401, response
    unstamped = url_event(raw, sign(SECRET, raw, STAMP), timestamp=None)
    missing = handle_webhook_event(unstamped, webhook)
    assert "X-ClubHub-Timestamp" in json.loads(missing["body"])["error"]
    assert entity_table.all_items() == []


@pytest.mark.parametrize(
    ("offset", "status"),
    [(-301, 401), (-300, 200), (0, 200), (300, 200), (301, 401), (-86400 * 31, 401)],
)
def test_a_delivery_signed_outside_the_window_is_refused(
    webhook: ClubHubWebhook, entity_table: MemoryItemTable, offset: int, status: int
) -> None:
    """A captured delivery replayed later (even after its delivery id expired) carries its old
    signed timestamp: outside 5 minutes of our clock it is refused before anything is read."""
    response = post(webhook, delivery("d1", "A", "123"), at=NOW + timedelta(seconds=offset))
    assert response["statusCode"] == status, response
    if status == 401:
        assert "window" in json.loads(response["body"])["error"]
        assert entity_table.all_items() == []


def test_the_window_is_configurable(
    entities: EntityRepository, state: StateRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clubsync.providers.clubhub.signing import tolerance_seconds

    monkeypatch.setenv("CLUBSYNC_CLUBHUB_TIMESTAMP_TOLERANCE_SECONDS", "900")
    assert tolerance_seconds() == 900
    for bad in ("", "0", "-5", "ten", "²"):
        monkeypatch.setenv("CLUBSYNC_CLUBHUB_TIMESTAMP_TOLERANCE_SECONDS", bad)
        assert tolerance_seconds() == 300  # a typo never opens the window
    wide = ClubHubWebhook(entities, state, SECRET, clock=lambda: NOW, tolerance=900)
    assert (
        post(wide, delivery("d1", "A", "123"), at=NOW - timedelta(minutes=14))["statusCode"] == 200
    )


def test_an_event_older_than_the_delivery_id_memory_is_refused(
    webhook: ClubHubWebhook, entity_table: MemoryItemTable
) -> None:
    """Freshly signed, new delivery id, but occurred two years ago: its id could have been
    forgotten (30 days), so it cannot be told from a replay and is not applied."""
    old = {**delivery("new-id", "A", "123"), "occurred_at": "2020-01-03T15:00:00Z"}
    response = post(webhook, old)
    assert response["statusCode"] == 422
    answer = json.loads(response["body"])
    assert answer["fields"] == ["occurred_at"] and "clubsync clubhub pull" in answer["error"]
    assert entity_table.all_items() == []
    # 29 days old (and an offset-less time, read as UTC) is still applied.
    recent = {**delivery("d2", "A", "123"), "occurred_at": "2021-12-06T15:00:00"}
    assert post(webhook, recent)["statusCode"] == 200


def test_the_sandbox_signs_what_the_webhook_accepts(webhook: ClubHubWebhook) -> None:
    from clubsync.providers.clubhub.wire import ClubHubMember
    from clubsync.sandbox.clubhub import ClubHubSandbox

    sandbox = ClubHubSandbox("0451")
    sandbox.add_account(ClubHubMember(member_id="A", first_name="Mary", last_name="Member"))
    sandbox.sell_pending("A", "456", NOW.date())
    ((body, headers),) = sandbox.signed_deliveries(SECRET, NOW)
    assert headers == signed_headers(SECRET, body, NOW)
    assert webhook.handle(body, headers).status == 200
    assert webhook.handle(body, signed_headers(b"wrong", body, NOW)).status == 401


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"not json", 400, None),
        (b"[1, 2]", 400, None),
        (b"[" * 100_000 + b"]" * 100_000, 400, None),  # RecursionError inside json
        (json.dumps({"a": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}).encode(), 400, None),
        (json.dumps({**delivery("d1", "A", "123"), "club_id": ""}).encode(), 422, "club_id"),
        (
            json.dumps(
                {**delivery("d1", "A", "123"), "membership": {"membership_id": "1", "pending": 1}}
            ).encode(),
            422,
            "membership.sale_date",
        ),
        (
            json.dumps({**delivery("d1", "A", None), "event": "membership.updated"}).encode(),
            422,
            "body",
        ),
        (json.dumps({**delivery("d1", "A", "123"), "club_id": "9999"}).encode(), 422, None),
    ],
)
def test_a_malformed_body_is_4xx_naming_the_field_and_changes_nothing(
    webhook: ClubHubWebhook,
    entity_table: MemoryItemTable,
    body: bytes,
    status: int,
    field: str | None,
) -> None:
    response = handle_webhook_event(url_event(body, sign(SECRET, body, STAMP)), webhook)
    assert response["statusCode"] == status
    answer = json.loads(response["body"])
    if field is not None and field != "body":
        assert field in answer["fields"]
    assert entity_table.all_items() == []


def test_an_oversized_body_is_413_before_its_signature_is_computed(
    webhook: ClubHubWebhook,
) -> None:
    raw = b" " * (256 * 1024 + 1)
    for b64 in (False, True):
        response = handle_webhook_event(url_event(raw, "sha256=x", b64=b64), webhook)
        assert response["statusCode"] == 413
    assert webhook.handle(raw, {}).status == 413


def test_redelivery_is_acknowledged_and_applies_nothing(
    webhook: ClubHubWebhook, entity_table: MemoryItemTable
) -> None:
    body = delivery("d1", "A", "123")
    assert post(webhook, body)["statusCode"] == 200
    written = entity_table.usage.items_written
    again = post(webhook, body)
    assert again["statusCode"] == 200
    assert json.loads(again["body"])["status"] == "duplicate"
    assert entity_table.usage.items_written == written


def test_the_article_timeline_over_the_webhook(
    webhook: ClubHubWebhook, entities: EntityRepository, state_table: MemoryItemTable
) -> None:
    """Two active Club Hub accounts of Mary (A sold real 123, B still shows pending 456),
    delivered alternately many times under new delivery ids (full pulls, re-sends)."""
    for cycle in range(4):
        post(webhook, delivery(f"a{cycle}", "A", "123"))
        post(webhook, delivery(f"b{cycle}", "B", "456", pending=True))
    agreements = [a for a in entities.agreements("springfield") if not a.archived]
    assert [a.system_id for a in agreements] == ["123"]
    (mary,) = entities.people("springfield")
    # The pending 456 is kept, archived: out of reports, and its replays write nothing.
    assert mary.agreement_keys == ["123#2022-01-01", "456#2022-01-01"]
    assert mary.current_agreement_key == "123#2022-01-01"
    findings = [i for i in state_table.all_items() if i["sk"].startswith("FINDING#")]
    assert findings and all(f["accounts"] == ["A", "B"] for f in findings)


def test_a_real_membership_replaces_its_pending_one_over_the_webhook(
    webhook: ClubHubWebhook, entities: EntityRepository
) -> None:
    post(webhook, delivery("d1", "A", "456", pending=True))
    post(webhook, delivery("d2", "A", "123", sold="2022-01-09"))
    post(webhook, delivery("d3", "A", "456", pending=True))  # a late copy of the pending one
    assert [a.system_id for a in entities.agreements("springfield") if not a.archived] == ["123"]


def test_a_prospect_matched_by_name_and_email_becomes_the_member(
    webhook: ClubHubWebhook, entities: EntityRepository
) -> None:
    from clubsync.domain.people import ContactData, Person, PersonKind

    entities.save(
        [
            Person(
                person_id="crm-1",
                location_id="springfield",
                kind=PersonKind.PROSPECT,
                contact=ContactData(
                    first_name="MARY ", last_name="member", email="Mary@Example.org"
                ),
            )
        ]
    )
    post(webhook, delivery("d1", "A", "456", pending=True))
    (person,) = entities.people("springfield")
    assert (person.person_id, person.kind, person.billing_member_id) == (
        "crm-1",
        PersonKind.MEMBER,
        "A",
    )


def test_a_member_update_fills_blank_contact_fields_and_repeats_write_nothing(
    webhook: ClubHubWebhook, entities: EntityRepository, entity_table: MemoryItemTable
) -> None:
    post(webhook, delivery("d1", "A", None, mobile_phone=None))
    post(webhook, delivery("d2", "A", None, mobile_phone="555 010 0199"))
    (person,) = entities.people("springfield")
    assert person.contact.mobile_phone == "555 010 0199"
    written = entity_table.usage.items_written
    post(webhook, delivery("d3", "A", None, mobile_phone="555 010 0199"))
    assert entity_table.usage.items_written == written


def test_an_abc_club_with_the_same_number_is_not_a_club_hub_location(
    entities: EntityRepository, state_table: Any
) -> None:
    """Club numbers and Club Hub club ids are different spaces: an ABC club 0451 takes no
    Club Hub delivery for club 0451."""
    abc_only = StateRepository(state_table)
    for stored in abc_only.locations():
        abc_only.delete_location(stored.location_id)
    abc_only.put_location(
        LocationSettings(location_id="abc-0451", club_number="0451", time_zone="America/Chicago")
    )
    webhook = ClubHubWebhook(entities, abc_only, SECRET, clock=lambda: NOW)
    response = post(webhook, delivery("d1", "A", "456", pending=True))
    assert response["statusCode"] == 422
    assert entities.people("abc-0451") == []
