"""Lambda: one-time push of a location's prospects to a new billing provider, resumable.

Event: `{"location": "<id>", "restart": false}`. Stops about a minute before Lambda's time runs
out and answers `{"finished": false}`; invoke it again (a Step Functions loop, or by hand) and it
resumes from the checkpoint in the state table. Same library as `clubsync prospects reintegrate`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from clubsync.features.prospect_push import ProspectPusher
from clubsync.features.prospect_reintegration import reintegrate
from clubsync.runtime.prospect_lambdas import PushEnvironment, pusher_factory

logger = Logger(service="prospect-reintegration")
STOP_BEFORE_TIMEOUT_MS = 60_000


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The push function's wiring (environment, clients, credentials), shared.
    factory = pusher_factory(PushEnvironment())
    location_id = str(event["location"])
    base = factory.pusher(location_id)

    def make(scope: str) -> ProspectPusher:
        return ProspectPusher(
            base.settings,
            factory.store,
            base.target,
            claim_scope=scope,
            dead_letters=factory.dead_letters,
            max_attempts=factory.max_attempts,
        )

    report = reintegrate(
        factory.store,
        factory.state,
        make,
        location_id,
        should_stop=lambda: context.get_remaining_time_in_millis() < STOP_BEFORE_TIMEOUT_MS,
        restart=bool(event.get("restart", False)),
    )
    logger.info("reintegration", extra={"finished": report.finished, "run_id": report.run_id})
    return {
        "location": location_id,
        "run_id": report.run_id,
        "finished": report.finished,
        "outcomes": dict(report.outcomes),
        "failing": report.failed,
    }
