"""Club Hub payloads in CRM terms: one table row, one place.

| Club Hub                         | CRM                                                    |
|----------------------------------|--------------------------------------------------------|
| member.member_id                 | Person.billing_member_id                               |
| member first/last name, email,   | Person.contact (matching keys: domain.match_keys)      |
|   mobile_phone, home_phone       |                                                        |
| membership.membership_id         | MembershipAgreement.system_id and agreement_number     |
| membership.sale_date             | sign_date and sale_date (part of the agreement key)    |
| membership.pending               | billing_status "pending" (else "active"/"inactive")    |
| the account it came through      | entry_source "clubhub:<member_id>"                     |
| plan_name, recurring_amount      | agreement_name, recurring_payment                      |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from clubsync.domain.billing import BillingAgreement, BillingMember
from clubsync.domain.people import ContactData
from clubsync.providers.clubhub.wire import ClubHubMember, ClubHubMembership

PROVIDER = "clubhub"
PENDING_STATUS = "pending"
ENTRY_SOURCE_PREFIX = "clubhub:"


@dataclass(frozen=True, slots=True)
class MembershipObservation:
    """One membership as Club Hub showed it, through one member account; what
    `sync.clubhub_memberships.apply_membership` applies (a webhook, a full pull, a scenario)."""

    account_id: str
    membership_id: str
    sale_date: date
    pending: bool
    is_active: bool = True
    plan_name: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    recurring_amount: Decimal | None = None

    @property
    def billing_status(self) -> str:
        if self.pending:
            return PENDING_STATUS
        return "active" if self.is_active else "inactive"

    @property
    def entry_source(self) -> str:
        return f"{ENTRY_SOURCE_PREFIX}{self.account_id}"


def account_of(entry_source: str | None) -> str | None:
    """The Club Hub account an agreement came through (see the table above)."""
    if entry_source and entry_source.startswith(ENTRY_SOURCE_PREFIX):
        return entry_source.removeprefix(ENTRY_SOURCE_PREFIX)
    return None


def contact_of(member: ClubHubMember) -> ContactData:
    return ContactData(
        first_name=member.first_name,
        last_name=member.last_name,
        email=member.email,
        mobile_phone=member.mobile_phone,
        home_phone=member.home_phone,
    )


def observation_of(member: ClubHubMember, membership: ClubHubMembership) -> MembershipObservation:
    return MembershipObservation(
        account_id=member.member_id,
        membership_id=membership.membership_id,
        sale_date=membership.sale_date,
        pending=membership.pending,
        is_active=membership.is_active,
        plan_name=membership.plan_name,
        start_date=membership.start_date,
        end_date=membership.end_date,
        recurring_amount=membership.recurring_amount,
    )


def agreement_of(observation: MembershipObservation) -> BillingAgreement:
    """The canonical agreement of a membership (the table above); `observation_from` reads it
    back without loss, which is what Club Hub's agreement policy applies."""
    return BillingAgreement(
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


def observation_from(agreement: BillingAgreement) -> MembershipObservation:
    sale_date = agreement.sale_date or agreement.sign_date
    if sale_date is None:  # never: agreement_of always sets it
        raise ValueError("a Club Hub agreement has a sale date")
    return MembershipObservation(
        account_id=account_of(agreement.entry_source) or "",
        membership_id=agreement.system_id,
        sale_date=sale_date,
        pending=agreement.billing_status == PENDING_STATUS,
        is_active=agreement.is_active,
        plan_name=agreement.agreement_name,
        start_date=agreement.start_date,
        end_date=agreement.end_date,
        recurring_amount=agreement.recurring_payment,
    )


def billing_member(member: ClubHubMember, membership: ClubHubMembership | None) -> BillingMember:
    """A Club Hub account, with the one membership a record carries, in CRM terms. Club Hub
    sends no opt-ins, alerts or join date: the member merge keeps the CRM's."""
    return BillingMember(
        billing_member_id=member.member_id,
        is_active=member.is_active,
        contact=contact_of(member),
        agreement=agreement_of(observation_of(member, membership)) if membership else None,
    )
