"""What a billing system says about a member, already translated to CRM terms.

A provider's mapping (e.g. `providers.abc.member_mapping`) produces these; the sync merges them
into `Person` and `MembershipAgreement` records following the rules in `domain.rules`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.people import ContactData, OptIns


class BillingAgreement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    system_id: str
    agreement_number: str
    sign_date: date | None = None
    agreement_name: str | None = None
    agreement_type: str | None = None
    is_active: bool = False
    is_primary_agreement: bool = True
    is_online_signup: bool = False
    entry_source: str | None = None
    recurring_payment: Decimal | None = None
    down_payment: Decimal | None = None
    past_due_balance: Decimal | None = None
    start_date: date | None = None
    end_date: date | None = None
    sale_date: date | None = None
    is_renewal: bool = False
    is_rewrite: bool = False
    is_auto_renew: bool = False
    billing_status: str | None = None
    billing_status_date: datetime | None = None
    alert: str | None = None
    alert_date: date | None = None
    alert_reason: str | None = None


class BillingMember(BaseModel):
    """One member profile from billing, in CRM terms, with its current agreement."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    billing_member_id: str
    billing_club: str | None = None
    is_prospect: bool = False
    is_active: bool = False
    contact: ContactData
    opt_ins: OptIns | None = None
    marketing_source: str | None = None
    created_at: datetime | None = None
    join_date: date | None = None
    modified_at: datetime | None = None
    alerts: tuple[str, ...] = Field(
        default=(), description="Every alert text billing shows for the member."
    )
    # The billing system's photo of the member, and its free-text notes (Mindbody: PhotoUrl,
    # Notes, which go to the CRM's lead notes). None where the provider sends neither.
    photo_url: str | None = None
    notes: str | None = None
    agreement: BillingAgreement | None = None


class BillingProspect(BaseModel):
    """A prospect kept in the billing system (not a member), in CRM terms: what a location's
    initial integration imports (features/onboarding.py). Prospects are the CRM's afterwards."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The billing system's own id of the prospect (ABC: `prospectId`, its own id space).
    billing_prospect_id: str
    contact: ContactData
    created_at: datetime | None = None
