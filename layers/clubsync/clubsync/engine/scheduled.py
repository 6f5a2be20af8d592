"""The entry point a schedule calls: parse the event, find the location, run the sync.

The Lambda handler (functions/members_sync/handler.py) is a thin wrapper around
`run_scheduled_sync`; the CLI, the demo and the scenario runner call it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from clubsync.domain.runs import PullKind, RunCounts, RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LOCATION_ID_PATTERN, LocationSettings
from clubsync.providers.base import MemberSource, ProviderRefused, RecordSource
from clubsync.resources.members import MemberSync, utc_now
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository

_Source = TypeVar("_Source")


class InvalidEvent(ValueError):
    """The event cannot be run as it is; retrying it would fail the same way."""


class NotOffered(InvalidEvent):
    """The location's provider does not pull this sync type. By design, not a fault: the
    nightly state machine is shared by every location and starts every registered type, so
    the full sync records it as "skipped" (never failed, never alarmed); a direct run of it is
    still refused, before any lease or watermark is touched."""

    def __init__(self, settings: LocationSettings, sync_type: SyncType) -> None:
        self.sync_type = sync_type
        self.provider = settings.provider
        super().__init__(f"not offered by provider {settings.provider}")


class ScheduledSyncEvent(BaseModel):
    """What EventBridge Scheduler sends (its payload template fills `scheduled_time` with
    `<aws.scheduler.scheduled-time>`), what the full sync state machine sends (the same plus
    `sync_type` and `caller_continues`), or what a continuation sends with `resume_run_id`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    location: str = Field(pattern=LOCATION_ID_PATTERN)
    kind: PullKind
    scheduled_time: AwareDatetime
    sync_type: SyncType = SyncType.MEMBERS
    resume_run_id: str | None = None
    # Who continues a paused run (docs/decisions.md). True: the caller (the full sync state
    # machine, which loops the Task on the answer's `continuation`); the function must not
    # invoke itself, or two invocations would continue one run. False (Scheduler's partial
    # syncs, invoked asynchronously with nobody waiting for the answer): the function invokes
    # itself with the continuation, under the run's lease. Kept in the continuation event.
    caller_continues: bool = False


def parse_event(event: Any) -> ScheduledSyncEvent:
    if not isinstance(event, dict):
        raise InvalidEvent(f"expected a JSON object event, got {type(event).__name__}")
    try:
        return ScheduledSyncEvent.model_validate(event)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in problem['loc']) or 'event'}: {problem['msg']}"
            for problem in error.errors(include_url=False, include_input=False)
        )
        raise InvalidEvent(f"invalid sync event: {problems}") from error


@dataclass
class SyncDependencies:
    entities: EntityRepository
    state: StateRepository
    member_source: Callable[[LocationSettings], MemberSource]
    clock: Callable[[], datetime] = utc_now
    should_pause: Callable[[], bool] = lambda: False
    # Called after every page with the counts so far (the CLI's progress bar).
    on_page: Callable[[RunCounts], None] | None = None
    # The billing source of every other sync type (employees, check-ins, ...).
    sources: Mapping[SyncType, Callable[[LocationSettings], RecordSource]] = field(
        default_factory=dict
    )


def run_scheduled_sync(event: Any, deps: SyncDependencies) -> RunRecord:
    """Runs the sync an event asks for. Raises InvalidEvent for events that can never succeed
    (unknown location, unknown kind) and SyncFailed for a sync that failed this time."""
    parsed = parse_event(event)
    settings = deps.state.get_location(parsed.location)
    if settings is None:
        raise InvalidEvent(
            f"unknown location {parsed.location!r}: register it with `clubsync locations apply`"
        )
    from clubsync.engine.sync_types import offered_types

    # Checked before any job exists: a Club Hub location's member run must never take the
    # lease or move the watermark its own scheduled pull (providers/clubhub/sync.py) relies on.
    if parsed.sync_type not in offered_types(settings):
        raise NotOffered(settings, parsed.sync_type)
    if parsed.sync_type is not SyncType.MEMBERS:
        return _run_record_sync(parsed, settings, deps)
    job = MemberSync(
        settings=settings,
        source=_connected(lambda: deps.member_source(settings)),
        entities=deps.entities,
        state=deps.state,
        clock=deps.clock,
        should_pause=deps.should_pause,
        on_page=deps.on_page,
    )
    return job.run(
        parsed.kind,
        parsed.scheduled_time.astimezone(UTC),
        resume_run_id=parsed.resume_run_id,
    )


def _run_record_sync(
    parsed: ScheduledSyncEvent, settings: LocationSettings, deps: SyncDependencies
) -> RunRecord:
    from clubsync.engine.sync_types import PARTIAL_SYNC_TYPES, record_engine

    if parsed.kind is SyncKind.PARTIAL and parsed.sync_type not in PARTIAL_SYNC_TYPES:
        raise InvalidEvent(
            f"{parsed.sync_type.value} runs only in the full sync; partial syncs run "
            + ", ".join(sorted(t.value for t in PARTIAL_SYNC_TYPES))
        )
    factory = deps.sources.get(parsed.sync_type)
    if factory is None:
        raise InvalidEvent(f"no billing source configured for {parsed.sync_type.value}")
    engine = record_engine(
        parsed.sync_type,
        settings=settings,
        source=_connected(lambda: factory(settings)),
        entities=deps.entities,
        state=deps.state,
        clock=deps.clock,
        should_pause=deps.should_pause,
        on_page=deps.on_page,
    )
    return engine.run(
        parsed.kind,
        parsed.scheduled_time.astimezone(UTC),
        resume_run_id=parsed.resume_run_id,
    )


def _connected(source: Callable[[], _Source]) -> _Source:
    """The location's source; a location its provider cannot serve as configured (unknown
    provider, bad account or secret, a sync type it does not offer) is an InvalidEvent: the
    same event would be refused again."""
    try:
        return source()
    except ProviderRefused as refused:
        raise InvalidEvent(str(refused)) from refused


def continuation_event(event: ScheduledSyncEvent, run: RunRecord) -> dict[str, Any] | None:
    """The event that continues a paused run, or None when the run is complete."""
    if run.status is not RunStatus.CONTINUED:
        return None
    return {**event.model_dump(mode="json"), "resume_run_id": run.run_id}
