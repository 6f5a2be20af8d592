"""The scheduled Club Hub reconciliation pull's Lambda runtime (functions/clubhub_pull): its
environment, its event, and the handler factory. The pulls themselves are the engine's
(`providers/clubhub/sync.py reconcile`).

Events:
- `{}` (the hourly schedule): every Club Hub location whose last successful pull is a day old,
  or whose pull is unfinished (continued from its checkpoint);
- `{"location_id": "springfield"}`: that location now (an operator's catch-up, e.g. after the
  webhook was down longer than Club Hub redelivers).

Every run becomes the same metrics and log line as any sync (clubsync.runtime.run_metrics). If any
location's pull failed the invocation raises after trying the others, so the function's
Errors reach the `clubhub-pull-errors` alarm; the next hour retries it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clubsync.domain.settings import LOCATION_ID_PATTERN
from clubsync.store.tables import ENTITIES, STATE

SERVICE = "clubsync-clubhub-pull"
BASE_URL_VARIABLE = "CLUBSYNC_CLUBHUB_BASE_URL"


class ClubHubPullEnvironment(BaseModel):
    """What the stack sets on the function."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    entities_table: str = Field(alias=ENTITIES.env_var, min_length=3)
    state_table: str = Field(alias=STATE.env_var, min_length=3)
    # Not set (deployed without `-c clubhubBaseUrl=...`): a due Club Hub location fails its
    # pull, saying so; with none, the schedule finds nothing to do.
    base_url: str | None = Field(default=None, alias=BASE_URL_VARIABLE, min_length=8)
    # Time kept after the last page for the checkpoint and the run record (as the syncs do).
    pause_margin_ms: int = Field(default=120_000, alias="CLUBSYNC_PAUSE_MARGIN_MS", ge=0)


class PullEvent(BaseModel):
    # Unknown keys are refused: a misspelt "location_id" must not pull every location instead.
    model_config = ConfigDict(extra="forbid", frozen=True)

    location_id: str | None = Field(default=None, pattern=LOCATION_ID_PATTERN)


def parse_event(event: Any) -> PullEvent:
    try:
        return PullEvent.model_validate(event)
    except ValidationError as error:
        raise ValueError(
            'bad Club Hub pull event: expected {} or {"location_id": "<id>"} '
            f"({error.error_count()} problem(s))"
        ) from None


def pull_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The handler: Powertools logger and metrics (namespace and service from the stack's
    POWERTOOLS_* variables), the tables built on the first invocation."""
    from functools import cache

    from aws_lambda_powertools import Logger, Metrics

    logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE)
    metrics = Metrics()

    @cache
    def environment() -> ClubHubPullEnvironment:
        return ClubHubPullEnvironment.model_validate(dict(os.environ))

    @cache
    def repositories() -> tuple[Any, Any]:
        from clubsync.runtime.sync_lambda import table_repositories

        return table_repositories()

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        from clubsync.providers.clubhub.client import ClubHubClient
        from clubsync.providers.clubhub.sync import reconcile
        from clubsync.runtime.run_metrics import record_run

        parsed = parse_event(event)
        env = environment()
        entities, state = repositories()
        opened: list[ClubHubClient] = []

        def connect(_: Any) -> ClubHubClient:
            if env.base_url is None:
                raise RuntimeError(
                    f"{BASE_URL_VARIABLE} is not set: deploy with -c clubhubBaseUrl=<Club Hub API>"
                )
            client = ClubHubClient(env.base_url)
            opened.append(client)
            return client

        def time_short() -> bool:
            return bool(context.get_remaining_time_in_millis() < env.pause_margin_ms)

        try:
            result = reconcile(
                entities,
                state,
                connect,
                location_id=parsed.location_id,
                should_stop=time_short,
                should_pause=time_short,
            )
        finally:
            for client in opened:
                client.close()
        for run in result.runs:
            record_run(metrics, logger, run)
        if result.pending:
            logger.warning(
                "Club Hub pulls left for the next hour", extra={"pending": result.pending}
            )
        if result.failed:
            # Raised after every location was tried: Errors -> the alarm; the next hour retries.
            raise RuntimeError(f"Club Hub pull failed for {', '.join(result.failed)}")
        return {
            "runs": {run.location_id: run.status.value for run in result.runs},
            "pending": result.pending,
        }

    return handler
