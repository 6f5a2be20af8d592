"""The nightly full sync of a location: every sync type, each retried on its own, one failing
type never stopping the others, and a summary per location and club-local day.

Deployed, AWS Step Functions runs the types (one Task per type with its own Retry and Catch)
and its last state calls `store_run_summary` (functions/full_sync_summary); locally the demo,
the scenario runner and the CLI call `run_full_sync`, which does the same in-process
(docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.runs import RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.engine.scheduled import InvalidEvent, NotOffered, SyncDependencies, run_scheduled_sync
from clubsync.engine.sync_engine import SyncFailed
from clubsync.engine.sync_types import FULL_SYNC_ORDER, full_sync_types, not_offered_types
from clubsync.store.state import StateRepository

DEFAULT_ATTEMPTS = 2
# The status of a type the location's provider does not pull: the shared state machine starts
# every registered type, and this one ended as intended (a "succeeded" summary, no alarm).
SKIPPED = "skipped"


class TypeResult(BaseModel):
    """How one sync type of a full sync ended."""

    model_config = ConfigDict(extra="forbid")

    sync_type: SyncType
    status: str = Field(
        description="a RunStatus value, 'error' when no run was recorded, or 'skipped' for a "
        "type the location's provider does not pull"
    )
    run_id: str | None = None
    attempts: int = 1
    message: str = ""
    counts: dict[str, int] = Field(default_factory=dict)
    skip_reasons: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def of_run(cls, run: RunRecord, attempts: int) -> TypeResult:
        return cls(
            sync_type=run.sync_type,
            status=run.status.value,
            run_id=run.run_id,
            attempts=attempts,
            message=run.message,
            counts=run.metrics(),
            skip_reasons=run.skip_reasons,
        )

    @classmethod
    def not_offered(cls, refused: NotOffered) -> TypeResult:
        """A type the location's provider does not pull: skipped, with the provider named."""
        return cls(sync_type=refused.sync_type, status=SKIPPED, message=str(refused))


class RunSummary(BaseModel):
    """`RUNSUMMARY#{date}` in the state table: the full sync of a location on one day."""

    model_config = ConfigDict(extra="forbid")

    location_id: str
    local_date: str
    scheduled_time: datetime
    status: str
    results: list[TypeResult]


def summary_status(results: Iterable[TypeResult]) -> str:
    # A type skipped because the provider does not pull it counts neither way: a Club Hub
    # location whose every type is skipped has a "succeeded" summary, and one whose only
    # pulled type failed a "failed" one.
    statuses = {result.status for result in results} - {SKIPPED}
    if statuses <= {RunStatus.SUCCEEDED.value}:
        return "succeeded"
    if RunStatus.SUCCEEDED.value in statuses:
        return "partly failed"
    return "failed"


def store_run_summary(
    state: StateRepository,
    settings: LocationSettings,
    scheduled_time: datetime,
    results: Iterable[TypeResult | Mapping[str, Any]],
) -> RunSummary:
    """Stores the day's summary (the Step Functions "summary" state calls this with the output
    of every branch, succeeded or caught)."""
    parsed = [
        result if isinstance(result, TypeResult) else TypeResult.model_validate(result)
        for result in results
    ]
    order = {sync_type: index for index, sync_type in enumerate(FULL_SYNC_ORDER)}
    parsed.sort(key=lambda result: order.get(result.sync_type, len(order)))
    local_date = scheduled_time.astimezone(settings.zone).date().isoformat()
    summary = RunSummary(
        location_id=settings.location_id,
        local_date=local_date,
        scheduled_time=scheduled_time.astimezone(UTC),
        status=summary_status(parsed),
        results=parsed,
    )
    state.put_run_summary(settings.location_id, local_date, summary.model_dump(mode="json"))
    return summary


def run_one_type(
    sync_type: SyncType,
    settings: LocationSettings,
    scheduled_time: datetime,
    deps: SyncDependencies,
    *,
    attempts: int = DEFAULT_ATTEMPTS,
) -> TypeResult:
    """Runs one type of the full sync, retrying a failed run, continuing a paused one."""
    event: dict[str, Any] = {
        "location": settings.location_id,
        "kind": SyncKind.FULL.value,
        "scheduled_time": scheduled_time.isoformat(),
        "sync_type": sync_type.value,
    }
    last: TypeResult | None = None
    for attempt in range(1, attempts + 1):
        try:
            run = run_scheduled_sync(event, deps)
            while run.status is RunStatus.CONTINUED:
                run = run_scheduled_sync({**event, "resume_run_id": run.run_id}, deps)
            return TypeResult.of_run(run, attempt)
        except NotOffered as refused:
            return TypeResult.not_offered(refused)
        except SyncFailed as failed:
            last = TypeResult.of_run(failed.run, attempt)
        except InvalidEvent as error:
            # Retrying cannot help (no source, unknown location).
            return TypeResult(
                sync_type=sync_type, status="error", attempts=attempt, message=str(error)
            )
        except Exception as error:
            last = TypeResult(
                sync_type=sync_type,
                status="error",
                attempts=attempt,
                message=f"{type(error).__name__}: {error}",
            )
    assert last is not None
    return last


def run_full_sync(
    location_id: str,
    scheduled_time: datetime,
    deps: SyncDependencies,
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    on_type: Callable[[TypeResult], None] | None = None,
) -> RunSummary:
    """Every sync type of the location's provider in order, each on its own; stores the day's
    summary. The types its provider does not pull are never run and are listed as skipped,
    as the deployed state machine's summary lists them."""
    settings = deps.state.get_location(location_id)
    if settings is None:
        raise InvalidEvent(f"unknown location {location_id!r}")
    results: list[TypeResult] = []
    for sync_type in not_offered_types(settings):
        results.append(TypeResult.not_offered(NotOffered(settings, sync_type)))
        if on_type is not None:
            on_type(results[-1])
    for sync_type in full_sync_types(settings):
        result = run_one_type(sync_type, settings, scheduled_time, deps, attempts=attempts)
        results.append(result)
        if on_type is not None:
            on_type(result)
    return store_run_summary(deps.state, settings, scheduled_time, results)


def result_from_step_output(output: Mapping[str, Any]) -> TypeResult:
    """A branch output of the state machine as a TypeResult: a Task's own output, or what its
    Catch wrote (`{"sync_type", "error": {"Error", "Cause"}}`) when every retry failed."""
    if "error" in output:
        error = output.get("error") or {}
        return TypeResult(
            sync_type=SyncType(output["sync_type"]),
            status=RunStatus.FAILED.value,
            message=f"{error.get('Error', 'Error')}: {error.get('Cause', '')}"[:1000],
        )
    # Only the result's own fields: a finished Task's output may carry more (never
    # `continuation`: the state machine loops until the run ends).
    return TypeResult.model_validate({k: v for k, v in output.items() if k in TYPE_RESULT_FIELDS})


TYPE_RESULT_FIELDS = frozenset(TypeResult.model_fields)
