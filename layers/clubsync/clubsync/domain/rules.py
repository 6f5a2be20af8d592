"""The member rules of spec/abc-integration-overview.txt ("Members"), as pure functions.

Each function is named after the rule it implements and is tested next to it in
tests/unit/test_member_rules.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from clubsync.domain.billing import BillingAgreement
from clubsync.domain.people import ContactData, MembershipAgreement, OptIns
from clubsync.domain.settings import LocationSettings, RecordOwner

# "...they will remain active in Club OS unless we find one of the following alerts in the
# Personal section of the member's data: Cancelled, Expired, Return for collections,
# Pending Cancel, or Freeze."  Matched as whole phrases inside the alert text, case-insensitively,
# so "Membership Cancelled" counts; the US spelling "Canceled" and the singular "collection"
# are accepted because billing staff type both.
ACTIVE_STATUS_ENDING_ALERTS: tuple[str, ...] = (
    "cancelled",
    "canceled",
    "expired",
    "return for collection",
    "pending cancel",
    "freeze",
)


def _normalised(text: str) -> str:
    return " ".join(text.casefold().split())


def alert_ends_active_status(alert: str) -> bool:
    text = _normalised(alert)
    return any(phrase in text for phrase in ACTIVE_STATUS_ENDING_ALERTS)


def member_is_active(*, was_active: bool, billing_is_active: bool, alerts: Iterable[str]) -> bool:
    """Active status ends only on one of the ending alerts; otherwise a member who was active
    stays active even when billing calls the agreement inactive."""
    if any(alert_ends_active_status(alert) for alert in alerts):
        return False
    return billing_is_active or was_active


def missing_member_names(contact: ContactData) -> str | None:
    """A CRM account needs a first and a last name (what the CRM requires of every account,
    and ABC of every prospect): a billing member without one is quarantined with this reason,
    never stored with a blank name."""
    missing = [
        label
        for label, value in (("first name", contact.first_name), ("last name", contact.last_name))
        if _is_blank(value)
    ]
    if not missing:
        return None
    return f"{' and '.join(missing)} missing: a member needs a first and a last name"


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def merge_contact(existing: ContactData, incoming: ContactData, owner: RecordOwner) -> ContactData:
    """Record owner `crm`: billing only fills blank fields. Record owner `billing`: billing
    overwrites every contact and demographic field it sends. A field billing leaves out (ABC
    omits optional fields rather than sending them empty) never erases what the CRM has."""
    merged = existing.model_dump()
    for field, new_value in incoming.model_dump().items():
        if _is_blank(new_value):
            continue
        if owner is RecordOwner.BILLING or _is_blank(merged[field]):
            merged[field] = new_value
    return ContactData.model_validate(merged)


def lead_notes_with(existing: str | None, billing_notes: str | None) -> str | None:
    """The person's notes with billing's notes added (Mindbody's single client notes field
    "is added to the CRM's lead notes"): appended once, on a line of their own; notes that are
    already there (a replay, or staff copied them) are not added again."""
    if billing_notes is None or not billing_notes.strip():
        return existing
    added = billing_notes.strip()
    if not existing:
        return added
    if added in existing:
        return existing
    return f"{existing.rstrip()}\n{added}"


def opt_ins_at_conversion(
    current: OptIns, from_billing: OptIns | None, settings: LocationSettings
) -> OptIns:
    """Billing's email/SMS opt-ins replace ours once, at conversion, and only when the location
    enabled the override (the default keeps the CRM's values). Never applied after conversion."""
    if settings.override_opt_ins_at_conversion and from_billing is not None:
        return from_billing
    return current


def agreement_key(system_id: str, sign_date: date | None) -> str:
    """The current agreement is identified by agreement id + sign date."""
    return f"{system_id}#{sign_date.isoformat() if sign_date else 'unsigned'}"


def counts_as_new_agreement(agreement: BillingAgreement, settings: LocationSettings) -> bool:
    """Whether the agreement shows as a membership sale in KPIs and reports."""
    if settings.is_ignored_membership_type(agreement.agreement_type):
        return False
    if agreement.is_renewal and not settings.count_renewals_as_new_agreements:
        return False
    if agreement.is_rewrite and not settings.count_rewrites_as_new_agreements:
        return False
    return not (settings.exclude_secondary_memberships and not agreement.is_primary_agreement)


def retire_other_agreements(
    agreements: Iterable[MembershipAgreement], current_key: str
) -> list[MembershipAgreement]:
    """ABC members have one active agreement at a time: once a new current agreement arrives,
    every other agreement of the member turns inactive. Returns only those that changed."""
    changed: list[MembershipAgreement] = []
    for agreement in agreements:
        if agreement.agreement_key == current_key:
            continue
        if agreement.is_current or agreement.is_active:
            changed.append(agreement.model_copy(update={"is_current": False, "is_active": False}))
    return changed
