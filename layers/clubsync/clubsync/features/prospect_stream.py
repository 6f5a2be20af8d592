"""The entities table's stream, read for the prospect push (functions/prospect_push).

The event source filter (`PROSPECT_RECORD_FILTER`) lets only prospect records through; the CDK
app and the local stream poller use the same pattern. Records of one prospect are handled in
stream order, and once one fails the later ones of the same prospect in the batch fail too, so
Lambda retries them after it instead of applying a later change before an earlier one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clubsync.domain.people import Person
from clubsync.domain.settings import LocationSettings
from clubsync.features.prospect_push import (
    DEFAULT_MAX_ATTEMPTS,
    DeadLetters,
    ProspectPusher,
    needs_push,
    push_hash,
    wall_clock,
)
from clubsync.providers.base import Connection
from clubsync.store.items import from_attribute
from clubsync.store.prospects import ProspectStore, person_from_item
from clubsync.store.state import StateRepository

# Lambda event filter (FilterCriteria pattern) for the prospect push's event source.
PROSPECT_RECORD_FILTER: dict[str, Any] = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"NewImage": {"entity": {"S": ["person"]}, "kind": {"S": ["prospect"]}}},
}


def matches_filter(record: Mapping[str, Any], pattern: Mapping[str, Any]) -> bool:
    """The subset of Lambda's filter rules the pattern above uses: nested keys, and a list of
    accepted exact values at the leaves."""
    for key, wanted in pattern.items():
        if key not in record:
            return False
        value = record[key]
        if isinstance(wanted, Mapping):
            if not isinstance(value, Mapping) or not matches_filter(value, wanted):
                return False
        elif value not in wanted:
            return False
    return True


def person_from_image(image: Mapping[str, Any] | None) -> Person | None:
    """A person from a stream image (DynamoDB JSON), None for other entities or no image."""
    if not image:
        return None
    item = {name: from_attribute(value) for name, value in image.items()}
    if item.get("entity") != "person":
        return None
    return person_from_item(item)


@dataclass(frozen=True)
class ProspectChange:
    """What one stream record asks of the push; also the idempotency key's data."""

    location_id: str
    person_id: str
    push_hash: str

    def as_dict(self) -> dict[str, str]:
        return {
            "location_id": self.location_id,
            "person_id": self.person_id,
            "push_hash": self.push_hash,
        }


def change_of(record: Mapping[str, Any]) -> ProspectChange | None:
    """The push a stream record calls for, or None (see `needs_push`)."""
    data = record.get("dynamodb") or {}
    old = person_from_image(data.get("OldImage"))
    new = person_from_image(data.get("NewImage"))
    if new is None or not needs_push(old, new):
        return None
    return ProspectChange(new.location_id, new.person_id, push_hash(new))


class OrderedRecords:
    """Per batch: once a record of a prospect failed, its later records fail too."""

    def __init__(self) -> None:
        self._failed: set[tuple[str, str]] = set()

    def run(self, change: ProspectChange, handle: Callable[[ProspectChange], Any]) -> Any:
        key = (change.location_id, change.person_id)
        if key in self._failed:
            raise RuntimeError("an earlier record of this prospect failed in this batch")
        try:
            return handle(change)
        except Exception:
            self._failed.add(key)
            raise


class PusherFactory:
    """One `ProspectPusher` per location, built on first use and kept for the invocation (and
    the warm Lambda): settings from the location registry, the prospect target of the
    location's provider connection (`connect`: the composition root, providers/registry.py)."""

    def __init__(
        self,
        state: StateRepository,
        store: ProspectStore,
        *,
        connect: Callable[[LocationSettings], Connection],
        dead_letters: DeadLetters | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        clock: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.state = state
        self.store = store
        self.connect = connect
        self.dead_letters = dead_letters
        self.max_attempts = max_attempts
        # The time the outcomes record: the wall clock in Lambda, the scenario's in a replay.
        self.clock = clock
        self._pushers: dict[str, ProspectPusher] = {}

    def pusher(self, location_id: str) -> ProspectPusher:
        pusher = self._pushers.get(location_id)
        if pusher is None:
            settings = self.state.get_location(location_id)
            if settings is None:
                raise LookupError(f"location {location_id!r} is not registered")
            # Kept open with the pusher for the warm Lambda, as the client always was.
            target = self.connect(settings).prospect_target()
            pusher = ProspectPusher(
                settings,
                self.store,
                target,
                dead_letters=self.dead_letters,
                max_attempts=self.max_attempts,
                clock=self.clock,
            )
            self._pushers[location_id] = pusher
        return pusher

    def push(self, change: ProspectChange) -> dict[str, Any]:
        """Pushes what a stream record asked for; JSON-able (Powertools stores it)."""
        result = self.pusher(change.location_id).push(change.person_id)
        return {"outcome": result.outcome.value, "billing_id": result.billing_id}
