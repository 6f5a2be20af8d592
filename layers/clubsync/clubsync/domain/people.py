"""CRM entities: a person (prospect or member) and their membership agreements."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

# The region a phone number without a country code is read in when the caller knows no better.
# Callers pass the location's country (LocationSettings.country); this default only keeps the
# keys of US clubs, the ones that existed before regions were passed, as they were. Here, not in
# match_keys, so that settings (every handler's import) does not import phonenumbers.
DEFAULT_REGION = "US"


class PersonKind(StrEnum):
    PROSPECT = "prospect"
    MEMBER = "member"


class FollowUpStatus(StrEnum):
    """Statuses of the membership and PT follow-up schedules (spec: "The Follow-Up Schedules")."""

    LEAD = "Lead"
    WEB_LEAD = "Web Lead"
    REFERRAL = "Referral"
    ACTIVE_GUEST = "Active Guest"
    MISSED_GUEST = "Missed Guest"
    APPT_BOOKED = "Appt Booked"
    NEW_MEMBER = "New Member"
    PT_OPPORTUNITY = "PT Opportunity"
    PT_ACTIVE = "PT Active"
    PT_INACTIVE = "PT Inactive"
    FC_BOOKED = "FC Booked"


class ContactData(BaseModel):
    """Contact and demographic fields. With record owner `billing` all of these follow billing;
    with owner `crm` billing only fills the blank ones."""

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    gender: str | None = None
    date_of_birth: date | None = None
    occupation: str | None = None
    email: str | None = None
    mobile_phone: str | None = None
    home_phone: str | None = None
    work_phone: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    employer: str | None = None
    barcode: str | None = None
    group: str | None = None


class OptIns(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: bool = False
    sms: bool = False


class ProspectPushState(StrEnum):
    """Where a prospect stands with billing (docs/prospects.md, "Outcomes")."""

    PENDING = "pending"
    PUSHED = "pushed"
    REJECTED = "rejected"
    FAILING = "failing"


class ProspectPush(BaseModel):
    """The outcome of pushing a prospect to billing, written back on the prospect.

    `pushed_hash` is the hash of the push-relevant content that was last sent or decided on
    (pushed or rejected). A stream record whose content hashes to it needs no push: this is
    what makes writing this block back onto the prospect loop-safe."""

    model_config = ConfigDict(extra="forbid")

    state: ProspectPushState = ProspectPushState.PENDING
    billing_member_id: str | None = None
    reason: str | None = None
    warnings: list[str] = Field(default_factory=list)
    attempts: int = 0
    last_attempt_at: datetime | None = None
    pushed_hash: str | None = None


class Person(BaseModel):
    """A prospect or member of one location."""

    model_config = ConfigDict(extra="forbid")

    person_id: str
    location_id: str
    kind: PersonKind
    follow_up_status: FollowUpStatus | None = None
    contact: ContactData = Field(default_factory=ContactData)
    opt_ins: OptIns = Field(default_factory=OptIns)
    marketing_source: str | None = None
    notes: str | None = None
    photo_url: str | None = Field(default=None, description="Billing's photo (Mindbody PhotoUrl).")
    is_active: bool = False
    billing_member_id: str | None = Field(default=None, description="The billing system's id.")
    billing_club: str | None = Field(default=None, description="Billing home club (clubSystemId).")
    created_from_billing: bool = False
    created_at: datetime | None = None
    join_date: date | None = None
    converted_at: datetime | None = Field(
        default=None, description="When billing turned this prospect into a member."
    )
    current_agreement_key: str | None = None
    agreement_keys: list[str] = Field(default_factory=list)
    source_hash: str | None = Field(
        default=None, description="Hash of the last billing record merged, to skip unchanged ones."
    )
    raw_hash: str | None = Field(
        default=None,
        description="Hash of that record's bytes as billing sent them: equal bytes, equal record, "
        "so a sync skips it without translating it.",
    )
    # Prospect fields pushed to billing (spec: "Translation to ABC Prospect").
    follow_up_person_id: str | None = Field(
        default=None, description="The membership follow-up person (an employee), our id."
    )
    guest_pass_start: date | None = None
    guest_pass_end: date | None = None
    marketing_source_id: str | None = Field(
        default=None, description="Billing's id of the marketing source (ABC: campaign)."
    )
    notes_at_creation: str | None = Field(
        default=None,
        description="Notes as entered at intake; set once. Only these reach billing (spec).",
    )
    push: ProspectPush | None = None


class MembershipAgreement(BaseModel):
    """A membership agreement, keyed by the billing agreement id and its sign date."""

    model_config = ConfigDict(extra="forbid")

    agreement_key: str
    person_id: str
    location_id: str
    system_id: str
    agreement_number: str
    sign_date: date | None = None
    agreement_name: str | None = None
    agreement_type: str | None = None
    is_active: bool = False
    is_current: bool = False
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
    counts_as_new_agreement: bool = True
    archived: bool = False
