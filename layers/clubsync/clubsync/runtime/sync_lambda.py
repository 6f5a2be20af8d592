"""What the sync Lambdas of every type share (functions/<type>_sync, members included): the
environment, the runtime built once per container, the handler body, and the summary handler
of the nightly full sync.

Who continues a paused run is the event's `caller_continues` (docs/decisions.md):
- the nightly full sync state machine sends `caller_continues: true`: a paused run returns
  `continuation`, which the state machine sends back as the next input of the same Task (a
  Choice loop); a failed run raises SyncFailed and a hopeless event raises InvalidEvent (the
  state's Retry and Catch take them from there, InvalidEvent never retried);
- a type the location's provider does not pull (NotOffered) is answered with a "skipped"
  TypeResult, whoever asked: the state machine is shared by every location;
- EventBridge Scheduler's partial syncs (members, check-ins: asynchronous, nobody reads the
  answer) leave it out: a paused run invokes this function again asynchronously with the
  continuation, under the run's lease; a hopeless event is answered, not raised, so Lambda's
  asynchronous retries do not repeat it; a failed run raises (Lambda retries, then the sync
  dead-letter queue).

Every type's runs become the same metrics and log lines (clubsync.runtime.run_metrics), in the
namespace the stack sets (POWERTOOLS_METRICS_NAMESPACE), without a location dimension.

The other functions (prospect intake, Club Hub webhook, duplicate report, due lists) take their
table repositories and shared secrets from here too (`table_repositories`, `shared_secret`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings

# Re-exported: the shared-secret lookup lives with the public URLs' gate, which runs before
# anything of this module (pydantic models) is imported.
from clubsync.features.public_url import (
    SHARED_SECRET_MAX_AGE_SECONDS as SHARED_SECRET_MAX_AGE_SECONDS,
)
from clubsync.features.public_url import shared_secret as shared_secret
from clubsync.store.tables import ENTITIES, STATE

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

    from clubsync.providers.base import Connection
    from clubsync.store.entities import EntityRepository
    from clubsync.store.state import StateRepository


WRITE_PACE_ENV = "CLUBSYNC_WRITE_UNITS_PER_SECOND"


class SyncEnvironment(BaseModel):
    """What the stack sets on each sync function."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    entities_table: str = Field(alias=ENTITIES.env_var, min_length=3)
    state_table: str = Field(alias=STATE.env_var, min_length=3)
    abc_base_url: str | None = Field(default=None, alias="CLUBSYNC_ABC_BASE_URL")
    abc_min_request_interval_seconds: float | None = Field(
        default=None, alias="CLUBSYNC_ABC_MIN_REQUEST_INTERVAL_SECONDS", ge=0
    )
    # Time kept in reserve after the last page: saving the checkpoint and the run record and
    # handing on the continuation must fit in it, and so must one more page of a slow API.
    pause_margin_ms: int = Field(default=120_000, alias="CLUBSYNC_PAUSE_MARGIN_MS", ge=0)
    secret_max_age_seconds: int = Field(default=300, alias="CLUBSYNC_SECRET_MAX_AGE_SECONDS", ge=0)
    # Write units a second this function's runs send to one partition key of the entities
    # table (the stack sets engine.sync_types.write_units_per_second of its type); unset:
    # unpaced (local runs, moto).
    write_units_per_second: float | None = Field(default=None, alias=WRITE_PACE_ENV, gt=0)
    # Used only when the invocation context carries no function ARN (never on Lambda).
    function_name: str | None = Field(default=None, alias="AWS_LAMBDA_FUNCTION_NAME")

    @classmethod
    def from_environ(cls) -> SyncEnvironment:
        return cls.model_validate(dict(os.environ))


@dataclass
class SyncRuntime:
    env: SyncEnvironment
    entities: Any
    state: Any
    # (sync type, settings, opened, seconds_left) -> the location's record source of that type;
    # its provider connection is added to `opened` (the invocation closes it) and gives up a
    # back-off longer than `seconds_left()`.
    source: Callable[[SyncType, LocationSettings, list[Any], Callable[[], float]], Any]
    # (settings, opened) -> the member source, likewise
    member_source: Callable[[LocationSettings, list[Any], Callable[[], float]], Any]
    # (function, event) -> None: the asynchronous invocation that continues a paused run
    invoke_async: Callable[[str, dict[str, Any]], None]


@cache
def _tracer() -> Any:
    """Powertools' Tracer, created on the first invocation: creating it imports the X-Ray SDK
    (and botocore), even with tracing off, which would double the handler's import time. It
    still patches botocore and httpx before `sync_runtime()` creates any client."""
    from aws_lambda_powertools import Tracer

    # Only the AWS SDK and the billing HTTP client are worth a trace segment.
    return Tracer(patch_modules=["botocore", "httpx"])


@cache
def sync_runtime() -> SyncRuntime:
    """Built on the first invocation (cheap imports; moto can start before any client)."""
    import boto3
    from aws_lambda_powertools.utilities import parameters

    from clubsync.providers.registry import connect_location, named_secret
    from clubsync.store.entities import EntityRepository
    from clubsync.store.items import DynamoItemTable, WritePacer
    from clubsync.store.state import StateRepository

    env = SyncEnvironment.from_environ()
    pace = env.write_units_per_second
    pacer = WritePacer(pace) if pace else None
    dynamodb = boto3.client("dynamodb")
    abc_options: dict[str, Any] = {}
    if env.abc_base_url:
        abc_options["base_url"] = env.abc_base_url
    if env.abc_min_request_interval_seconds is not None:
        abc_options["min_request_interval_seconds"] = env.abc_min_request_interval_seconds
    client_options = {"abc": abc_options}

    # Cached for max_age seconds: a warm container reads Secrets Manager a few times an hour,
    # and a rotation lands within minutes.
    read_secret = named_secret(
        lambda name: parameters.get_secret(
            name, transform="json", max_age=env.secret_max_age_seconds
        )
    )

    state = StateRepository(DynamoItemTable(dynamodb, env.state_table))

    def connection(
        settings: LocationSettings, opened: list[Any], seconds_left: Callable[[], float]
    ) -> Connection:
        # The composition root (providers/registry.py): provider, account and secret checked
        # there; a refusal becomes InvalidEvent in run_scheduled_sync.
        connected = connect_location(
            settings,
            read_secret,
            client_options=client_options,
            seconds_left=seconds_left,
            # Billing calls counted per account and day (Mindbody's daily call budget).
            call_ledger=state,
        )
        opened.append(connected)
        return connected

    def source(
        sync_type: SyncType,
        settings: LocationSettings,
        opened: list[Any],
        seconds_left: Callable[[], float],
    ) -> Any:
        return connection(settings, opened, seconds_left).record_source(sync_type)

    def member_source(
        settings: LocationSettings, opened: list[Any], seconds_left: Callable[[], float]
    ) -> Any:
        return connection(settings, opened, seconds_left).member_source()

    # Created only when a run has to continue itself (the Scheduler targets).
    lambda_client = cache(lambda: boto3.client("lambda"))

    def invoke_async(function: str, event: dict[str, Any]) -> None:
        # Asynchronous: this invocation returns at once and the continuation gets a full
        # Lambda time budget (and Lambda's asynchronous retries) of its own.
        lambda_client().invoke(
            FunctionName=function, InvocationType="Event", Payload=json.dumps(event).encode()
        )

    return SyncRuntime(
        env=env,
        entities=EntityRepository(DynamoItemTable(dynamodb, env.entities_table, pacer=pacer)),
        state=state,
        source=source,
        member_source=member_source,
        invoke_async=invoke_async,
    )


def handle_sync_event(
    sync_type: SyncType,
    event: Any,
    context: Any,
    *,
    metrics: Metrics,
    logger: Logger,
) -> dict[str, Any]:
    """Runs the sync of `sync_type` the event asks for and records it (metrics, log line).
    Returns a TypeResult (what the state machine collects), plus `continuation` when paused
    and the caller continues, or `continued_by_invocation` when this function did."""
    from clubsync.engine.full_sync import TypeResult
    from clubsync.engine.scheduled import (
        InvalidEvent,
        NotOffered,
        SyncDependencies,
        continuation_event,
        parse_event,
        run_scheduled_sync,
    )
    from clubsync.engine.sync_engine import SyncFailed
    from clubsync.runtime.run_metrics import record_crash, record_run

    # The event names its type only when the state machine sent it; each function runs one.
    payload = {**event, "sync_type": sync_type.value} if isinstance(event, dict) else event
    caller_continues = isinstance(event, dict) and event.get("caller_continues") is True
    try:
        parsed = parse_event(payload)
    except InvalidEvent as error:
        return _refused(metrics, logger, sync_type, error, event, raise_it=caller_continues)
    # "location" is Powertools' own key (the code location): ours is location_id.
    logger.append_keys(
        location_id=parsed.location, sync_type=sync_type.value, kind=parsed.kind.value
    )
    if parsed.resume_run_id:
        logger.append_keys(resume_run_id=parsed.resume_run_id)

    runtime = sync_runtime()
    margin = runtime.env.pause_margin_ms
    opened: list[Any] = []

    def seconds_left() -> float:
        # What the run may still spend waiting on billing: the rest is the pause margin's.
        return float(context.get_remaining_time_in_millis() - margin) / 1000

    deps = SyncDependencies(
        entities=runtime.entities,
        state=runtime.state,
        member_source=lambda settings: runtime.member_source(settings, opened, seconds_left),
        should_pause=lambda: context.get_remaining_time_in_millis() < margin,
        sources={
            sync_type: lambda settings: runtime.source(sync_type, settings, opened, seconds_left)
        },
    )
    try:
        run = run_scheduled_sync(payload, deps)
    except NotOffered as refused:
        # The shared state machine starts every type for every location: a type its provider
        # does not pull ends as a skipped result (summary "succeeded"), not a caught failure,
        # and is no refused event for the alarm; a stale Scheduler event is answered alike.
        logger.info("sync type not offered by the location's provider: skipped")
        return TypeResult.not_offered(refused).model_dump(mode="json")
    except InvalidEvent as error:
        return _refused(metrics, logger, sync_type, error, event, raise_it=caller_continues)
    except SyncFailed as failed:
        record_run(metrics, logger, failed.run)
        # Raised: the state machine's Retry/Catch, or Lambda's asynchronous retries and then
        # the sync dead-letter queue.
        raise
    except Exception as error:
        # Not a billing failure (a DynamoDB error past its retries, a bug): still a failed
        # sync for the alarm, and raised the same way.
        record_crash(metrics, logger, sync_type, payload, error)
        raise
    finally:
        for connection in opened:
            connection.close()

    record_run(metrics, logger, run)
    output: dict[str, Any] = TypeResult.of_run(run, 1).model_dump(mode="json")
    follow_up = continuation_event(parsed, run)
    if follow_up is None:
        return output
    if caller_continues:
        output["continuation"] = follow_up
        return output
    function = getattr(context, "invoked_function_arn", None) or runtime.env.function_name
    if not function:
        raise RuntimeError("cannot continue the run: no function ARN or name to invoke")
    runtime.invoke_async(function, follow_up)
    logger.info("continuation invoked", extra={"run_id": run.run_id})
    # Not `continuation`: nothing may loop on a run that is already being continued.
    output["continued_by_invocation"] = follow_up
    return output


def _refused(
    metrics: Metrics,
    logger: Logger,
    sync_type: SyncType,
    error: Exception,
    event: Any,
    *,
    raise_it: bool,
) -> dict[str, Any]:
    """An event that can never succeed: counted and logged; raised for the state machine (a
    failed type, never retried), answered for an asynchronous invocation (not retried)."""
    from clubsync.runtime.run_metrics import record_refused

    record_refused(metrics, logger, sync_type, str(error), event)
    if raise_it:
        raise error
    return {"sync_type": sync_type.value, "status": "invalid_event", "message": str(error)}


def sync_handler(sync_type: SyncType) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of one sync type, with Powertools logging, tracing and metrics.
    Namespace and service come from the POWERTOOLS_* variables the stack sets: a namespace
    given here would override them."""
    from aws_lambda_powertools import Logger, Metrics

    from clubsync.runtime.run_metrics import sync_service

    service = os.environ.get("POWERTOOLS_SERVICE_NAME") or sync_service(sync_type)
    logger = Logger(service=service)
    metrics = Metrics(service=service)

    def traced(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return handle_sync_event(sync_type, event, context, metrics=metrics, logger=logger)

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        capture = _tracer().capture_lambda_handler(traced, capture_response=False)
        result: dict[str, Any] = capture(event, context)
        return result

    return handler


def summary_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The handler of the full sync's last state: stores `RUNSUMMARY#{date}` from every
    branch's output (`{"location", "scheduled_time", "results": [...]}`) and emits its status
    as metrics (FullSyncPartlyFailed and FullSyncFailed are alarmed)."""
    from aws_lambda_powertools import Logger, Metrics

    logger = Logger()
    metrics = Metrics()

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        from datetime import datetime

        from clubsync.engine.full_sync import result_from_step_output, store_run_summary
        from clubsync.runtime.run_metrics import record_summary

        runtime = sync_runtime()
        settings = runtime.state.get_location(event["location"])
        if settings is None:
            raise ValueError(f"unknown location {event['location']!r}")
        summary = store_run_summary(
            runtime.state,
            settings,
            datetime.fromisoformat(str(event["scheduled_time"]).replace("Z", "+00:00")),
            [result_from_step_output(output) for output in event.get("results", [])],
        )
        answer: dict[str, Any] = summary.model_dump(mode="json")
        record_summary(metrics, logger, answer)
        return answer

    return handler


# -- what the other functions share (intake, Club Hub webhook, duplicate report, due lists) --
def table_repositories() -> tuple[EntityRepository, StateRepository]:
    """The entities and state repositories of a function: table names from the variables the
    stack sets, `AWS_ENDPOINT_URL` only in tests and local runs (moto). Call it once per
    container (cache it): the client is built here, after moto may have started."""
    import boto3

    from clubsync.store.entities import EntityRepository
    from clubsync.store.items import DynamoItemTable
    from clubsync.store.state import StateRepository

    dynamodb = boto3.client("dynamodb", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    return (
        EntityRepository(DynamoItemTable(dynamodb, ENTITIES.resolved_name())),
        StateRepository(DynamoItemTable(dynamodb, STATE.resolved_name())),
    )
