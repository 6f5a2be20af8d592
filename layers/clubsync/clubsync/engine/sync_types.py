"""The sync-type registry: the one list of sync types (docs/decisions.md, issue 12).

For every sync type: the job the engine runs, its stage in the nightly full sync, whether
partial syncs run it, whether a location's settings leave it out, and its Lambda (folder,
memory, timeout). Everything that lists sync types derives from `SYNC_TYPES`: the full sync
(in process and the Step Functions state machine), the partial-sync schedules, the sync
functions infra creates, the dashboards and the local runs. Adding a sync type is one entry
here plus its job and its `functions/<name>_sync/handler.py` (tests/unit/test_sync_types.py
checks the folders against the registry).

Cheap to import on purpose: the location registry Lambda reads the partial types through
`clubsync.features.scheduling` and must not load every job, the engine and the store on a cold
start, so job classes are imported when a job is built (`SyncTypeSpec.job`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from clubsync.domain.runs import RunCounts, SyncType
from clubsync.domain.settings import LocationSettings

if TYPE_CHECKING:
    from clubsync.engine.sync_engine import SyncEngine, SyncJob
    from clubsync.providers.base import MemberSource, RecordSource
    from clubsync.store.entities import EntityRepository
    from clubsync.store.state import StateRepository


class JobClass(Protocol):
    """A job's class (a RecordJob subclass, or MemberJob): one instance serves one run."""

    def __call__(
        self,
        *,
        settings: LocationSettings,
        # A MemberSource for members, a RecordSource for the others (their own classes check).
        source: Any,
        entities: EntityRepository,
    ) -> SyncJob: ...


def _always(settings: LocationSettings) -> bool:
    return True


@dataclass(frozen=True)
class SyncTypeSpec:
    """One sync type, as the engine, the schedules and infra see it."""

    sync_type: SyncType
    # Imports and returns the job class: called when a job is built, never at import.
    job: Callable[[], JobClass]
    # Nightly order: every type of a stage starts once the whole previous stage has ended;
    # the types of one stage run side by side (a Parallel state when there are several).
    stage: int
    # Run in partial syncs too (Scheduler invokes the function at the location's partial
    # hours), not only in the nightly full sync.
    partial: bool = False
    # Whether a location's full sync runs it; a type it leaves out still has its function
    # and branch (the job itself then writes nothing: docs/decisions.md).
    runs_for: Callable[[LocationSettings], bool] = _always
    # What the schedule descriptions call it ("partial check-in sync").
    label: str = ""
    # Its Lambda function. CPU scales with memory: a page is parsed, validated and merged.
    memory_mb: int = 1024
    # Longest Lambda allows: a run that needs more saves its checkpoint and continues.
    timeout_seconds: int = 900

    @property
    def name(self) -> str:
        return self.sync_type.value

    @property
    def function_dir(self) -> str:
        """Its Lambda's folder: functions/<name>_sync/handler.py, entry point `handler`."""
        return f"{self.name}_sync"


# The job classes, imported only when a job is built (see the module docstring).
def _members() -> JobClass:
    from clubsync.resources.members import MemberJob

    return MemberJob


def _employees() -> JobClass:
    from clubsync.resources.employees import EmployeeJob

    return EmployeeJob


def _events() -> JobClass:
    from clubsync.resources.events import EventJob

    return EventJob


def _checkins() -> JobClass:
    from clubsync.resources.checkins import CheckInJob

    return CheckInJob


def _pos() -> JobClass:
    from clubsync.resources.pos import PosJob

    return PosJob


def _service_agreements() -> JobClass:
    from clubsync.resources.service_agreements import ServiceAgreementJob

    return ServiceAgreementJob


def _marketing_sources() -> JobClass:
    from clubsync.resources.marketing_sources import MarketingSourceJob

    return MarketingSourceJob


def _marketing_sources_on(settings: LocationSettings) -> bool:
    return settings.sync_marketing_sources


# In full-sync order. Stage 0: members (people: everything else refers to them); stage 1:
# employees (event owners); stage 2: what refers to both, side by side.
# Partial syncs: members (the spec) and check-ins (cheap, incremental by nature).
SYNC_TYPES: tuple[SyncTypeSpec, ...] = (
    SyncTypeSpec(SyncType.MEMBERS, _members, stage=0, partial=True, label="member"),
    SyncTypeSpec(SyncType.EMPLOYEES, _employees, stage=1, label="employee"),
    SyncTypeSpec(SyncType.EVENTS, _events, stage=2, label="event"),
    SyncTypeSpec(SyncType.CHECKINS, _checkins, stage=2, partial=True, label="check-in"),
    SyncTypeSpec(SyncType.POS, _pos, stage=2, label="POS"),
    SyncTypeSpec(
        SyncType.SERVICE_AGREEMENTS, _service_agreements, stage=2, label="service agreement"
    ),
    SyncTypeSpec(
        SyncType.MARKETING_SOURCES,
        _marketing_sources,
        stage=2,
        runs_for=_marketing_sources_on,
        label="marketing source",
    ),
)


def _checked(specs: tuple[SyncTypeSpec, ...]) -> dict[SyncType, SyncTypeSpec]:
    """By sync type; refuses a registry infra could not build (caught at import, by tests)."""
    by_type = {spec.sync_type: spec for spec in specs}
    if len(by_type) != len(specs):
        raise ValueError("a sync type is registered twice")
    stages = [spec.stage for spec in specs]
    if stages != sorted(stages) or sorted(set(stages)) != list(range(len(set(stages)))):
        raise ValueError(f"stages must be 0, 1, ... in registry order, got {stages}")
    return by_type


_BY_TYPE = _checked(SYNC_TYPES)

# Derived views (never written by hand elsewhere).
FULL_SYNC_ORDER: tuple[SyncType, ...] = tuple(spec.sync_type for spec in SYNC_TYPES)
FULL_SYNC_STAGES: tuple[tuple[SyncType, ...], ...] = tuple(
    tuple(spec.sync_type for spec in SYNC_TYPES if spec.stage == stage)
    for stage in range(SYNC_TYPES[-1].stage + 1)
)
PARTIAL_SYNC_ORDER: tuple[SyncType, ...] = tuple(
    spec.sync_type for spec in SYNC_TYPES if spec.partial
)
PARTIAL_SYNC_TYPES: frozenset[SyncType] = frozenset(PARTIAL_SYNC_ORDER)
# Members read a MemberSource (SyncDependencies.member_source); every other type a
# RecordSource (SyncDependencies.sources) until providers offer one stream per resource.
RECORD_SYNC_TYPES: tuple[SyncType, ...] = tuple(
    sync_type for sync_type in FULL_SYNC_ORDER if sync_type is not SyncType.MEMBERS
)


# The share of a partition key's write units a sync may use: the rest is headroom for the
# webhook, prospect intake and the follow-up writes of the same location.
PACED_SHARE = 0.8


def write_units_per_second(sync_type: SyncType, partition_limit: float) -> float:
    """What one run of `sync_type` may write to a partition key per second: the paced share of
    the key's limit, split between the types that can write at the same time (its full-sync
    stage, or the partial syncs, which start together), as they write the location's keys."""
    stage = next(len(stage) for stage in FULL_SYNC_STAGES if sync_type in stage)
    together = max(stage, len(PARTIAL_SYNC_ORDER) if sync_type in PARTIAL_SYNC_ORDER else 1)
    return PACED_SHARE * partition_limit / together


def spec_of(sync_type: SyncType) -> SyncTypeSpec:
    return _BY_TYPE[sync_type]


def offered_types(settings: LocationSettings) -> frozenset[SyncType]:
    """The types the location's provider pulls (its `capabilities`); none for an unknown one.

    The registry is imported here, not at the top: it loads every provider's client, which the
    location registry Lambda's cold start must not pay for (test_sync_types)."""
    from clubsync.providers.registry import offered_sync_types

    return offered_sync_types(settings)


def full_sync_types(settings: LocationSettings) -> list[SyncType]:
    """The types the location's full sync runs, in order: those its provider pulls, and
    marketing sources only with the option on. Empty for a provider with no scheduled pulls
    (Club Hub: its own reconciliation Lambda pulls it)."""
    offered = offered_types(settings)
    return [
        spec.sync_type
        for spec in SYNC_TYPES
        if spec.sync_type in offered and spec.runs_for(settings)
    ]


def not_offered_types(settings: LocationSettings) -> list[SyncType]:
    """The registered types the location's provider does not pull, in full-sync order: the
    shared state machine still starts them, and each ends "skipped" (docs/decisions.md)."""
    offered = offered_types(settings)
    return [sync_type for sync_type in FULL_SYNC_ORDER if sync_type not in offered]


def partial_sync_types(settings: LocationSettings) -> list[SyncType]:
    """The partial-sync types the location's provider pulls, in order (its partial schedules)."""
    offered = offered_types(settings)
    return [sync_type for sync_type in PARTIAL_SYNC_ORDER if sync_type in offered]


def record_engine(
    sync_type: SyncType,
    *,
    settings: LocationSettings,
    source: RecordSource | MemberSource,
    entities: EntityRepository,
    state: StateRepository,
    clock: Callable[[], datetime] | None = None,
    should_pause: Callable[[], bool] = lambda: False,
    on_page: Callable[[RunCounts], None] | None = None,
) -> SyncEngine:
    """The engine running one sync of `sync_type` with its registered job."""
    from clubsync.engine.sync_engine import SyncEngine, utc_now

    job = spec_of(sync_type).job()(settings=settings, source=source, entities=entities)
    return SyncEngine(
        settings=settings,
        job=job,
        entities=entities,
        state=state,
        clock=clock or utc_now,
        should_pause=should_pause,
        on_page=on_page,
    )
