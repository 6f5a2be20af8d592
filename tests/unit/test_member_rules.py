"""Each member rule of spec/abc-integration-overview.txt, by name (clubsync.domain.rules)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from clubsync.domain.billing import BillingAgreement
from clubsync.domain.people import ContactData, MembershipAgreement, OptIns
from clubsync.domain.rules import (
    agreement_key,
    alert_ends_active_status,
    counts_as_new_agreement,
    member_is_active,
    merge_contact,
    opt_ins_at_conversion,
    retire_other_agreements,
)
from clubsync.domain.settings import LocationSettings, RecordOwner


@pytest.mark.parametrize(
    "alert",
    [
        "Cancelled",
        "Membership Cancelled",
        "MEMBERSHIP CANCELLED 04/21/2026",
        "Canceled",
        "Expired",
        "Return for Collections",
        "return for  collection",
        "Pending Cancel",
        "Freeze",
    ],
)
def test_active_status_ends_on_the_documented_alerts(alert: str) -> None:
    assert alert_ends_active_status(alert)
    assert not member_is_active(was_active=True, billing_is_active=True, alerts=[alert])


@pytest.mark.parametrize("alert", ["Active", "Past Due", "Note: call back", ""])
def test_other_alerts_do_not_end_active_status(alert: str) -> None:
    assert not alert_ends_active_status(alert)


def test_active_member_stays_active_when_billing_says_inactive_without_an_alert() -> None:
    assert member_is_active(was_active=True, billing_is_active=False, alerts=[])


def test_member_becomes_active_when_billing_says_active() -> None:
    assert member_is_active(was_active=False, billing_is_active=True, alerts=["Active"])


def test_never_active_member_stays_inactive_without_billing_active() -> None:
    assert not member_is_active(was_active=False, billing_is_active=False, alerts=[])


CRM = ContactData(first_name="Dana", last_name="Reyes", email="dana@crm.example.org", city=None)
BILLING = ContactData(
    first_name="DANA", last_name="Reyes-Ortiz", email="dana@billing.example.org", city="Dayton"
)


def test_record_owner_crm_billing_only_fills_blank_fields() -> None:
    merged = merge_contact(CRM, BILLING, RecordOwner.CRM)
    assert merged.first_name == "Dana"
    assert merged.last_name == "Reyes"
    assert merged.email == "dana@crm.example.org"
    assert merged.city == "Dayton"  # blank in the CRM: filled


def test_record_owner_billing_overwrites_contact_and_demographic_fields() -> None:
    merged = merge_contact(CRM, BILLING, RecordOwner.BILLING)
    assert merged == BILLING.model_copy(update={})


def test_a_field_billing_leaves_out_never_erases_crm_data() -> None:
    merged = merge_contact(CRM, ContactData(first_name="Dana"), RecordOwner.BILLING)
    assert merged.email == "dana@crm.example.org"


def _settings(**changes: object) -> LocationSettings:
    return LocationSettings.model_validate(
        {"location_id": "x", "club_number": "0451", "time_zone": "America/Chicago", **changes}
    )


def test_opt_ins_are_not_overridden_at_conversion_by_default() -> None:
    current = OptIns(email=False, sms=False)
    assert opt_ins_at_conversion(current, OptIns(email=True, sms=True), _settings()) == current


def test_opt_ins_from_billing_applied_at_conversion_when_the_location_enables_it() -> None:
    result = opt_ins_at_conversion(
        OptIns(), OptIns(email=True, sms=True), _settings(override_opt_ins_at_conversion=True)
    )
    assert result == OptIns(email=True, sms=True)


def test_opt_ins_kept_when_billing_sends_none_even_if_enabled() -> None:
    current = OptIns(email=True)
    assert (
        opt_ins_at_conversion(current, None, _settings(override_opt_ins_at_conversion=True))
        == current
    )


def test_current_agreement_identified_by_agreement_id_and_sign_date() -> None:
    assert agreement_key("045106296", date(2024, 8, 17)) == "045106296#2024-08-17"
    assert agreement_key("045106296", date(2025, 8, 17)) != agreement_key(
        "045106296", date(2024, 8, 17)
    )


def _agreement(**changes: object) -> BillingAgreement:
    return BillingAgreement.model_validate(
        {"system_id": "045106296", "agreement_number": "06296", "agreement_type": "GOLD", **changes}
    )


def test_renewals_count_as_new_agreements_only_when_enabled() -> None:
    renewal = _agreement(is_renewal=True)
    assert not counts_as_new_agreement(renewal, _settings())
    assert counts_as_new_agreement(renewal, _settings(count_renewals_as_new_agreements=True))


def test_rewrites_count_as_new_agreements_only_when_enabled() -> None:
    rewrite = _agreement(is_rewrite=True)
    assert not counts_as_new_agreement(rewrite, _settings())
    assert counts_as_new_agreement(rewrite, _settings(count_rewrites_as_new_agreements=True))


def test_secondary_memberships_excluded_from_new_agreement_stats_when_enabled() -> None:
    secondary = _agreement(is_primary_agreement=False)
    assert counts_as_new_agreement(secondary, _settings())
    assert not counts_as_new_agreement(secondary, _settings(exclude_secondary_memberships=True))


def test_ignored_membership_types_never_count_as_sales() -> None:
    assert not counts_as_new_agreement(
        _agreement(agreement_type="Corporate"),
        _settings(ignored_membership_types=["CORPORATE"]),
    )


def _stored(key: str, *, current: bool) -> MembershipAgreement:
    return MembershipAgreement(
        agreement_key=key,
        person_id="p",
        location_id="x",
        system_id=key.split("#")[0],
        agreement_number="1",
        is_current=current,
        is_active=current,
        recurring_payment=Decimal("1"),
    )


def test_a_new_current_agreement_turns_the_others_inactive() -> None:
    old = _stored("a#2024-01-01", current=True)
    older = _stored("b#2023-01-01", current=False)
    changed = retire_other_agreements([old, older], current_key="c#2025-01-01")
    assert [(a.agreement_key, a.is_current, a.is_active) for a in changed] == [
        ("a#2024-01-01", False, False)
    ]


def test_billing_notes_are_added_to_the_lead_notes_once() -> None:
    from clubsync.domain.rules import lead_notes_with

    assert lead_notes_with(None, "  prefers mornings ") == "prefers mornings"
    assert lead_notes_with("met at open day", None) == "met at open day"
    added = lead_notes_with("met at open day", "prefers mornings")
    assert added == "met at open day\nprefers mornings"
    assert lead_notes_with(added, "prefers mornings") == added
