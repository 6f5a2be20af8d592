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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clubsync.domain.runs import RunRecord, SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.providers.clubhub.client import ClubHubClient
from clubsync.providers.clubhub.members import ClubHubMemberSource, record_of_delivery
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository
from clubsync.sync.engine import SyncEngine, utc_now
from clubsync.sync.member_sync import MemberJob

# What a pushed record that could not be read answers (it is quarantined with its reason).
QUARANTINED = "quarantined"


def clubhub_member_job(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    client: ClubHubClient | None = None,
) -> MemberJob:
    source = ClubHubMemberSource(settings.club_number, client)
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
    client: ClubHubClient,
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
