"""Club Hub memberships, pending ones included, applied to a person's agreements. Pure.

Why this exists: spec/clubhub-duplicated-agreements.txt. The old logic looked only at the
*most recent* membership to decide whether a real one replaces a pending one, and added an
agreement when "id + sale date" was not found on the person; two Club Hub accounts of one person
then fed each other copies forever. Here the rules are stated over the whole set, so the result
does not depend on the order observations arrive in nor on how often they repeat:

1. An agreement is keyed by location + membership id + sale date (`domain.rules.agreement_key`).
   A key held by another person is never copied: the observation is a *duplicate accounts in
   billing* finding (a second Club Hub account presenting the same membership).
2. A key the person holds is refreshed in place (archived ones stay archived).
3. A real membership archives every live pending membership of the person whose sale date is
   less than 30 days apart, and is added: pending replaced, not added to.
4. A pending membership that arrives when the person has a live real membership sold less than
   30 days apart (it is the pending one a real one already replaced), or a live pending one from
   another Club Hub account sold less than 30 days apart (the same sale seen through a
   duplicate account), is stored *archived*; in the second case the accounts are a finding.

Replaced and superseded pending memberships are archived, not deleted or dropped: archived
agreements leave analytics and reports (the current agreement, the duplicate report), and
keeping their keys is what makes a replay converge. "Less than 30 days apart" is not transitive
(a duplicate account's pending one may be 29 days from one real membership and 30 from the
next), so a rule that looked only at what is live would decide a replayed observation
differently from its first arrival; with the key kept, a replay is rule 2 and writes nothing.

Invariant after every step: no key twice (a mapping), and no live pending membership within 30
days of a live real one on the same person. Applying the same observation again writes nothing.
The set of real memberships does not depend on arrival order; which of two duplicate accounts'
pending memberships stands for a sale until its real one arrives does (the first one seen).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from clubsync.domain.agreement_policy import (
    DUPLICATE_ACCOUNTS_REASON as DUPLICATE_ACCOUNTS_REASON,
)
from clubsync.domain.agreement_policy import DuplicateAccountsFinding as DuplicateAccountsFinding
from clubsync.domain.people import MembershipAgreement, Person
from clubsync.domain.rules import agreement_key
from clubsync.providers.clubhub.mapping import (
    PENDING_STATUS,
    MembershipObservation,
    account_of,
)

# "...replace it with the real one if the sale dates are less than 30 days apart" (article).
PENDING_REPLACEMENT_WINDOW = timedelta(days=30)


class MembershipOutcome(StrEnum):
    ADDED = "added"
    REPLACED_PENDING = "replaced_pending"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    PENDING_ALREADY_REPLACED = "pending_already_replaced"
    PENDING_OF_DUPLICATE_ACCOUNT = "pending_of_duplicate_account"
    HELD_BY_ANOTHER_PERSON = "held_by_another_person"


@dataclass(frozen=True)
class MembershipChange:
    outcome: MembershipOutcome
    person: Person
    puts: tuple[MembershipAgreement, ...] = ()
    finding: DuplicateAccountsFinding | None = None
    person_changed: bool = False

    @property
    def writes(self) -> bool:
        return bool(self.puts or self.person_changed)


def is_pending(agreement: MembershipAgreement) -> bool:
    return agreement.billing_status == PENDING_STATUS


def _close(left: date | None, right: date) -> bool:
    return left is not None and abs(left - right) < PENDING_REPLACEMENT_WINDOW


def _agreement(observation: MembershipObservation, person: Person, key: str) -> MembershipAgreement:
    return MembershipAgreement(
        agreement_key=key,
        person_id=person.person_id,
        location_id=person.location_id,
        system_id=observation.membership_id,
        agreement_number=observation.membership_id,
        sign_date=observation.sale_date,
        sale_date=observation.sale_date,
        agreement_name=observation.plan_name,
        is_active=observation.is_active,
        start_date=observation.start_date,
        end_date=observation.end_date,
        recurring_payment=observation.recurring_amount,
        billing_status=observation.billing_status,
        entry_source=observation.entry_source,
    )


@dataclass
class _Plan:
    agreements: dict[str, MembershipAgreement]
    puts: dict[str, MembershipAgreement] = field(default_factory=dict)

    def put(self, agreement: MembershipAgreement) -> None:
        self.agreements[agreement.agreement_key] = agreement
        self.puts[agreement.agreement_key] = agreement


def _finding(
    observation: MembershipObservation,
    others: list[MembershipAgreement],
    person_ids: set[str],
) -> DuplicateAccountsFinding | None:
    accounts = {observation.account_id} | {
        account for a in others if (account := account_of(a.entry_source))
    }
    if len(accounts) < 2 and len(person_ids) < 2:
        return None
    return DuplicateAccountsFinding(
        membership_id=observation.membership_id,
        sale_date=observation.sale_date,
        accounts=tuple(sorted(accounts)),
        person_ids=tuple(sorted(person_ids)),
    )


def apply_membership(
    person: Person,
    agreements: Mapping[str, MembershipAgreement],
    observation: MembershipObservation,
    *,
    holder: MembershipAgreement | None = None,
) -> MembershipChange:
    """`agreements`: the person's agreements by key. `holder`: the agreement stored under the
    observation's key at the location, whoever holds it (None: nobody)."""
    key = agreement_key(observation.membership_id, observation.sale_date)
    if holder is not None and holder.person_id != person.person_id:
        held = _finding(observation, [holder], {person.person_id, holder.person_id})
        return MembershipChange(MembershipOutcome.HELD_BY_ANOTHER_PERSON, person, finding=held)

    plan = _Plan(dict(agreements))
    incoming = _agreement(observation, person, key)
    known = plan.agreements.get(key)
    finding: DuplicateAccountsFinding | None = None
    if known is not None:
        # Fields refreshed; what the CRM decided about the agreement is kept, and so is the
        # account it first came through: two accounts presenting it must not flip it back and
        # forth (a write on every replay) but are a finding.
        kept = {
            "archived": known.archived,
            "is_current": known.is_current,
            "entry_source": known.entry_source,
        }
        refreshed = known.model_copy(update={**incoming.model_dump(), **kept})
        if refreshed != known:
            plan.put(refreshed)
        finding = _finding(observation, [known], {person.person_id})
        outcome = MembershipOutcome.UPDATED if plan.puts else MembershipOutcome.UNCHANGED
    elif observation.pending:
        live = [a for a in plan.agreements.values() if not a.archived]
        real = [a for a in live if not is_pending(a) and _close(a.sale_date, observation.sale_date)]
        twins = [
            a
            for a in live
            if is_pending(a)
            and _close(a.sale_date, observation.sale_date)
            and account_of(a.entry_source) != observation.account_id
        ]
        if real:
            finding = _finding(observation, real, {person.person_id})
            plan.put(_archived(incoming))
            outcome = MembershipOutcome.PENDING_ALREADY_REPLACED
        elif twins:
            # The same sale seen through a duplicate account (the article: "both have been
            # sold pending memberships on 1/1/22"): one close, not two.
            finding = _finding(observation, twins, {person.person_id})
            plan.put(_archived(incoming))
            outcome = MembershipOutcome.PENDING_OF_DUPLICATE_ACCOUNT
        else:
            plan.put(incoming)
            outcome = MembershipOutcome.ADDED
    else:
        replaced = [
            a
            for a in plan.agreements.values()
            if is_pending(a) and not a.archived and _close(a.sale_date, observation.sale_date)
        ]
        for pending in replaced:
            plan.put(_archived(pending))
        finding = _finding(observation, replaced, {person.person_id})
        plan.put(incoming)
        outcome = MembershipOutcome.REPLACED_PENDING if replaced else MembershipOutcome.ADDED

    updated_person = _with_current(person, plan)
    return MembershipChange(
        outcome,
        updated_person,
        puts=tuple(plan.puts[k] for k in sorted(plan.puts)),
        finding=finding,
        person_changed=updated_person != person,
    )


def _archived(agreement: MembershipAgreement) -> MembershipAgreement:
    return agreement.model_copy(update={"archived": True, "is_current": False})


def _with_current(person: Person, plan: _Plan) -> Person:
    """The current agreement is the most recently sold one not archived (ties: the greater
    key), recomputed from the whole set so it does not depend on arrival order."""
    live = [a for a in plan.agreements.values() if not a.archived]
    current = max(live, key=lambda a: (a.sale_date or date.min, a.agreement_key), default=None)
    current_key = current.agreement_key if current else None
    for agreement in list(plan.agreements.values()):
        should = agreement.agreement_key == current_key
        if agreement.is_current != should:
            plan.put(agreement.model_copy(update={"is_current": should}))
    return person.model_copy(
        update={
            "current_agreement_key": current_key,
            "agreement_keys": sorted(plan.agreements),
        }
    )
