"""Lambda: the prospect intake endpoint (function URL or API Gateway proxy).

The digital guest waiver, web lead and referral forms POST a prospect here with the shared
secret in the `x-clubsync-intake-secret` header. The secret is read from Secrets Manager
(`CLUBSYNC_INTAKE_SECRET_NAME`) through Powertools parameters, cached for five minutes, so a
rotated secret takes effect without a deploy. Everything else is the library's
(clubsync.features.prospect_intake), shared with `clubsync prospects add`.

The URL is public and its reserved concurrency small: a request without the secret is refused
by clubsync.features.public_url (standard library only) before the library, pydantic or the DynamoDB
client are imported, and counted as `UnauthorizedRequests` (docs/operations.md).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from clubsync.features.public_url import (
    UNAUTHORIZED_METRIC,
    intake_refusal,
    json_response,
    shared_secret,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from clubsync.features.prospect_intake import ProspectIntake

logger = Logger(service="prospect-intake")
# Namespace and the one dimension (`service`) come from the stack's POWERTOOLS_METRICS_NAMESPACE
# and POWERTOOLS_SERVICE_NAME: never a location, never a namespace in code.
metrics = Metrics()
SECRET_NAME_VARIABLE = "CLUBSYNC_INTAKE_SECRET_NAME"


@cache
def _intake() -> ProspectIntake:
    # Imported on the first authenticated request only.
    from clubsync.features.prospect_intake import ProspectIntake
    from clubsync.runtime.sync_lambda import table_repositories

    return ProspectIntake(*table_repositories())


def reset() -> None:
    _intake.cache_clear()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    secret = shared_secret(SECRET_NAME_VARIABLE)
    refusal = intake_refusal(event, secret)
    if refusal is not None:
        if refusal.unauthorized:
            # The EMF record is the only line a 401 writes: in a flood, each extra log line
            # is time on the function's few concurrent slots and CloudWatch Logs volume.
            metrics.add_metric(name=UNAUTHORIZED_METRIC, unit=MetricUnit.Count, value=1)
            metrics.flush_metrics()
        else:
            logger.info("prospect intake refused", extra={"status": refusal.status})
        return json_response(
            refusal.status, {"errors": [{"field": refusal.field, "message": refusal.message}]}
        )
    from clubsync.features.prospect_intake import handle_intake_event

    response = handle_intake_event(event, _intake(), secret)
    # Status only: the body holds personal data.
    logger.info("prospect intake", extra={"status": response["statusCode"]})
    return response
