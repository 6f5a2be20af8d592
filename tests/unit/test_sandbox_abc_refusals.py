"""The sandbox keeps its own copy of what ABC refuses; it must agree with clubsync's checks."""

from __future__ import annotations

import pytest

from clubsync.providers.abc import prospect_rules as prospect_validation
from clubsync.sandbox.abc import refusals


def test_the_sandbox_postal_table_agrees_with_the_domain() -> None:
    assert refusals.POSTAL_CODE_PATTERNS == prospect_validation.POSTAL_CODE_PATTERNS


@pytest.mark.parametrize(
    "country", [None, "", "usa", "United  States", "canada", "UK", "de", "Mars"]
)
def test_country_codes_agree(country: str | None) -> None:
    assert refusals.country_code(country, "us") == prospect_validation.country_code(country, "us")
