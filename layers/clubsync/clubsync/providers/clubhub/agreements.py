"""Club Hub's agreement policy: pending replaced by real, never copied
(spec/clubhub-duplicated-agreements.txt; the rules are `memberships.apply_membership`).

The member merge (`resources/member_merge.py`) runs the same person rules for Club Hub as for ABC
and hands each membership to this policy (`domain/agreement_policy.py` says what a policy is).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from clubsync.domain.agreement_policy import AgreementChange, DuplicateAccountsFinding
from clubsync.domain.billing import BillingAgreement
from clubsync.domain.people import MembershipAgreement, Person, PersonKind
from clubsync.domain.settings import LocationSettings
from clubsync.providers.clubhub.mapping import observation_from
from clubsync.providers.clubhub.memberships import MembershipOutcome, apply_membership

# Kept out of reports, with why (the run record's reasons).
_REASONS = {
    MembershipOutcome.PENDING_ALREADY_REPLACED: "pending membership already replaced by its "
    "real one: stored archived",
    MembershipOutcome.PENDING_OF_DUPLICATE_ACCOUNT: "pending membership of a duplicate billing "
    "account: stored archived",
}


@dataclass(frozen=True)
class PendingReplacedByReal:
    name: ClassVar[str] = "pending_replaced_by_real"
    # A record is one membership seen through one account; a person has several.
    one_record_per_account: ClassVar[bool] = False
    # The article's duplicate active accounts are one person whose agreements must not copy.
    joins_duplicate_accounts: ClassVar[bool] = True

    def apply(
        self,
        person: Person,
        agreements: Mapping[str, MembershipAgreement],
        incoming: BillingAgreement,
        settings: LocationSettings,
    ) -> AgreementChange:
        change = apply_membership(person, agreements, observation_from(incoming))
        return AgreementChange(
            change.puts,
            current_agreement_key=change.person.current_agreement_key,
            agreement_keys=tuple(change.person.agreement_keys),
            detail=change.outcome.value,
            reason=_REASONS.get(change.outcome, ""),
            finding=change.finding,
        )

    def held_by_another(
        self,
        person_id: str,
        account_id: str,
        incoming: BillingAgreement,
        holder: MembershipAgreement,
    ) -> DuplicateAccountsFinding | None:
        # The rules' own answer for a key another person holds (rule 1), asked with a stand-in
        # for the person: only its id takes part.
        stand_in = Person(
            person_id=person_id, location_id=holder.location_id, kind=PersonKind.MEMBER
        )
        return apply_membership(stand_in, {}, observation_from(incoming), holder=holder).finding


PENDING_REPLACED_BY_REAL = PendingReplacedByReal()
