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
