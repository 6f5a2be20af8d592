"""Lambda: the Club Hub webhook receiver (function URL, auth type NONE: the HMAC signature is
the authentication, as Club Hub cannot sign AWS requests).

The shared secret is read from Secrets Manager (`CLUBSYNC_CLUBHUB_SECRET_NAME`) through
Powertools parameters, cached for five minutes, so a rotated secret takes effect without a
deploy. Everything else is the library's (clubsync.providers.clubhub.webhook).

The URL is public and runs one delivery at a time: a request without a valid signature over
its timestamp and body (providers/clubhub/signing.py) is refused by clubsync.features.public_url
(standard library only) before the library, pydantic or the DynamoDB client are imported, and
counted as `UnauthorizedRequests` (docs/operations.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from clubsync.features.public_url import (
    UNAUTHORIZED_METRIC,
    json_response,
    shared_secret,
)
from clubsync.providers.clubhub.gate import clubhub_refusal
from clubsync.providers.clubhub.signing import tolerance_seconds

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from clubsync.store.entities import EntityRepository
    from clubsync.store.state import StateRepository

logger = Logger(service="clubhub-webhook")
# Namespace and the one dimension (`service`) come from the stack's POWERTOOLS_METRICS_NAMESPACE
# and POWERTOOLS_SERVICE_NAME: never a location, never a namespace in code.
metrics = Metrics()
# Not set: every delivery is refused with 401.
SECRET_NAME_VARIABLE = "CLUBSYNC_CLUBHUB_SECRET_NAME"


@cache
def _repositories() -> tuple[EntityRepository, StateRepository]:
    # Imported on the first authentic delivery only.
    from clubsync.runtime.sync_lambda import table_repositories

    return table_repositories()


def reset() -> None:
    _repositories.cache_clear()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    secret = shared_secret(SECRET_NAME_VARIABLE).encode()
    tolerance = tolerance_seconds()
    refusal = clubhub_refusal(event, secret, datetime.now(UTC), tolerance)
    if refusal is not None:
        if refusal.unauthorized:
            # The EMF record is the only line a 401 writes: in a flood, each extra log line
            # is time on the function's few concurrent slots and CloudWatch Logs volume.
            metrics.add_metric(name=UNAUTHORIZED_METRIC, unit=MetricUnit.Count, value=1)
            metrics.flush_metrics()
        else:
            logger.info("clubhub delivery refused", extra={"status": refusal.status})
        return json_response(refusal.status, {"error": refusal.message})
    from clubsync.providers.clubhub.webhook import ClubHubWebhook, handle_webhook_event

    entities, state = _repositories()
    webhook = ClubHubWebhook(entities, state, secret, tolerance=tolerance)
    response = handle_webhook_event(event, webhook)
    # Status only: bodies name people's accounts.
    logger.info("clubhub delivery", extra={"status": response["statusCode"]})
    return response
