"""How a billing system's agreements land on a person: the agreement policy its provider picks.

The member merge (`resources/member_merge.py`) is one path for every provider: create, convert,
contact owner, active status and opt-ins are the same rules everywhere. What differs is what an
agreement arriving from billing does to the person's agreements, and that is this strategy:

- `OneCurrentAgreement` (ABC): billing shows one current agreement per member; an id + sign
  date not seen before is the new current agreement and retires every other one.
- Club Hub's "pending replaced by real, never copied" (`providers/clubhub/agreements.py`,
  spec/clubhub-duplicated-agreements.txt).

A policy also says two things about the records its provider sends, because they decide how the
member job reads them:
- `one_record_per_account`: a record is the whole state of one billing account (ABC: a member
  with their current agreement), so the account's person can carry the record's content hash
  and an unchanged record is skipped unread. Club Hub's records are one membership seen through
  one account, several per person: a person's single hash cannot stand for them, so every record
  is merged and the merge writes only what changed.
- `joins_duplicate_accounts`: a second billing account with the same name and email or phone as
  a person linked to another account joins that person (Club Hub's duplicate active accounts of
  the article, whose agreements must not be copied) instead of becoming a person of its own for
  the duplicate report (ABC).

Pure, and nothing of a provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Protocol

from clubsync.domain.billing import BillingAgreement
from clubsync.domain.people import MembershipAgreement, Person
from clubsync.domain.rules import agreement_key, counts_as_new_agreement, retire_other_agreements
from clubsync.domain.settings import LocationSettings

DUPLICATE_ACCOUNTS_REASON = "duplicate accounts in billing"


@dataclass(frozen=True)
class DuplicateAccountsFinding:
    """Two or more billing accounts presented one person or one sale (the article's cause).
    Stored for the duplicate report ("Fix in billing"); ids only, no personal data.
    `membership_id` empty: the accounts themselves (same person), not one membership."""

    membership_id: str
    sale_date: date
    accounts: tuple[str, ...]
    person_ids: tuple[str, ...]
    reason: str = DUPLICATE_ACCOUNTS_REASON


@dataclass(frozen=True)
class AgreementChange:
    """What an incoming agreement does to a person's agreements.

    `agreements`: only those that changed (to write). `current_agreement_key` and
    `agreement_keys`: the person's, after the change. `detail`: the policy's own name for what
    happened ("replaced_pending"), for a webhook's answer; `reason`: a sentence for the run
    record when the agreement was kept out of reports (stored archived)."""

    agreements: tuple[MembershipAgreement, ...]
    current_agreement_key: str | None
    agreement_keys: tuple[str, ...]
    detail: str = ""
    reason: str = ""
    finding: DuplicateAccountsFinding | None = None


class AgreementPolicy(Protocol):
    name: ClassVar[str]
    one_record_per_account: ClassVar[bool]
    joins_duplicate_accounts: ClassVar[bool]

    def apply(
        self,
        person: Person,
        agreements: Mapping[str, MembershipAgreement],
        incoming: BillingAgreement,
        settings: LocationSettings,
    ) -> AgreementChange:
        """`agreements`: the person's, by key (the merge skips a key another person holds)."""
        ...

    def held_by_another(
        self,
        person_id: str,
        account_id: str,
        incoming: BillingAgreement,
        holder: MembershipAgreement,
    ) -> DuplicateAccountsFinding | None:
        """The incoming agreement's key belongs to another person (`holder.person_id`): it is
        never copied, and the merge skips the record. Whether that is a finding to store."""
        ...


@dataclass(frozen=True)
class OneCurrentAgreement:
    """ABC's rule (spec: "Members"): billing shows a member's current agreement only."""

    name: ClassVar[str] = "one_current_agreement"
    one_record_per_account: ClassVar[bool] = True
    joins_duplicate_accounts: ClassVar[bool] = False

    def apply(
        self,
        person: Person,
        agreements: Mapping[str, MembershipAgreement],
        incoming: BillingAgreement,
        settings: LocationSettings,
    ) -> AgreementChange:
        key = agreement_key(incoming.system_id, incoming.sign_date)
        fields = {
            **incoming.model_dump(),
            "agreement_key": key,
            "person_id": person.person_id,
            "location_id": person.location_id,
            "counts_as_new_agreement": counts_as_new_agreement(incoming, settings),
        }
        known = agreements.get(key)
        if known is None:
            # An agreement id + sign date we have not seen is the new current agreement.
            changed = [MembershipAgreement(**fields, is_current=True)]
            changed.extend(retire_other_agreements(agreements.values(), key))
            return AgreementChange(
                tuple(changed),
                current_agreement_key=key,
                agreement_keys=tuple(sorted({*person.agreement_keys, key})),
            )
        # Billing only ever shows the current agreement; a retired one seen again (a delayed
        # page, a replay) gets its fields refreshed but stays retired.
        kept = {"is_current": known.is_current}
        if not known.is_current:
            kept["is_active"] = False
        updated = known.model_copy(update={**fields, **kept})
        return AgreementChange(
            (updated,) if updated != known else (),
            current_agreement_key=person.current_agreement_key,
            agreement_keys=tuple(person.agreement_keys),
        )

    def held_by_another(
        self,
        person_id: str,
        account_id: str,
        incoming: BillingAgreement,
        holder: MembershipAgreement,
    ) -> DuplicateAccountsFinding | None:
        # The duplicate report finds the two people by their contact data.
        return None


ONE_CURRENT_AGREEMENT = OneCurrentAgreement()
