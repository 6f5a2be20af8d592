"""The Club Hub webhook receiver: authenticate, parse, apply one delivery, idempotently.

The Lambda handler (functions/clubhub_webhook/handler.py) refuses unauthenticated requests with
providers/clubhub/signing.py before importing this module, then hands the event over. Order of
checks here, each answering before anything is read or written:

1. body over 256 KB -> 413 (before hashing it);
2. signature over `<X-ClubHub-Timestamp>.<raw body>` (providers/clubhub/signing.py), compared in
   constant time, the timestamp within the tolerance of our clock -> 401;
3. JSON (not too deeply nested) and shape (providers/clubhub/wire.py) -> 400 / 422 naming the
   field;
4. `occurred_at` older than the delivery-id memory (30 days) -> 422: its id may be forgotten, so
   it could not be told from a replay;
5. the club must be a registered location -> 422;
6. a delivery id already recorded -> 200 "duplicate", nothing applied.

Applying is itself replay-safe (sync/clubhub_memberships.py), so the delivery record is written
*after* the change: a crash in between means a redelivery applies again and writes nothing,
never a lost delivery.
"""

from __future__ import annotations

import contextlib
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
from clubsync.providers.clubhub.signing import DEFAULT_TOLERANCE_SECONDS, signature_problem

# Re-exported: the sandbox, the scenarios and the tests sign with these names.
from clubsync.providers.clubhub.signing import SIGNATURE_HEADER as SIGNATURE_HEADER
from clubsync.providers.clubhub.signing import TIMESTAMP_HEADER as TIMESTAMP_HEADER
from clubsync.providers.clubhub.signing import sign as sign
from clubsync.providers.clubhub.signing import signed_headers as signed_headers
from clubsync.providers.clubhub.wire import ClubHubDelivery, ClubHubMember
from clubsync.public_url import (
    CLUBHUB_MAX_BODY_BYTES,
    BodyRefused,
    clubhub_refusal,
    json_response,
    load_json_object,
    raw_body,
)
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

# Club Hub redelivers for a while after a failure; a month of delivery ids is plenty and the
# TTL keeps the state table from growing with every push. It is also the oldest `occurred_at`
# accepted: an older event's id may be forgotten, so a replay of it could not be recognised.
DELIVERY_RETENTION = timedelta(days=30)
MAX_BODY_BYTES = CLUBHUB_MAX_BODY_BYTES


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


def _older_than_retention(occurred_at: datetime, now: datetime) -> bool:
    # The shape (ours) says UTC; an offset-less time is read as UTC rather than failing.
    aware = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=UTC)
    return aware < now - DELIVERY_RETENTION


def _field_errors(error: ValidationError) -> list[str]:
    # Field paths only: values may be personal data and reasons reach logs.
    return sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()})


@dataclass
class ClubHubWebhook:
    entities: EntityRepository
    state: StateRepository
    secret: bytes
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    # Seconds the signed X-ClubHub-Timestamp may be from `clock` (signing.tolerance_seconds()).
    tolerance: int = DEFAULT_TOLERANCE_SECONDS

    def handle(self, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
        """One delivery as Club Hub sent it: the raw body and its headers (any case)."""
        if len(body) > MAX_BODY_BYTES:
            return WebhookResult(413, {"error": f"body is larger than {MAX_BODY_BYTES} bytes"})
        lowered = {name.lower(): value for name, value in headers.items()}
        problem = signature_problem(self.secret, body, lowered, self.clock(), self.tolerance)
        if problem is not None:
            return WebhookResult(401, {"error": problem})
        return self.handle_authentic(body)

    def handle_authentic(self, body: bytes) -> WebhookResult:
        """A delivery whose signature and timestamp were checked (`handle`, or the handler's
        gate in clubsync/public_url.py)."""
        try:
            data = load_json_object(body)
        except BodyRefused as refused:
            return WebhookResult(refused.status, {"error": refused.message})
        try:
            delivery = ClubHubDelivery.model_validate(data)
        except ValidationError as error:
            fields = _field_errors(error)
            return WebhookResult(
                422, {"error": f"invalid fields: {', '.join(fields)}", "fields": fields}
            )
        if _older_than_retention(delivery.occurred_at, self.clock()):
            return WebhookResult(
                422,
                {
                    "error": f"occurred_at is more than {DELIVERY_RETENTION.days} days ago, "
                    "older than the delivery ids clubsync remembers, so it cannot be told from "
                    "a replay; not applied (catch up with `clubsync clubhub pull`)",
                    "fields": ["occurred_at"],
                },
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
    signature is checked over the bytes Club Hub sent (a base64 body is decoded first, nothing
    is re-serialised), by the same gate the handler runs before importing this module."""
    refusal = clubhub_refusal(event, webhook.secret, webhook.clock(), webhook.tolerance)
    if refusal is not None:
        return json_response(refusal.status, {"error": refusal.message})
    return _http(webhook.handle_authentic(raw_body(event, MAX_BODY_BYTES)))


def _http(result: WebhookResult) -> dict[str, Any]:
    return json_response(result.status, result.body)
