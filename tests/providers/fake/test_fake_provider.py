"""A new provider is one folder (tests/providers/fake/) plus one registration line (its
conftest): a location naming it applies, connects and syncs members through the engine, and
what it does not offer is refused with a reason."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from clubsync.cli.locations import LocationFileError, parse_locations
from clubsync.domain.runs import RunRecord, RunStatus, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.engine.scheduled import InvalidEvent, SyncDependencies, run_scheduled_sync
from clubsync.providers.base import ProviderRefused
from clubsync.providers.registry import REGISTRY, connect_location
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository
from tests.providers.fake.provider import FakeConnection, fake_member

SECRET = "clubsync/fake-site-1"
LOCATION: dict[str, Any] = {
    "location_id": "fake-club",
    "provider": "fake",
    "account": {"site_id": "S-1"},
    "time_zone": "America/Chicago",
    "billing_secret_name": SECRET,
}
SCHEDULED = "2026-11-20T21:00:00-06:00"


def secrets(settings: LocationSettings) -> Mapping[str, Any] | None:
    return {SECRET: {"token": "t0k3n"}}.get(settings.billing_secret_name)


def applied(**changes: Any) -> LocationSettings:
    [settings] = parse_locations({"locations": [{**LOCATION, **changes}]})
    return settings


def test_a_location_on_the_fake_provider_applies() -> None:
    settings = applied()
    assert settings.provider == "fake"
    assert settings.account == {"site_id": "S-1"}
    assert settings.club_number == ""  # ABC's field; the fake has none


def test_an_invalid_account_is_refused_with_the_providers_field_errors() -> None:
    with pytest.raises(LocationFileError) as refused:
        applied(account={"site_id": "one", "colour": "red"})
    assert refused.value.problems == [
        "locations[0] (fake-club): account.site_id: String should match pattern '^S-\\d+$'",
        "locations[0] (fake-club): account.colour: Extra inputs are not permitted",
    ]


def test_an_unknown_provider_is_refused_naming_the_registered_ones() -> None:
    with pytest.raises(LocationFileError) as refused:
        applied(provider="nope")
    assert refused.value.problems == [
        "locations[0] (fake-club): provider: unknown provider 'nope'; registered providers: "
        + ", ".join(sorted(REGISTRY))
    ]
    assert {"abc", "clubhub", "fake"} <= set(REGISTRY)


def test_abc_club_number_at_the_top_level_is_not_another_providers_account() -> None:
    with pytest.raises(LocationFileError, match="club_number is ABC's account field"):
        applied(club_number="0451")


class World:
    """A location on the fake provider registered in memory, synced through the composition
    root the way the Lambdas are (connect_location, then the engine)."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.settings = applied()
        self.entities = EntityRepository(MemoryItemTable("entities"))
        self.state = StateRepository(MemoryItemTable("state"))
        self.state.put_location(self.settings)
        self.options = {"fake": {"sites": {"S-1": records}}}
        self.opened: list[Any] = []

    def connection(self, settings: LocationSettings) -> Any:
        connected = connect_location(settings, secrets, client_options=self.options)
        self.opened.append(connected)
        return connected

    def run(self, sync_type: SyncType) -> RunRecord:
        deps = SyncDependencies(
            entities=self.entities,
            state=self.state,
            member_source=lambda s: self.connection(s).member_source(),
            sources={
                SyncType.CHECKINS: lambda s: self.connection(s).record_source(SyncType.CHECKINS)
            },
        )
        event = {"location": "fake-club", "kind": "full", "scheduled_time": SCHEDULED}
        return run_scheduled_sync({**event, "sync_type": sync_type.value}, deps)


def test_members_sync_from_the_fake_provider_through_the_engine() -> None:
    world = World([fake_member(1), fake_member(2), fake_member(3, email=None)])
    run = world.run(SyncType.MEMBERS)
    assert run.status is RunStatus.SUCCEEDED
    assert (run.counts.created, run.counts.quarantined) == (2, 1)
    people = world.entities.people("fake-club")
    assert sorted(p.billing_member_id or "" for p in people) == ["F1", "F2"]
    [quarantined] = world.state.quarantined("fake-club")
    assert quarantined.reason == "email: missing"
    [connection] = world.opened
    assert isinstance(connection.connection, FakeConnection)
    # The engine's replay rule holds for the new provider too: nothing changed, nothing merged.
    again = world.run(SyncType.MEMBERS)
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 2)


def test_a_sync_type_the_provider_does_not_offer_is_an_invalid_event() -> None:
    world = World([fake_member(1)])
    # Refused before any source is opened (the full sync records it as skipped).
    with pytest.raises(InvalidEvent) as refused:
        world.run(SyncType.CHECKINS)
    assert str(refused.value) == "not offered by provider fake"


def test_the_secret_is_validated_with_the_providers_credentials_model() -> None:
    settings = applied(billing_secret_name="clubsync/other")
    with pytest.raises(ProviderRefused) as refused:
        connect_location(settings, lambda s: {"app_id": "x", "app_key": "y"})
    assert str(refused.value) == (
        "location 'fake-club': secret 'clubsync/other' does not hold fake credentials: "
        "secret.token: Field required"
    )
    with pytest.raises(ProviderRefused, match="has no billing_secret_name"):
        connect_location(applied(billing_secret_name=""), secrets)
