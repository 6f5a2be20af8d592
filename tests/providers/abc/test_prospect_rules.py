"""ABC's prospect rejections, one reason each (spec: "Prospects", common issues)."""

from __future__ import annotations

import pytest

from clubsync.providers.abc.prospect_rules import (
    campaign_not_pon_or_pfa,
    city_has_period,
    country_code,
    invalid_postal_code,
    missing_first_name,
    missing_last_name,
    prospect_warnings,
    rejection_reasons,
)
from clubsync.providers.prospects import ValidationContext
from tests.unit.prospect_helpers import make_prospect

CONTEXT = ValidationContext(default_country="US")


def test_a_complete_prospect_has_no_reason_and_no_warning() -> None:
    person = make_prospect()
    assert rejection_reasons(person, CONTEXT) == []
    assert prospect_warnings(person, CONTEXT) == []


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_first_name_is_rejected(value: str | None) -> None:
    reason = missing_first_name(make_prospect(contact={"first_name": value}), CONTEXT)
    assert reason is not None and "first name" in reason


def test_missing_last_name_is_rejected() -> None:
    reason = missing_last_name(make_prospect(contact={"last_name": None}), CONTEXT)
    assert reason is not None and "last name" in reason


def test_city_with_a_period_is_rejected_when_address_line1_is_present() -> None:
    person = make_prospect(contact={"city": "St. Louis"})
    assert "contains a period" in (city_has_period(person, CONTEXT) or "")


def test_city_with_a_period_is_not_checked_without_address_line1() -> None:
    person = make_prospect(contact={"city": "St. Louis", "address_line1": None})
    assert city_has_period(person, CONTEXT) is None
    assert rejection_reasons(person, CONTEXT) == []


@pytest.mark.parametrize(
    ("country", "code"),
    [("US", "62701"), ("US", "62701-1234"), ("CA", "K1A 0B1"), ("GB", "SW1A 1AA"), (None, "62701")],
)
def test_valid_postal_codes_pass(country: str | None, code: str) -> None:
    person = make_prospect(contact={"country": country, "zip": code})
    assert invalid_postal_code(person, CONTEXT) is None


@pytest.mark.parametrize(
    ("country", "code"), [("US", "6270"), ("US", "K1A 0B1"), ("CA", "62701"), ("MX", "ABCDE")]
)
def test_postal_code_not_valid_for_the_country_is_rejected(country: str, code: str) -> None:
    person = make_prospect(contact={"country": country, "zip": code})
    reason = invalid_postal_code(person, CONTEXT)
    assert reason is not None and code in reason and country in reason


def test_postal_code_uses_the_location_country_when_the_contact_has_none() -> None:
    person = make_prospect(contact={"country": None, "zip": "K1A 0B1"})
    assert invalid_postal_code(person, ValidationContext(default_country="CA")) is None
    assert invalid_postal_code(person, ValidationContext(default_country="US")) is not None


def test_postal_code_is_not_checked_without_address_line1() -> None:
    person = make_prospect(contact={"zip": "nonsense", "address_line1": ""})
    assert invalid_postal_code(person, CONTEXT) is None


def test_country_names_are_read_as_codes() -> None:
    assert country_code("United States", "CA") == "US"
    assert country_code(" usa ", "CA") == "US"
    assert country_code(None, "ca") == "CA"


@pytest.mark.parametrize("kind", ["PON", "PFA", "pfa"])
def test_campaign_of_type_pon_or_pfa_is_accepted(kind: str) -> None:
    person = make_prospect(marketing_source_id="c-1")
    assert campaign_not_pon_or_pfa(person, ValidationContext(campaign_type=kind)) is None


@pytest.mark.parametrize("kind", ["ADV", None])
def test_campaign_of_another_or_unknown_type_is_rejected(kind: str | None) -> None:
    person = make_prospect(marketing_source_id="c-1")
    reason = campaign_not_pon_or_pfa(person, ValidationContext(campaign_type=kind))
    assert reason is not None and "PON or PFA" in reason


def test_no_marketing_source_is_fine() -> None:
    assert campaign_not_pon_or_pfa(make_prospect(), CONTEXT) is None


def test_every_reason_is_reported_in_spec_order() -> None:
    person = make_prospect(
        contact={"first_name": "", "last_name": "", "city": "Mt. Vernon", "zip": "1"},
        marketing_source_id="c-9",
    )
    reasons = rejection_reasons(person, ValidationContext(campaign_type="ADV"))
    assert [r.split()[0] for r in reasons] == ["first", "last", "city", "ZIP/postal", "marketing"]


def test_missing_state_is_a_warning_not_a_rejection() -> None:
    person = make_prospect(contact={"state": None})
    assert rejection_reasons(person, CONTEXT) == []
    assert any("no state" in warning for warning in prospect_warnings(person, CONTEXT))


def test_postal_code_of_an_unknown_country_format_is_warned_about() -> None:
    person = make_prospect(contact={"country": "KE", "zip": "00100"})
    assert rejection_reasons(person, CONTEXT) == []
    assert any("not checked" in warning for warning in prospect_warnings(person, CONTEXT))


def test_abcs_rules_are_the_providers_and_the_intake_preview_leaves_the_campaign_out() -> None:
    from clubsync.domain.settings import LocationSettings
    from clubsync.providers.abc.prospect_rules import ABC_PROSPECT_RULES
    from clubsync.providers.registry import prospect_rules_for

    abc = LocationSettings(
        location_id="springfield", club_number="0451", time_zone="America/Chicago"
    )
    assert prospect_rules_for(abc) is ABC_PROSPECT_RULES
    person = make_prospect(contact={"city": "St. Louis", "state": ""}, marketing_source_id="c-1")
    context = ValidationContext(default_country="US", campaign_type="ADV")
    refusals = ABC_PROSPECT_RULES.refusals(person, context)
    assert refusals == rejection_reasons(person, context)
    assert any("PON or PFA" in reason for reason in refusals)
    preview = ABC_PROSPECT_RULES.preview(person, context)
    assert not any("PON or PFA" in line for line in preview)
    assert any("period" in line for line in preview) and any("state" in line for line in preview)
