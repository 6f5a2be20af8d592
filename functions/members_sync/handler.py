"""Member sync Lambda: the EventBridge Scheduler target.

Thin on purpose: parse the environment, build the dependencies once per container, call
`clubsync.sync.scheduled.run_scheduled_sync`, turn the run record into logs and metrics, and
continue a paused run in a fresh invocation.

Imports are kept cheap (bench/handler_import.py): the library, boto3, httpx and the Powertools
parameters utility load on the first invocation, inside `_runtime()`, which is also what lets
tests start moto before any client exists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from clubsync.store.tables import ENTITIES, STATE

if TYPE_CHECKING:
    from clubsync.domain.runs import RunRecord
    from clubsync.domain.settings import LocationSettings
    from clubsync.providers.base import MemberSource
    from clubsync.store.entities import EntityRepository
    from clubsync.store.state import StateRepository

logger = Logger()
metrics = Metrics()

# Metric names of the run record's counts (RunRecord.metrics()).
COUNT_METRICS = {
    "fetched": "Fetched",
    "created": "Created",
    "updated": "Updated",
    "converted": "Converted",
    "unchanged": "Unchanged",
    "quarantined": "Quarantined",
    "ignored": "Ignored",
    "skipped": "Skipped",
    "pages": "Pages",
    "billing_requests": "BillingRequests",
}
STATUS_METRICS = {
    "succeeded": "SyncSucceeded",
    "failed": "SyncFailed",
    "continued": "SyncContinued",
    "skipped_locked": "SyncSkippedLocked",
}


class Environment(BaseModel):
    """What the stack sets on the function (infra/clubsync_infra/member_sync.py)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    entities_table: str = Field(alias=ENTITIES.env_var, min_length=3)
    state_table: str = Field(alias=STATE.env_var, min_length=3)
    abc_base_url: str | None = Field(default=None, alias="CLUBSYNC_ABC_BASE_URL")
    abc_min_request_interval_seconds: float | None = Field(
        default=None, alias="CLUBSYNC_ABC_MIN_REQUEST_INTERVAL_SECONDS", ge=0
    )
    # Time kept in reserve after the last page: saving the checkpoint and the run record and
    # invoking the continuation must fit in it, and so must one more page of a slow billing API.
    pause_margin_ms: int = Field(default=120_000, alias="CLUBSYNC_PAUSE_MARGIN_MS", ge=0)
    secret_max_age_seconds: int = Field(default=300, alias="CLUBSYNC_SECRET_MAX_AGE_SECONDS", ge=0)
    # Used only when the invocation context carries no function ARN (never on Lambda).
    function_name: str | None = Field(default=None, alias="AWS_LAMBDA_FUNCTION_NAME")

    @classmethod
    def from_environ(cls) -> Environment:
        return cls.model_validate(dict(os.environ))


@dataclass
class Runtime:
    """Everything built once per container."""

    env: Environment
    entities: EntityRepository
    state: StateRepository
    lambda_client: Any
    # (settings, opened) -> a member source whose HTTP client is added to `opened`, so the
    # invocation that opened it closes it.
    member_source: Callable[[LocationSettings, list[Any]], MemberSource]


@cache
def _tracer() -> Any:
    """Powertools' Tracer, created on the first invocation: creating it imports the X-Ray SDK
    (and botocore), even with tracing off, which would double the handler's import time. It
    still patches botocore and httpx before `_runtime()` creates any client."""
    from aws_lambda_powertools import Tracer

    # Only the AWS SDK and the billing HTTP client are worth a trace segment.
    return Tracer(patch_modules=["botocore", "httpx"])


@cache
def _runtime() -> Runtime:
    import boto3

    from clubsync.providers.abc.client import AbcClient, AbcClientConfig, AbcCredentials
    from clubsync.providers.abc.members import AbcMemberSource
    from clubsync.store.entities import EntityRepository
    from clubsync.store.items import DynamoItemTable
    from clubsync.store.state import StateRepository
    from clubsync.sync.scheduled import InvalidEvent

    env = Environment.from_environ()
    dynamodb = boto3.client("dynamodb")
    config_overrides: dict[str, Any] = {}
    if env.abc_base_url:
        config_overrides["base_url"] = env.abc_base_url
    if env.abc_min_request_interval_seconds is not None:
        config_overrides["min_request_interval_seconds"] = env.abc_min_request_interval_seconds
    client_config = AbcClientConfig(**config_overrides)

    def member_source(settings: LocationSettings, opened: list[Any]) -> MemberSource:
        if not settings.billing_secret_name:
            raise InvalidEvent(
                f"location {settings.location_id!r} has no billing_secret_name: add the "
                "Secrets Manager secret of its billing account with `clubsync locations apply`"
            )
        client = AbcClient(
            settings.club_number,
            _credentials(settings.billing_secret_name, env.secret_max_age_seconds, AbcCredentials),
            client_config,
        )
        opened.append(client)
        return AbcMemberSource(client, settings.zone)

    return Runtime(
        env=env,
        entities=EntityRepository(DynamoItemTable(dynamodb, env.entities_table)),
        state=StateRepository(DynamoItemTable(dynamodb, env.state_table)),
        lambda_client=boto3.client("lambda"),
        member_source=member_source,
    )


def _credentials(secret_name: str, max_age: int, model: Any) -> Any:
    """The billing account's {"app_id", "app_key"}, cached for `max_age` seconds so a warm
    container reads Secrets Manager a few times an hour, and a rotation lands within minutes."""
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(secret_name, transform="json", max_age=max_age)
    return model.model_validate(value)


def _invoke_self(runtime: Runtime, function: str, payload: dict[str, Any]) -> None:
    """Asynchronous invocation: this one returns at once and the continuation gets a full
    Lambda time budget (and Lambda's asynchronous retries) of its own."""
    runtime.lambda_client.invoke(
        FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode()
    )


def _summary(run: RunRecord) -> dict[str, Any]:
    """Log fields of a run: ids, counts and the message; never a person's data."""
    return {
        "run_id": run.run_id,
        "status": run.status.value,
        "kind": run.kind.value,
        "scheduled_time": run.scheduled_time.isoformat(),
        "counts": run.metrics(),
        "skip_reasons": run.skip_reasons,
        "run_message": run.message,
    }


def _record_metrics(run: RunRecord) -> None:
    metrics.add_dimension(name="location", value=run.location_id)
    metrics.add_metric(name=STATUS_METRICS[run.status.value], unit=MetricUnit.Count, value=1)
    # A continued run's counts are cumulative and its continuation reports them again: count
    # them once, when the run ends.
    if run.status.value in ("succeeded", "failed"):
        for key, value in run.metrics().items():
            metrics.add_metric(name=COUNT_METRICS[key], unit=MetricUnit.Count, value=value)
    if run.status.value == "failed":
        # Also without the location dimension: the "failed syncs" alarm watches one metric.
        _single_metric("FailedSyncs")


def _single_metric(name: str) -> None:
    from aws_lambda_powertools.metrics import single_metric

    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, default_dimensions=metrics.default_dimensions
    ):
        pass


def _refused(error: Exception, event: Any) -> dict[str, Any]:
    """An event that can never succeed: logged and counted, not raised, so Lambda's
    asynchronous retries do not repeat it; the InvalidEvents alarm tells a person."""
    where = {"location_id": event.get("location"), "kind": event.get("kind")}
    logger.error("sync event refused", extra={"reason": str(error), "event_fields": where})
    # No location dimension: the location may be anything the event said.
    metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
    return {"ok": False, "status": "invalid_event", "message": str(error)}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    traced = _tracer().capture_lambda_handler(_handle, capture_response=False)
    result: dict[str, Any] = traced(event, context)
    return result


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from clubsync.sync.member_sync import SyncFailed
    from clubsync.sync.scheduled import (
        InvalidEvent,
        SyncDependencies,
        continuation_event,
        parse_event,
        run_scheduled_sync,
    )

    event_fields = event if isinstance(event, dict) else {}
    try:
        parsed = parse_event(event)
    except InvalidEvent as error:
        return _refused(error, event_fields)
    # "location" is Powertools' own key (the code location): ours is location_id.
    logger.append_keys(location_id=parsed.location, kind=parsed.kind.value)
    if parsed.resume_run_id:
        logger.append_keys(resume_run_id=parsed.resume_run_id)

    runtime = _runtime()
    margin = runtime.env.pause_margin_ms
    opened: list[Any] = []
    deps = SyncDependencies(
        entities=runtime.entities,
        state=runtime.state,
        member_source=lambda settings: runtime.member_source(settings, opened),
        should_pause=lambda: context.get_remaining_time_in_millis() < margin,
    )
    try:
        run = run_scheduled_sync(event, deps)
    except InvalidEvent as error:
        return _refused(error, event_fields)
    except SyncFailed as failed:
        _record_metrics(failed.run)
        logger.error("sync run failed", extra=_summary(failed.run))
        # Raised: Lambda retries the event asynchronously, then sends it to the DLQ.
        raise
    finally:
        for client in opened:
            client.close()

    _record_metrics(run)
    logger.info("sync run finished", extra=_summary(run))
    result: dict[str, Any] = {
        "ok": True,
        "status": run.status.value,
        "location": run.location_id,
        "kind": run.kind.value,
        "run_id": run.run_id,
        "message": run.message,
    }
    follow_up = continuation_event(parsed, run)
    if follow_up is not None:
        function = getattr(context, "invoked_function_arn", None) or runtime.env.function_name
        if not function:
            raise RuntimeError("cannot continue the run: no function ARN or name to invoke")
        _invoke_self(runtime, function, follow_up)
        logger.info("continuation invoked", extra={"run_id": run.run_id})
        result["continuation"] = follow_up
    return result
