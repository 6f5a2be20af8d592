"""What the sync Lambdas of every type other than members share (functions/<type>_sync): the
environment, the runtime built once per container, and the handler body. The members handler
(functions/members_sync) predates it and keeps its own wiring.

These functions are Tasks of the nightly full sync state machine (docs/decisions.md):
a failed run raises (the state's Retry and Catch take it from there); a run paused for time
returns `continuation`, which the state machine sends back as the next input of the same Task
(a Choice loop), instead of the function invoking itself.

The other functions (prospect intake, Club Hub webhook, duplicate report, due lists) take their
table repositories and shared secrets from here too (`table_repositories`, `shared_secret`).
"""

from __future__ import annotations

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
from clubsync.public_url import SHARED_SECRET_MAX_AGE_SECONDS as SHARED_SECRET_MAX_AGE_SECONDS
from clubsync.public_url import shared_secret as shared_secret
from clubsync.store.tables import ENTITIES, STATE

if TYPE_CHECKING:
    from clubsync.store.entities import EntityRepository
    from clubsync.store.state import StateRepository


class SyncEnvironment(BaseModel):
    """What the stack sets on each sync function."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    entities_table: str = Field(alias=ENTITIES.env_var, min_length=3)
    state_table: str = Field(alias=STATE.env_var, min_length=3)
    abc_base_url: str | None = Field(default=None, alias="CLUBSYNC_ABC_BASE_URL")
    abc_min_request_interval_seconds: float | None = Field(
        default=None, alias="CLUBSYNC_ABC_MIN_REQUEST_INTERVAL_SECONDS", ge=0
    )
    pause_margin_ms: int = Field(default=120_000, alias="CLUBSYNC_PAUSE_MARGIN_MS", ge=0)
    secret_max_age_seconds: int = Field(default=300, alias="CLUBSYNC_SECRET_MAX_AGE_SECONDS", ge=0)

    @classmethod
    def from_environ(cls) -> SyncEnvironment:
        return cls.model_validate(dict(os.environ))


@dataclass
class SyncRuntime:
    env: SyncEnvironment
    entities: Any
    state: Any
    # (sync type, settings, opened) -> a record source whose client is added to `opened`
    source: Callable[[SyncType, LocationSettings, list[Any]], Any]


@cache
def sync_runtime() -> SyncRuntime:
    """Built on the first invocation (cheap imports; moto can start before any client)."""
    import boto3
    from aws_lambda_powertools.utilities import parameters

    from clubsync.providers.abc.client import AbcClient, AbcClientConfig, AbcCredentials
    from clubsync.providers.abc.sources import abc_record_source
    from clubsync.store.entities import EntityRepository
    from clubsync.store.items import DynamoItemTable
    from clubsync.store.state import StateRepository
    from clubsync.sync.scheduled import InvalidEvent

    env = SyncEnvironment.from_environ()
    dynamodb = boto3.client("dynamodb")
    overrides: dict[str, Any] = {}
    if env.abc_base_url:
        overrides["base_url"] = env.abc_base_url
    if env.abc_min_request_interval_seconds is not None:
        overrides["min_request_interval_seconds"] = env.abc_min_request_interval_seconds
    config = AbcClientConfig(**overrides)

    def source(sync_type: SyncType, settings: LocationSettings, opened: list[Any]) -> Any:
        if not settings.billing_secret_name:
            raise InvalidEvent(
                f"location {settings.location_id!r} has no billing_secret_name: add the "
                "Secrets Manager secret of its billing account with `clubsync locations apply`"
            )
        secret = parameters.get_secret(
            settings.billing_secret_name, transform="json", max_age=env.secret_max_age_seconds
        )
        client = AbcClient(settings.club_number, AbcCredentials.model_validate(secret), config)
        opened.append(client)
        return abc_record_source(sync_type, client, settings)

    return SyncRuntime(
        env=env,
        entities=EntityRepository(DynamoItemTable(dynamodb, env.entities_table)),
        state=StateRepository(DynamoItemTable(dynamodb, env.state_table)),
        source=source,
    )


def handle_sync_event(
    sync_type: SyncType, event: Any, remaining_ms: Callable[[], int]
) -> dict[str, Any]:
    """Runs the sync of `sync_type` the event asks for. Returns the step output the state
    machine collects (a TypeResult plus `continuation` when paused). Raises SyncFailed (the
    state's Retry/Catch) and InvalidEvent (caught as a failed type, never retried)."""
    from clubsync.sync.full_sync import TypeResult
    from clubsync.sync.scheduled import (
        SyncDependencies,
        continuation_event,
        parse_event,
        run_scheduled_sync,
    )

    payload = {**event, "sync_type": sync_type.value} if isinstance(event, dict) else event
    parsed = parse_event(payload)
    runtime = sync_runtime()
    opened: list[Any] = []
    deps = SyncDependencies(
        entities=runtime.entities,
        state=runtime.state,
        member_source=lambda settings: None,  # type: ignore[arg-type,return-value]
        should_pause=lambda: remaining_ms() < runtime.env.pause_margin_ms,
        sources={sync_type: lambda settings: runtime.source(sync_type, settings, opened)},
    )
    try:
        run = run_scheduled_sync(payload, deps)
    finally:
        for client in opened:
            client.close()
    output: dict[str, Any] = TypeResult.of_run(run, 1).model_dump(mode="json")
    follow_up = continuation_event(parsed, run)
    if follow_up is not None:
        output["continuation"] = follow_up
    return output


def sync_handler(sync_type: SyncType) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of one sync type, with Powertools logging and metrics."""
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    logger = Logger(service=f"clubsync-{sync_type.value}-sync")
    metrics = Metrics(namespace="clubsync", service=f"{sync_type.value}-sync")

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        from clubsync.sync.engine import SyncFailed

        try:
            output = handle_sync_event(sync_type, event, context.get_remaining_time_in_millis)
        except SyncFailed as failed:
            metrics.add_metric(name="SyncFailed", unit=MetricUnit.Count, value=1)
            logger.error(
                "sync run failed",
                extra={"run_id": failed.run.run_id, "run_message": failed.run.message},
            )
            raise
        metrics.add_metric(name="SyncSucceeded", unit=MetricUnit.Count, value=1)
        # Counts and reasons only: never a person's data.
        logger.info(
            "sync run finished",
            extra={k: output[k] for k in ("run_id", "status", "counts", "skip_reasons")},
        )
        return output

    return handler


def summary_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The last state of the full sync: stores `RUNSUMMARY#{date}` from every branch's output
    (`{"location", "scheduled_time", "results": [...]}`)."""
    from datetime import datetime

    from clubsync.sync.full_sync import result_from_step_output, store_run_summary

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
    return summary.model_dump(mode="json")


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
