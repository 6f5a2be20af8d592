"""Decide-and-push: a prospect changed in the CRM -> billing (docs/prospects.md).

1. `needs_push(old, new)` decides from a stream record's images. The push hash covers only
   what is sent to billing; a record whose hash equals the prospect's `push.pushed_hash` was
   already sent (or refused) and is skipped. That is what makes our own write-back of the
   push outcome loop-safe, and why a refused prospect waits until someone edits it.
2. `ProspectPusher.push` re-reads the prospect (a redelivered or stale record pushes the
   current content, never an old one), checks it against what the location's billing system
   refuses (its provider's `ProspectRules`), and sends it: a PUT with the full personal
   block when the billing id is known, otherwise a POST under a create claim that
   guarantees one billing prospect per CRM prospect.
3. The outcome goes back onto the prospect: pushed, rejected (with the reason), or failing
   (transient; raised so the stream retries it, until `max_attempts`, then dead-lettered).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from clubsync.domain.employees import salesperson_account
from clubsync.domain.match_keys import email_key, name_key, phone_keys
from clubsync.domain.people import Person, PersonKind, ProspectPush, ProspectPushState
from clubsync.domain.settings import LocationSettings
from clubsync.providers.prospects import (
    ProspectRules,
    ProspectTarget,
    PushOutcomeUnknown,
    PushRejected,
    PushTransient,
    SalespersonRefused,
    ValidationContext,
)
from clubsync.providers.registry import prospect_rules_for
from clubsync.store.prospects import ClaimBusy, ClaimState, CreateClaim, ProspectStore

# Bump when the mapping changes what is sent: every prospect is then pushed once more.
PUSH_VERSION = 1
DEFAULT_MAX_ATTEMPTS = 5
CLAIM_LEASE = timedelta(minutes=5)
# An interrupted create is looked for in billing from a little before it started (clocks).
RECONCILE_MARGIN = timedelta(minutes=10)

_PUSHED_CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "gender",
    "date_of_birth",
    "email",
    "mobile_phone",
    "home_phone",
    "work_phone",
    "address_line1",
    "city",
    "state",
    "zip",
    "country",
    "employer",
    "barcode",
)


def wall_clock() -> datetime:
    """The push's clock in Lambda. Replays (scenarios) pass their own clock instead, so the
    outcome they record (`push.last_attempt_at`) and the claim's lease follow their timeline."""
    return datetime.now(UTC)


def push_content(person: Person) -> dict[str, Any]:
    """Everything that decides what billing receives, and nothing else (not `notes`: later
    notes are never pushed; not `push`: our own write-back)."""
    contact = person.contact.model_dump(mode="json")
    return {
        "version": PUSH_VERSION,
        "kind": person.kind.value,
        "location_id": person.location_id,
        "contact": {name: contact.get(name) for name in _PUSHED_CONTACT_FIELDS},
        "notes_at_creation": person.notes_at_creation,
        "follow_up_person_id": person.follow_up_person_id,
        "guest_pass_start": person.guest_pass_start and person.guest_pass_start.isoformat(),
        "guest_pass_end": person.guest_pass_end and person.guest_pass_end.isoformat(),
        "marketing_source_id": person.marketing_source_id,
    }


def push_hash(person: Person) -> str:
    canonical = json.dumps(push_content(person), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def needs_push(old: Person | None, new: Person | None) -> bool:
    """Whether a change (stream record images) calls for a push.

    Pushed: a new prospect; a prospect whose pushed content changed (edit, guest pass, new
    location, follow-up person, marketing source). Not pushed: members (billing creates
    them), deletions, our own write-back, a change that leaves the pushed content as it was
    (notes added later, a failing outcome recorded), and anything already sent or refused."""
    if new is None or new.kind is not PersonKind.PROSPECT:
        return False
    current = push_hash(new)
    if new.push is not None and new.push.pushed_hash == current:
        return False
    return not (old is not None and old.kind is PersonKind.PROSPECT and push_hash(old) == current)


class PushOutcome(StrEnum):
    PUSHED = "pushed"
    REJECTED = "rejected"
    UP_TO_DATE = "up_to_date"
    NOT_A_PROSPECT = "not_a_prospect"
    GAVE_UP = "gave_up"


class RetryLater(Exception):
    """A transient failure, recorded on the prospect; raise it to the stream so the record is
    retried (reported as a batch item failure)."""


class DeadLetters(Protocol):
    def send(self, location_id: str, person_id: str, reason: str) -> None: ...


@dataclass
class MemoryDeadLetters:
    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def send(self, location_id: str, person_id: str, reason: str) -> None:
        self.sent.append((location_id, person_id, reason))


@dataclass
class PushResult:
    outcome: PushOutcome
    billing_id: str | None = None
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)


class ProspectPusher:
    """Pushes the prospects of one location to its billing club."""

    def __init__(
        self,
        settings: LocationSettings,
        store: ProspectStore,
        target: ProspectTarget,
        *,
        dead_letters: DeadLetters | None = None,
        clock: Callable[[], datetime] = wall_clock,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        owner: str | None = None,
        claim_scope: str = "",
        rules: ProspectRules | None = None,
    ) -> None:
        self.settings = settings
        # What the location's billing system refuses before anything is sent.
        self.rules = rules if rules is not None else prospect_rules_for(settings)
        self.store = store
        self.target = target
        self.dead_letters = dead_letters or MemoryDeadLetters()
        self.clock = clock
        self.max_attempts = max_attempts
        # Identifies this worker on the create claim (one per invocation is enough).
        self.owner = owner or uuid.uuid4().hex
        self.claim_scope = claim_scope

    def push(self, person_id: str, *, force: bool = False, fresh: bool = False) -> PushResult:
        """Pushes the prospect's current content if it was not sent yet. `force` (redrive,
        reintegration) sends it even when it was, or was refused; `fresh` (reintegration to a
        new billing provider) ignores the old billing id: the prospect is created there.
        Raises RetryLater."""
        person = self.store.get(self.settings.location_id, person_id)
        if person is None or person.kind is not PersonKind.PROSPECT:
            return PushResult(PushOutcome.NOT_A_PROSPECT)
        if fresh:
            person = person.model_copy(update={"billing_member_id": None})
        content_hash = push_hash(person)
        if not force and person.push is not None and person.push.pushed_hash == content_hash:
            return PushResult(PushOutcome.UP_TO_DATE, person.billing_member_id)

        campaign_type = (
            self.target.campaign_type(person.marketing_source_id)
            if person.marketing_source_id and self.rules.reads_campaign_type
            else None
        )
        context = ValidationContext(self.settings.country, campaign_type)
        warnings = self.rules.warnings(person, context)
        reasons = self.rules.refusals(person, context)
        if reasons:
            return self._rejected(person, content_hash, "; ".join(reasons), warnings)

        try:
            billing_id = self._send(person, content_hash, warnings)
        except PushRejected as error:
            return self._rejected(person, content_hash, error.reason, warnings)
        except (PushTransient, ClaimBusy) as error:
            return self._failing(person, str(error))
        self._record(
            person,
            ProspectPush(
                state=ProspectPushState.PUSHED,
                billing_member_id=billing_id,
                warnings=warnings,
                attempts=0,
                last_attempt_at=self.clock(),
                pushed_hash=content_hash,
            ),
        )
        return PushResult(PushOutcome.PUSHED, billing_id, warnings=warnings)

    # -- sending -------------------------------------------------------------------------
    def _salesperson(self, person: Person, warnings: list[str]) -> str:
        """The follow-up person's billing id (domain.employees.salesperson_account), or "" with
        a warning saying why there is none."""
        if not person.follow_up_person_id:
            return ""
        employee = self.store.employee(person.follow_up_person_id)
        account = (
            salesperson_account(employee, person.location_id) if employee is not None else None
        )
        if account is None:
            warnings.append("follow-up person has no billing id: sent without a salesperson")
            return ""
        return account.billing_employee_id

    def _with_salesperson_fallback(
        self, send: Callable[[str], str], person: Person, warnings: list[str]
    ) -> str:
        """Sends with the salesperson; if billing refuses that salesperson (their location is
        not authorized), sends again with an empty one (spec)."""
        salesperson = self._salesperson(person, warnings)
        try:
            return send(salesperson)
        except SalespersonRefused as error:
            if not salesperson:
                raise
            warnings.append(f"salesperson refused by billing ({error.reason}): re-sent without one")
            return send("")

    def _send(self, person: Person, content_hash: str, warnings: list[str]) -> str:
        if person.billing_member_id:
            billing_id = person.billing_member_id

            def put(salesperson: str) -> str:
                self.target.update(billing_id, person, salesperson)
                return billing_id

            return self._with_salesperson_fallback(put, person, warnings)
        return self._create_once(person, content_hash, warnings)

    def _create_once(self, person: Person, content_hash: str, warnings: list[str]) -> str:
        """Creates the prospect in billing at most once, whatever is redelivered or retried."""
        location_id, person_id = person.location_id, person.person_id
        now = self.clock()
        scope = self.claim_scope
        previous = self.store.claim(location_id, person_id, scope)
        if previous is not None and previous.claim_state is ClaimState.CREATED:
            # Created before, but the billing id never reached the prospect (crash, retry).
            billing_id = previous.billing_id or ""
            if previous.pushed_hash != content_hash:
                self._with_salesperson_fallback(
                    lambda sp: self._put(billing_id, person, sp), person, warnings
                )
            return billing_id
        if previous is not None and previous.lease_until > int(now.timestamp()):
            raise ClaimBusy(f"prospect {person_id} is being created by another attempt")
        claim = self.store.take_claim(
            location_id, person_id, self.owner, now, CLAIM_LEASE, previous, scope
        )
        if previous is not None:
            # The last create ended without an answer: it may have worked. Look first.
            found = self._find_in_billing(person, previous)
            if found is not None:
                self.store.finish_claim(
                    location_id, person_id, claim, now, billing_id=found, scope=scope
                )
                self._with_salesperson_fallback(
                    lambda sp: self._put(found, person, sp), person, warnings
                )
                return found
        try:
            billing_id = self._with_salesperson_fallback(
                lambda sp: self.target.create(person, sp), person, warnings
            )
        except PushOutcomeUnknown:
            self.store.finish_claim(
                location_id, person_id, claim, self.clock(), uncertain=True, scope=scope
            )
            raise
        except (PushRejected, PushTransient):
            self.store.finish_claim(location_id, person_id, claim, self.clock(), scope=scope)
            raise
        self.store.finish_claim(
            location_id,
            person_id,
            claim,
            self.clock(),
            billing_id=billing_id,
            pushed_hash=content_hash,
            scope=scope,
        )
        return billing_id

    def _put(self, billing_id: str, person: Person, salesperson: str) -> str:
        self.target.update(billing_id, person, salesperson)
        return billing_id

    def _find_in_billing(self, person: Person, claim: CreateClaim) -> str | None:
        wanted = name_key(person.contact.first_name, person.contact.last_name)
        if wanted is None:
            return None
        email = email_key(person.contact.email)
        region = self.settings.country
        phones = set(phone_keys(person.contact, region))
        for candidate in self.target.created_since(claim.started_at - RECONCILE_MARGIN):
            other = candidate.contact
            if name_key(other.first_name, other.last_name) != wanted:
                continue
            if (email is not None and email_key(other.email) == email) or (
                phones & set(phone_keys(other, region))
            ):
                return candidate.billing_id
        return None

    # -- outcomes ------------------------------------------------------------------------
    def _record(self, person: Person, push: ProspectPush) -> None:
        self.store.record_outcome(person, push, default_region=self.settings.country)

    def _rejected(
        self, person: Person, content_hash: str, reason: str, warnings: list[str]
    ) -> PushResult:
        # pushed_hash = this content: not retried until the prospect is edited.
        self._record(
            person,
            ProspectPush(
                state=ProspectPushState.REJECTED,
                billing_member_id=person.billing_member_id,
                reason=reason,
                warnings=warnings,
                attempts=0,
                last_attempt_at=self.clock(),
                pushed_hash=content_hash,
            ),
        )
        return PushResult(PushOutcome.REJECTED, person.billing_member_id, reason, warnings)

    def _failing(self, person: Person, problem: str) -> PushResult:
        previous = person.push
        attempts = (
            previous.attempts if previous and previous.state is ProspectPushState.FAILING else 0
        ) + 1
        gave_up = attempts >= self.max_attempts
        reason = (
            f"{problem} (gave up after {attempts} attempts; redrive with "
            "`clubsync prospects redrive`)"
            if gave_up
            else f"{problem} (attempt {attempts} of {self.max_attempts}, retrying)"
        )
        # The content hash is left as it was: the push is still owed.
        self._record(
            person,
            ProspectPush(
                state=ProspectPushState.FAILING,
                billing_member_id=person.billing_member_id,
                reason=reason,
                warnings=previous.warnings if previous else [],
                attempts=attempts,
                last_attempt_at=self.clock(),
                pushed_hash=previous.pushed_hash if previous else None,
            ),
        )
        if gave_up:
            # Stop blocking the shard: the prospect stays `failing` for support and redrive.
            self.dead_letters.send(person.location_id, person.person_id, reason)
            return PushResult(PushOutcome.GAVE_UP, person.billing_member_id, reason)
        raise RetryLater(reason)
