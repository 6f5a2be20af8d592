"""The registry and the locations file: a location names its provider and account, checked by
the provider's own models (clubsync.providers.registry, clubsync.cli.locations)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from clubsync.cli.locations import LocationFileError, parse_locations
from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.providers.abc.provider import AbcConnection
from clubsync.providers.base import ProviderRefused
from clubsync.providers.registry import REGISTRY, connect_location, offered_sync_types

ABC: dict[str, Any] = {"location_id": "springfield", "time_zone": "America/Chicago"}
SANDBOX_SECRET = {"app_id": "sandbox", "app_key": "sandbox"}


def problems_of(*entries: dict[str, Any]) -> list[str]:
    with pytest.raises(LocationFileError) as refused:
        parse_locations({"locations": list(entries)})
    return refused.value.problems


def test_abc_and_clubhub_are_registered() -> None:
    assert {"abc", "clubhub"} <= set(REGISTRY)
    assert REGISTRY["abc"].capabilities.prospect_push
    assert SyncType.CHECKINS not in REGISTRY["clubhub"].capabilities.pulls


def test_a_top_level_club_number_is_the_abc_account() -> None:
    legacy = LocationSettings.model_validate({**ABC, "club_number": "0451"})
    named = LocationSettings.model_validate({**ABC, "account": {"club_number": "0451"}})
    both = LocationSettings.model_validate(
        {**ABC, "club_number": "0451", "account": {"club_number": "0451"}}
    )
    assert legacy == named == both and legacy.provider == "abc"
    assert legacy.club_number == "0451" and hash(legacy) == hash(named)
    # Stored without it: the registry item is the new shape, and reads back the same.
    assert "club_number" not in legacy.model_dump()
    assert LocationSettings.model_validate(legacy.model_dump(mode="json")) == legacy
    assert legacy.model_copy(update={"club_number": "0452"}).club_number == "0452"


def test_a_club_number_disagreeing_with_the_account_is_refused() -> None:
    with pytest.raises(ValidationError, match="disagree"):
        LocationSettings.model_validate(
            {**ABC, "club_number": "0451", "account": {"club_number": "0452"}}
        )


def test_locations_apply_checks_the_account_with_the_providers_model() -> None:
    assert problems_of({**ABC, "club_number": "045"}) == [
        "locations[0] (springfield): account.club_number: String should match pattern '^\\d{4,5}$'"
    ]
    assert problems_of({**ABC, "provider": "clubhub", "account": {}}) == [
        "locations[0] (springfield): account.club_id: Field required"
    ]
    [problem] = problems_of({**ABC, "provider": "zenplanner", "account": {"site_id": 1}})
    assert problem == (
        "locations[0] (springfield): provider: unknown provider 'zenplanner'; registered "
        f"providers: {', '.join(sorted(REGISTRY))}"
    )


def test_a_clubhub_location_applies_with_its_club_id_and_no_secret() -> None:
    [settings] = parse_locations(
        {"locations": [{**ABC, "provider": "clubhub", "account": {"club_id": "AF-1203"}}]}
    )
    assert settings.account == {"club_id": "AF-1203"} and settings.club_number == ""
    assert offered_sync_types(settings) == frozenset()
    connection = connect_location(settings, lambda s: None)
    with pytest.raises(ProviderRefused, match="is on clubhub, which offers no members pull"):
        connection.member_source()
    with pytest.raises(ProviderRefused, match="offers no prospect push"):
        connection.prospect_target()
    connection.close()


def test_two_locations_on_one_account_are_refused_naming_the_account() -> None:
    [problem] = problems_of(
        {**ABC, "club_number": "0451"}, {**ABC, "location_id": "x", "club_number": "0451"}
    )
    assert problem.startswith("club_number '0451' (abc) is given to locations[0]")
    clubhub = {**ABC, "provider": "clubhub", "account": {"club_id": "AF-1"}}
    [problem] = problems_of(clubhub, {**clubhub, "location_id": "x"})
    assert problem.startswith("club_id 'AF-1' (clubhub) is given to")
    # The same value at two providers is two accounts.
    parse_locations(
        {
            "locations": [
                {**ABC, "club_number": "0451"},
                {**clubhub, "location_id": "x", "account": {"club_id": "0451"}},
            ]
        }
    )


def test_an_abc_location_connects_with_its_club_and_the_configured_client() -> None:
    settings = LocationSettings.model_validate(
        {**ABC, "club_number": "0451", "billing_secret_name": "clubsync/abc"}
    )
    connection = connect_location(
        settings,
        lambda s: SANDBOX_SECRET,
        client_options={"abc": {"base_url": "http://billing.invalid/rest"}},
    )
    abc = connection.connection  # type: ignore[attr-defined]
    assert isinstance(abc, AbcConnection)
    assert abc.client.club_number == "0451"
    assert abc.client.config.base_url == "http://billing.invalid/rest"
    assert connection.member_source().provider == "abc"
    assert connection.record_source(SyncType.CHECKINS).provider == "abc"
    connection.close()


def test_a_stored_abc_location_with_a_short_club_number_is_refused_at_connect() -> None:
    settings = LocationSettings.model_validate({**ABC, "club_number": "9"})
    with pytest.raises(ProviderRefused) as refused:
        connect_location(settings, lambda s: SANDBOX_SECRET)
    assert str(refused.value) == (
        "location 'springfield': its abc account is invalid: account.club_number: String "
        "should match pattern '^\\d{4,5}$'"
    )
