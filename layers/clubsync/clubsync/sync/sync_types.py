"""Every sync type by name: which job runs it, whether partial syncs run it, and the order
the nightly full sync runs them in (docs/decisions.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from clubsync.domain.runs import RunCounts, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.providers.base import RecordSource
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository
from clubsync.sync.checkin_sync import CheckInJob
from clubsync.sync.employee_sync import EmployeeJob
from clubsync.sync.engine import SyncEngine, utc_now
from clubsync.sync.event_sync import EventJob
from clubsync.sync.marketing_source_sync import MarketingSourceJob
from clubsync.sync.pos_sync import PosJob
from clubsync.sync.record_job import RecordJob
from clubsync.sync.service_agreement_sync import ServiceAgreementJob

# Members first (people), employees next (event owners), then what refers to both.
FULL_SYNC_ORDER: tuple[SyncType, ...] = (
    SyncType.MEMBERS,
    SyncType.EMPLOYEES,
    SyncType.EVENTS,
    SyncType.CHECKINS,
    SyncType.POS,
    SyncType.SERVICE_AGREEMENTS,
    SyncType.MARKETING_SOURCES,
)
# Partial syncs: members (the spec) and check-ins (cheap, incremental by nature).
PARTIAL_SYNC_TYPES: frozenset[SyncType] = frozenset({SyncType.MEMBERS, SyncType.CHECKINS})

RECORD_JOBS: dict[SyncType, type[RecordJob]] = {
    SyncType.EMPLOYEES: EmployeeJob,
    SyncType.CHECKINS: CheckInJob,
    SyncType.EVENTS: EventJob,
    SyncType.POS: PosJob,
    SyncType.SERVICE_AGREEMENTS: ServiceAgreementJob,
    SyncType.MARKETING_SOURCES: MarketingSourceJob,
}


def full_sync_types(settings: LocationSettings) -> list[SyncType]:
    """The types the location's full sync runs (marketing sources only with the option on)."""
    return [
        sync_type
        for sync_type in FULL_SYNC_ORDER
        if sync_type is not SyncType.MARKETING_SOURCES or settings.sync_marketing_sources
    ]


def record_engine(
    sync_type: SyncType,
    *,
    settings: LocationSettings,
    source: RecordSource,
    entities: EntityRepository,
    state: StateRepository,
    clock: Callable[[], datetime] = utc_now,
    should_pause: Callable[[], bool] = lambda: False,
    on_page: Callable[[RunCounts], None] | None = None,
) -> SyncEngine:
    job = RECORD_JOBS[sync_type](settings=settings, source=source, entities=entities)
    return SyncEngine(
        settings=settings,
        job=job,
        entities=entities,
        state=state,
        clock=clock,
        should_pause=should_pause,
        on_page=on_page,
    )
