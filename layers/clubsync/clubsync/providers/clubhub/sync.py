"""Club Hub on the engine: its member stream and agreement policy wired into the member job,
for a pull (`pull`, a normal engine run: lease, watermark, checkpoint, run record, quarantine)
and for pushed deliveries (`ingest_delivery`, `SyncEngine.ingest`). The composition of Club
Hub's parts, so the member job and the engine stay free of any provider.

Both use the `members` sync type of the location: one writer at a time for its people and
agreements, and one quarantine, so a pull that receives a fixed version of a record a push had
quarantined releases it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from clubsync.domain.runs import RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.engine.sync_engine import SyncEngine, SyncFailed, utc_now
from clubsync.providers.clubhub.mapping import PROVIDER
from clubsync.providers.clubhub.members import (
    ClubHubListing,
    ClubHubMemberSource,
    record_of_delivery,
)
from clubsync.providers.clubhub.provider import club_id_of
from clubsync.resources.members import MemberJob
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository

# What a pushed record that could not be read answers (it is quarantined with its reason).
QUARANTINED = "quarantined"


def clubhub_member_job(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    client: ClubHubListing | None = None,
) -> MemberJob:
    source = ClubHubMemberSource(club_id_of(settings), client)
    return MemberJob(settings, source, entities, policy=source.policy, state=state)


@dataclass(frozen=True)
class ClubHubRun:
    """An engine run of Club Hub records and what merging each one did, in order."""

    run: RunRecord
    outcomes: list[str]


def pull(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    client: ClubHubListing,
    *,
    clock: Callable[[], datetime] = utc_now,
    should_pause: Callable[[], bool] = lambda: False,
    resume_run_id: str | None = None,
) -> ClubHubRun:
    """A full pull of one location from Club Hub: every account and membership, merged like a
    push (a second pull, or one after pushes, writes nothing). Raises SyncFailed when Club Hub
    cannot be read, after recording the failed run; the watermark then stays."""
    job = clubhub_member_job(settings, entities, state, client)
    engine = SyncEngine(
        settings=settings,
        job=job,
        entities=entities,
        state=state,
        clock=clock,
        should_pause=should_pause,
    )
    run = engine.run(SyncKind.FULL, clock(), resume_run_id=resume_run_id)
    return ClubHubRun(run, list(job.outcomes.values()))


def ingest_delivery(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    delivery: dict[str, Any],
    delivery_id: str,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> ClubHubRun:
    """One pushed delivery (its JSON object, shape already checked) through `SyncEngine.ingest`.
    `outcomes` holds one entry: the membership outcome ("added", "replaced_pending", ...),
    the person's when there is no membership ("created", "unchanged", ...), or "quarantined";
    empty when another writer held the lease (run status skipped_locked)."""
    job = clubhub_member_job(settings, entities, state)
    engine = SyncEngine(settings=settings, job=job, entities=entities, state=state, clock=clock)
    record = record_of_delivery(delivery)
    run = engine.ingest([record], clock(), message=f"Club Hub delivery {delivery_id}")
    if run.counts.quarantined:
        return ClubHubRun(run, [QUARANTINED])
    record_id = job.record_id(record)
    found = job.outcomes.get(record_id) if record_id is not None else None
    return ClubHubRun(run, [found] if found else [])


# -- the scheduled reconciliation pull -------------------------------------------------------
# A location is pulled again once its last successful pull is this old: the hourly schedule
# then pulls each Club Hub location about once a day, and a failed or unfinished pull is
# retried (or continued from its checkpoint) the next hour.
RECONCILE_EVERY = timedelta(hours=23)


def is_clubhub(settings: LocationSettings) -> bool:
    """Whether the location's billing system is Club Hub. Read as text: the provider names are
    the settings' to define (issue 12's provider registry); until Club Hub is one, no
    location is, and the pull runs only for a location named in the event."""
    return str(settings.provider) == PROVIDER


def pull_due(state: StateRepository, settings: LocationSettings, now: datetime) -> bool:
    last = state.watermark(settings.location_id, SyncType.MEMBERS)
    unfinished = state.checkpoint(settings.location_id, SyncType.MEMBERS) is not None
    return unfinished or last is None or last <= now - RECONCILE_EVERY


@dataclass
class Reconciliation:
    """What one invocation of the scheduled pull did: every run it made (failed ones too) and
    the locations left for the next invocation (out of time)."""

    runs: list[RunRecord] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [run.location_id for run in self.runs if run.status is RunStatus.FAILED]


def reconcile(
    entities: EntityRepository,
    state: StateRepository,
    connect: Callable[[LocationSettings], ClubHubListing],
    *,
    location_id: str | None = None,
    clock: Callable[[], datetime] = utc_now,
    should_stop: Callable[[], bool] = lambda: False,
    should_pause: Callable[[], bool] = lambda: False,
) -> Reconciliation:
    """Pulls every Club Hub location whose pull is due (`location_id`: that one, due or not),
    continuing an unfinished pull from its checkpoint. A location that fails does not stop the
    others; its failed run is in the result (the caller raises, for the alarm)."""
    now = clock()
    if location_id is not None:
        named = state.get_location(location_id)
        if named is None:
            raise ValueError(f"unknown location {location_id!r}: register it first")
        targets = [named]
    else:
        targets = [s for s in state.locations() if is_clubhub(s) and pull_due(state, s, now)]
    result = Reconciliation()
    for settings in targets:
        if should_stop():
            result.pending.append(settings.location_id)
            continue
        stored = state.checkpoint(settings.location_id, SyncType.MEMBERS)
        try:
            pulled = pull(
                settings,
                entities,
                state,
                connect(settings),
                clock=clock,
                should_pause=should_pause,
                resume_run_id=str(stored["run_id"]) if stored else None,
            )
        except SyncFailed as failed:
            result.runs.append(failed.run)
            continue
        result.runs.append(pulled.run)
    return result
