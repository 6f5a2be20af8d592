"""The Club Hub webhook receiver: authenticate, parse, apply one delivery, idempotently.

The Lambda handler (functions/clubhub_webhook/handler.py) only turns the function URL event into
`(raw body, headers)` and the result into an HTTP response. Order of checks, each answering
before anything is read or written:

1. signature: HMAC-SHA256 of the raw body with the shared secret, hex, in the
   `X-ClubHub-Signature` header as `sha256=<hex>`, compared in constant time -> 401;
2. JSON and shape (providers/clubhub/wire.py) -> 400 (not JSON) / 422 (naming the field);
3. the club must be a registered location -> 422;
4. a delivery id already recorded -> 200 "duplicate", nothing applied.

Applying is itself replay-safe (sync/clubhub_memberships.py), so the delivery record is written
*after* the change: a crash in between means a redelivery applies again and writes nothing,
never a lost delivery.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from clubsync.domain.match_keys import email_key, name_key, phone_keys
from clubsync.domain.people import ContactData, FollowUpStatus, Person, PersonKind
from clubsync.domain.rules import agreement_key, merge_contact
from clubsync.domain.settings import LocationSettings
from clubsync.providers.clubhub.mapping import PROVIDER, contact_of, observation_of
from clubsync.providers.clubhub.wire import ClubHubDelivery, ClubHubMember
from clubsync.store.audit import FINDING_PREFIX
from clubsync.store.entities import (
    EntityRepository,
    PersonIndexEntry,
    agreement_to_item,
    location_pk,
    person_to_item,
)
from clubsync.store.items import ConditionFailed, Item
from clubsync.store.state import StateRepository
from clubsync.sync.clubhub_memberships import (
    DuplicateAccountsFinding,
    MembershipChange,
    apply_membership,
)
from clubsync.sync.matching import MatchIndex
from clubsync.sync.member_merge import person_id_for_billing_member

SIGNATURE_HEADER = "x-clubhub-signature"
SIGNATURE_PREFIX = "sha256="
# Club Hub redelivers for a while after a failure; a month of delivery ids is plenty and the
# TTL keeps the state table from growing with every push.
DELIVERY_RETENTION = timedelta(days=30)
MAX_BODY_BYTES = 256 * 1024


def sign(secret: bytes, body: bytes) -> str:
    """The header value Club Hub sends (and tests and the sandbox produce)."""
    return SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    # compare_digest: the time taken does not tell an attacker how many characters matched.
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


@dataclass(frozen=True)
class WebhookResult:
    status: int
    body: dict[str, Any]


def _delivery_key(location_id: str, delivery_id: str) -> tuple[str, str]:
    return (location_pk(location_id), f"CLUBHUB#DELIVERY#{delivery_id}")


def finding_item(location_id: str, finding: DuplicateAccountsFinding, now: datetime) -> Item:
    """A duplicate-accounts finding in the state table, one per membership + sale date, read by
    the duplicate report (sync/duplicates.py). Ids only: no personal data."""
    subject = (
        f"MEMBERSHIP#{finding.membership_id}#{finding.sale_date.isoformat()}"
        if finding.membership_id
        else f"ACCOUNTS#{'+'.join(finding.accounts)}"
    )
    return {
        "pk": location_pk(location_id),
        "sk": f"{FINDING_PREFIX}{PROVIDER}#{subject}",
        "provider": PROVIDER,
        "membership_id": finding.membership_id,
        "sale_date": finding.sale_date.isoformat(),
        "accounts": list(finding.accounts),
        "person_ids": list(finding.person_ids),
        "reason": finding.reason,
        "seen_at": now.isoformat(),
    }


def _field_errors(error: ValidationError) -> list[str]:
    # Field paths only: values may be personal data and reasons reach logs.
    return sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()})


@dataclass
class ClubHubWebhook:
    entities: EntityRepository
    state: StateRepository
    secret: bytes
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def handle(self, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
        lowered = {name.lower(): value for name, value in headers.items()}
        if not signature_ok(self.secret, body, lowered.get(SIGNATURE_HEADER)):
            return WebhookResult(401, {"error": "missing or invalid signature"})
        if len(body) > MAX_BODY_BYTES:
            return WebhookResult(413, {"error": "body too large"})
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return WebhookResult(400, {"error": "body is not JSON"})
        if not isinstance(data, dict):
            return WebhookResult(400, {"error": "body is not a JSON object"})
        try:
            delivery = ClubHubDelivery.model_validate(data)
        except ValidationError as error:
            fields = _field_errors(error)
            return WebhookResult(
                422, {"error": f"invalid fields: {', '.join(fields)}", "fields": fields}
            )
        settings = self._location(delivery.club_id)
        if settings is None:
            return WebhookResult(422, {"error": "club_id is not a registered location"})
        delivery_key = _delivery_key(settings.location_id, delivery.delivery_id)
        if self.state.table.get(delivery_key) is not None:
            return WebhookResult(200, {"status": "duplicate", "delivery_id": delivery.delivery_id})
        outcome = self.apply(delivery, settings)
        now = self.clock()
        # A concurrent redelivery may record it first; applying twice wrote nothing new.
        with contextlib.suppress(ConditionFailed):
            self.state.table.put_expecting(
                {
                    "pk": delivery_key[0],
                    "sk": delivery_key[1],
                    "received_at": now.isoformat(),
                    "outcome": outcome,
                    "expires_at": int((now + DELIVERY_RETENTION).timestamp()),
                },
                {"pk": None},
            )
        return WebhookResult(200, {"status": outcome, "delivery_id": delivery.delivery_id})

    def _location(self, club_id: str) -> LocationSettings | None:
        for settings in self.state.locations():
            if settings.club_number == club_id:
                return settings
        return None

    # -- applying ----------------------------------------------------------------------------
    def apply(self, delivery: ClubHubDelivery, settings: LocationSettings) -> str:
        """Applies one delivery (also what a full pull and the scenarios call); returns the
        outcome name."""
        now = self.clock()
        person, finding, created = self._person(delivery.member, settings, now)
        if delivery.membership is None:
            self._write(settings, person if created else None, None)
            return "member_created" if created else "member_seen"
        observation = observation_of(delivery.member, delivery.membership)
        key = agreement_key(observation.membership_id, observation.sale_date)
        own = self.entities.get_agreements(settings.location_id, person.agreement_keys)
        holder = self.entities.get_agreements(settings.location_id, [key]).get(key)
        change = apply_membership(person, own, observation, holder=holder)
        if person.kind is PersonKind.PROSPECT and change.puts:
            change = _converted(change, now)
        self._write(settings, change.person if (change.person_changed or created) else None, change)
        findings = [f for f in (finding, change.finding) if f is not None]
        if findings:
            self.state.table.batch_write(
                [finding_item(settings.location_id, f, now) for f in findings]
            )
        return change.outcome.value

    def _write(
        self, settings: LocationSettings, person: Person | None, change: MembershipChange | None
    ) -> None:
        puts: list[Item] = []
        if person is not None:
            puts.append(person_to_item(person, settings.country))
        if change is not None:
            puts.extend(agreement_to_item(a) for a in change.puts)
        self.entities.table.batch_write(puts)

    def _person(
        self, member: ClubHubMember, settings: LocationSettings, now: datetime
    ) -> tuple[Person, DuplicateAccountsFinding | None, bool]:
        # The bool: the person must be written (new, or newly linked / changed).
        """The CRM person of a Club Hub account: by id, then by identical name + email or
        phone (docs/matching.md); an account matching a person already linked to *another*
        Club Hub account joins that person (as the article describes Club OS doing) and is a
        duplicate-accounts finding. Returns (person, finding, changed)."""
        location_id = settings.location_id
        own_id = person_id_for_billing_member(PROVIDER, member.member_id)
        contact = contact_of(member)
        direct = self.entities.get_people(location_id, [own_id]).get(own_id)
        if direct is not None:
            # Contact data follows the location's record owner, as in the member sync.
            updated = direct.model_copy(
                update={"contact": merge_contact(direct.contact, contact, settings.record_owner)}
            )
            return updated, None, updated != direct
        entries = self.entities.person_index(location_id, settings.country)
        index = MatchIndex(entries, settings.country)
        match = index.find(member.member_id, contact)
        if match is not None:
            found = self.entities.get_people(location_id, [match.person_id])[match.person_id]
            linked = found.model_copy(
                update={
                    "billing_member_id": found.billing_member_id or member.member_id,
                    "contact": merge_contact(found.contact, contact, settings.record_owner),
                }
            )
            return linked, None, linked != found
        other = _linked_match(entries, contact, settings.country)
        if other is not None:
            found = self.entities.get_people(location_id, [other.person_id])[other.person_id]
            finding = DuplicateAccountsFinding(
                membership_id="",
                sale_date=now.date(),
                accounts=tuple(sorted({member.member_id, other.billing_member_id or ""})),
                person_ids=(found.person_id,),
            )
            return found, finding, False
        created = Person(
            person_id=own_id,
            location_id=location_id,
            kind=PersonKind.MEMBER,
            follow_up_status=FollowUpStatus.NEW_MEMBER,
            contact=contact,
            is_active=member.is_active,
            billing_member_id=member.member_id,
            created_from_billing=True,
            created_at=now,
        )
        return created, None, True


def _linked_match(
    entries: list[PersonIndexEntry], contact: ContactData, region: str
) -> PersonIndexEntry | None:
    """A person linked to another billing account with the same name and email or phone."""
    name = name_key(contact.first_name, contact.last_name)
    if name is None:
        return None
    email = email_key(contact.email)
    phones = set(phone_keys(contact, region))
    candidates = [
        e
        for e in entries
        if e.billing_member_id
        and e.name_key == name
        and ((email is not None and e.email_key == email) or phones & set(e.phone_keys))
    ]
    return min(candidates, key=lambda e: e.person_id, default=None)


def _converted(change: MembershipChange, now: datetime) -> MembershipChange:
    """A prospect whose Club Hub account shows a membership is now a member."""
    person = change.person.model_copy(
        update={
            "kind": PersonKind.MEMBER,
            "follow_up_status": FollowUpStatus.NEW_MEMBER,
            "converted_at": now,
            "is_active": True,
        }
    )
    return MembershipChange(
        change.outcome,
        person,
        puts=change.puts,
        finding=change.finding,
        person_changed=True,
    )


def apply_full_pull(
    webhook: ClubHubWebhook, deliveries: Iterable[ClubHubDelivery], settings: LocationSettings
) -> list[str]:
    """A full sync from Club Hub (`ClubHubClient.full_pull`): every account and membership goes
    through the same `apply` as a push, so a pull after pushes (or a second pull) writes
    nothing. Returns each record's outcome, in order."""
    return [webhook.apply(delivery, settings) for delivery in deliveries]


def handle_webhook_event(event: Mapping[str, Any], webhook: ClubHubWebhook) -> dict[str, Any]:
    """A Lambda function URL (payload 2.0) or API Gateway proxy event -> HTTP answer. The
    signature is checked over the bytes Club Hub sent, so a base64 body is decoded first and
    nothing is re-serialised before checking."""
    method = event.get("httpMethod") or event.get("requestContext", {}).get("http", {}).get(
        "method", "POST"
    )
    if str(method).upper() != "POST":
        return _http(WebhookResult(405, {"error": "use POST"}))
    raw = event.get("body") or ""
    try:
        body = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()
    except ValueError:
        return _http(WebhookResult(400, {"error": "body is not valid base64"}))
    return _http(webhook.handle(body, event.get("headers") or {}))


def _http(result: WebhookResult) -> dict[str, Any]:
    return {
        "statusCode": result.status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(result.body),
    }
