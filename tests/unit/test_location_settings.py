"""Location settings refuse bad values with the field named (clubsync.domain.settings)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from clubsync.domain.settings import (
    DEFAULT_PARTIAL_SYNC_HOURS,
    UPGRADED_PARTIAL_SYNC_HOURS,
    LocationSettings,
    RecordOwner,
    locations_sharing_a_club,
)

VALID: dict[str, Any] = {
    "location_id": "springfield",
    "club_number": "0451",
    "time_zone": "America/Chicago",
}


def test_defaults_follow_the_spec() -> None:
    settings = LocationSettings.model_validate(VALID)
    assert settings.partial_sync_hours == DEFAULT_PARTIAL_SYNC_HOURS == (12, 17)
    assert settings.record_owner is RecordOwner.CRM
    assert settings.override_opt_ins_at_conversion is False
    assert settings.duplicate_prospects.if_matching_active_member_at_other_location is False


def test_upgraded_locations_sync_every_hour_from_9_to_20() -> None:
    settings = LocationSettings.model_validate({**VALID, "upgraded": True})
    assert settings.effective_partial_sync_hours() == UPGRADED_PARTIAL_SYNC_HOURS
    assert tuple(range(9, 21)) == UPGRADED_PARTIAL_SYNC_HOURS


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"partial_sync_hours": [12, 24]}, "partial_sync_hours"),
        ({"partial_sync_hours": [-1]}, "partial_sync_hours"),
        ({"club_number": "45a"}, "club_number"),
        ({"record_owner": "nobody"}, "record_owner"),
        ({"location_id": "Has Spaces"}, "location_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_settings_are_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        LocationSettings.model_validate({**VALID, **change})
    assert field in str(raised.value)


def test_partial_sync_cannot_be_at_the_full_sync_hour() -> None:
    with pytest.raises(ValidationError, match="21"):
        LocationSettings.model_validate({**VALID, "partial_sync_hours": [12, 21]})


def test_ignored_membership_types_compare_without_case() -> None:
    settings = LocationSettings.model_validate(
        {**VALID, "ignored_membership_types": ["Corporate "]}
    )
    assert settings.is_ignored_membership_type("CORPORATE")
    assert not settings.is_ignored_membership_type("GOLD")
    assert not settings.is_ignored_membership_type(None)


def test_locations_sharing_a_club_are_found_by_provider_and_club_number() -> None:
    def at(location_id: str, club_number: str) -> LocationSettings:
        return LocationSettings.model_validate(
            {**VALID, "location_id": location_id, "club_number": club_number}
        )

    locations = [at("springfield", "0451"), at("shelbyville", "0452"), at("downtown", "0451")]
    assert locations_sharing_a_club(locations) == {("abc", "0451"): ["springfield", "downtown"]}
    # Leading zeros are part of the number: 451 is another club.
    assert locations_sharing_a_club([at("springfield", "0451"), at("x", "451")]) == {}
    # One location listed twice is not two locations (refused as a repeated location_id).
    assert locations_sharing_a_club([at("springfield", "0451"), at("springfield", "0451")]) == {}
