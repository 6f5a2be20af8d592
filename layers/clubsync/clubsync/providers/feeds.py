"""Delivered files of any file provider ("feed", "moso"): which club a delivery is of, which
registered locations it covers, their map, and the import (providers/feed/importer.py).

The composition of the file path, like `registry.py` for pulls: the Lambda (functions/
feed_import), `clubsync feeds import` and the demo come through here. Deliveries are keyed in
the bucket as `incoming/<provider>/<club id>/<file name>` (docs/providers/file-feeds.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from clubsync.domain.settings import LocationSettings
from clubsync.engine.sync_engine import utc_now
from clubsync.providers.base import ProviderRefused
from clubsync.providers.feed.importer import FeedImport, FeedLocation, import_file
from clubsync.providers.feed.mapping import FeedMap, FeedValues
from clubsync.providers.feed.provider import FileFeed
from clubsync.providers.registry import REGISTRY, field_problems
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository

INCOMING_PREFIX = "incoming/"


class DeliveryRefused(ValueError):
    """A delivery that cannot be imported as addressed or configured (one line)."""


def file_provider(name: str) -> FileFeed:
    provider = REGISTRY.get(name)
    if provider is None or not hasattr(provider, "feed_map"):
        takes = sorted(n for n, p in REGISTRY.items() if hasattr(p, "feed_map"))
        raise DeliveryRefused(
            f"provider {name!r} takes no delivered files (file providers: {', '.join(takes)})"
        )
    made: FileFeed = provider()  # type: ignore[assignment]
    return made


@dataclass(frozen=True)
class DeliveryKey:
    provider: str
    club_id: str
    file_name: str

    @classmethod
    def parse(cls, key: str) -> DeliveryKey:
        parts = key.removeprefix(INCOMING_PREFIX).split("/")
        if not key.startswith(INCOMING_PREFIX) or len(parts) != 3 or not all(parts):
            raise DeliveryRefused(
                f"object {key!r} is not a delivery: expected "
                f"{INCOMING_PREFIX}<provider>/<club id>/<file name>"
            )
        return cls(*parts)

    @property
    def scope(self) -> str:
        return f"{self.provider}#{self.club_id}"


@dataclass(frozen=True)
class ClubFeed:
    """The club a delivery is of: its map, its own values, the locations its files cover."""

    provider: str
    club_id: str
    feed_map: FeedMap
    values: FeedValues | None
    locations: list[FeedLocation]

    @property
    def scope(self) -> str:
        return f"{self.provider}#{self.club_id}"


def _account(provider: FileFeed, settings: LocationSettings) -> Any:
    try:
        return provider.account_model.model_validate(settings.account)
    except ValidationError as error:
        raise DeliveryRefused(
            f"location {settings.location_id!r}: its {provider.name} account is invalid: "
            + "; ".join(field_problems(error, "account"))
        ) from None


def club_feed(locations: Sequence[LocationSettings], provider_name: str, club_id: str) -> ClubFeed:
    """The club `club_id` on `provider_name` from every registered location. Its locations
    must agree on the map (MoSo: the extract version is the club's) and the club's values."""
    provider = file_provider(provider_name)
    found: list[tuple[LocationSettings, Any]] = []
    for settings in locations:
        if settings.provider != provider_name:
            continue
        account = _account(provider, settings)
        if account.club_id == club_id:
            found.append((settings, account))
    if not found:
        raise DeliveryRefused(
            f"no registered {provider_name} location has club_id {club_id!r}: "
            "register its locations first (clubsync locations apply)"
        )
    maps = {s.location_id: provider.feed_map(a) for s, a in found}
    labels = {location_id: m.label for location_id, m in maps.items()}
    if len(set(labels.values())) > 1:
        described = ", ".join(f"{k}: {v}" for k, v in sorted(labels.items()))
        raise DeliveryRefused(
            f"club {club_id!r}: its locations disagree on the map ({described}); "
            "one club has one extract version"
        )
    values = {s.location_id: a.values for s, a in found}
    if len({v.model_dump_json() if v else "" for v in values.values()}) > 1:
        raise DeliveryRefused(
            f"club {club_id!r}: its locations' accounts give different `values`; "
            "the club's values are the same for every location"
        )
    codes = [a.location_code for _, a in found]
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise DeliveryRefused(
            f"club {club_id!r}: several locations have location_code {', '.join(repeated)}"
        )
    settings0, account0 = found[0]
    return ClubFeed(
        provider=provider_name,
        club_id=club_id,
        feed_map=maps[settings0.location_id],
        values=account0.values,
        locations=[FeedLocation(settings=s, location_code=a.location_code) for s, a in found],
    )


def club_of_location(settings: LocationSettings) -> tuple[str, str]:
    """(provider, club id) of a registered location on a file provider."""
    provider = file_provider(settings.provider)
    return settings.provider, _account(provider, settings).club_id


def import_delivery(
    data: bytes,
    file_name: str,
    club: ClubFeed,
    entities: EntityRepository,
    state: StateRepository,
    *,
    clock: Callable[[], datetime] = utc_now,
    should_pause: Callable[[], bool] = lambda: False,
) -> FeedImport:
    """Imports one delivered file of `club` (see importer.import_file for what it raises)."""
    return import_file(
        data,
        file_name,
        scope=club.scope,
        feed_map=club.feed_map,
        locations=club.locations,
        entities=entities,
        state=state,
        values=club.values,
        clock=clock,
        should_pause=should_pause,
    )


__all__ = ["ClubFeed", "DeliveryKey", "DeliveryRefused", "ProviderRefused", "club_feed"]
