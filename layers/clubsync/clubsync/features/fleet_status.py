"""Fleet health at a glance (`clubsync status`, issue 16): every location and sync type, worst
first.

For each location and each sync type its provider pulls: the last success (the watermark), the
newest runs (the last failed one gives the error), the records in quarantine; per location the
prospects still to push; per dead-letter queue its depth.

Reads, per location: its registry entry (one Query over the registry for all locations), the
watermarks (BatchGetItem, 100 keys a request), for each sync type one Query of its newest
`RECENT_RUNS` runs read backwards, one Query of the type's quarantine keys (as many items as are
quarantined now, not history). The pending prospect pushes are the one unbounded read: a Query
of the location's people (members too, keys and two attributes projected), as the entities table
has no index by push state; `pushes=False` leaves it out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from clubsync.domain.people import PersonKind, ProspectPushState
from clubsync.domain.runs import RunRecord, RunStatus
from clubsync.engine.sync_types import full_sync_types
from clubsync.features.staleness import STALE_AFTER
from clubsync.store.entities import PERSON_PREFIX, location_pk
from clubsync.store.items import ItemTable
from clubsync.store.state import StateRepository

# Enough to see past a few lease skips and continuations to the run that decided the state.
RECENT_RUNS = 10
# Pushes still to come: never tried yet, or failing and retried by the stream.
WAITING_PUSHES = frozenset({ProspectPushState.PENDING.value, ProspectPushState.FAILING.value})


class Health(StrEnum):
    # In the order the report shows them: worst first.
    FAILING = "failing"
    STALE = "stale"
    OK = "ok"


_RANK = {health: rank for rank, health in enumerate(Health)}


class TypeStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sync_type: str
    health: Health
    last_success: datetime | None
    # Hours since the last success; None when there never was one.
    age_hours: float | None
    last_error: str | None
    last_error_at: datetime | None
    quarantined: int


class LocationStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location_id: str
    provider: str
    health: Health
    # None: not read (`pushes=False`).
    pending_pushes: int | None
    types: list[TypeStatus]


class FleetStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checked_at: datetime
    stale_after_hours: float
    locations: list[LocationStatus]
    # Queue name -> ApproximateNumberOfMessages; None: the queue's URL was not given.
    dead_letters: dict[str, int | None]

    def count(self, health: Health) -> int:
        return sum(1 for location in self.locations if location.health is health)


def one_line(text: str, width: int = 200) -> str:
    """An error message as one line (run messages may carry a provider's multi-line answer)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def type_status(
    sync_type: str,
    last_success: datetime | None,
    runs: Sequence[RunRecord],
    quarantined: int,
    now: datetime,
    stale_after: timedelta = STALE_AFTER,
) -> TypeStatus:
    """Failing when the newest run that decided anything failed (a lease skip decides nothing);
    stale when the last success is older than `stale_after` or never happened; else ok."""
    decided = [run for run in runs if run.status is not RunStatus.SKIPPED_LOCKED]
    failed = next((run for run in decided if run.status is RunStatus.FAILED), None)
    if decided and decided[0].status is RunStatus.FAILED:
        health = Health.FAILING
    elif last_success is None or now - last_success > stale_after:
        health = Health.STALE
    else:
        health = Health.OK
    return TypeStatus(
        sync_type=sync_type,
        health=health,
        last_success=last_success,
        age_hours=(round((now - last_success).total_seconds() / 3600, 1) if last_success else None),
        last_error=(
            one_line(failed.message or "; ".join(failed.errors) or "failed") if failed else None
        ),
        last_error_at=failed.started_at if failed else None,
        quarantined=quarantined,
    )


def pending_pushes(entities: ItemTable, location_id: str) -> int:
    """Prospects of the location whose push is still to come (unbounded: see the module)."""
    return sum(
        1
        for item in entities.query(
            location_pk(location_id), PERSON_PREFIX, projection=("kind", "push")
        )
        if item.get("kind") == PersonKind.PROSPECT.value
        and (item.get("push") or {}).get("state", ProspectPushState.PENDING.value) in WAITING_PUSHES
    )


def fleet_status(
    state: StateRepository,
    entities: ItemTable,
    now: datetime,
    *,
    location_id: str | None = None,
    dead_letters: Mapping[str, int | None] | None = None,
    pushes: bool = True,
    stale_after: timedelta = STALE_AFTER,
) -> FleetStatus:
    """Every registered location (or only `location_id`), worst first; within a location its
    sync types worst first, then in registry order. Raises LookupError for an unknown
    `location_id`."""
    if location_id is not None:
        settings = state.get_location(location_id)
        if settings is None:
            raise LookupError(f"location {location_id!r} is not registered")
        registered = [settings]
    else:
        registered = state.locations()
    per_type = {location.location_id: full_sync_types(location) for location in registered}
    wanted = {sync_type for types in per_type.values() for sync_type in types}
    ids = [location.location_id for location in registered]
    watermarks = {sync_type: state.watermarks(ids, sync_type.value) for sync_type in wanted}
    locations: list[LocationStatus] = []
    for settings in registered:
        types = [
            type_status(
                sync_type.value,
                watermarks[sync_type].get(settings.location_id),
                state.latest_runs(settings.location_id, sync_type.value, RECENT_RUNS),
                len(state.quarantine_index(settings.location_id, sync_type.value)),
                now,
                stale_after,
            )
            for sync_type in per_type[settings.location_id]
        ]
        types.sort(key=lambda status: _RANK[status.health])
        locations.append(
            LocationStatus(
                location_id=settings.location_id,
                provider=settings.provider,
                health=min((s.health for s in types), key=lambda h: _RANK[h], default=Health.OK),
                pending_pushes=pending_pushes(entities, settings.location_id) if pushes else None,
                types=types,
            )
        )
    locations.sort(key=lambda location: (_RANK[location.health], location.location_id))
    return FleetStatus(
        checked_at=now,
        stale_after_hours=stale_after.total_seconds() / 3600,
        locations=locations,
        dead_letters=dict(dead_letters or {}),
    )
