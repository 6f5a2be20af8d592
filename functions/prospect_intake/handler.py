"""Lambda: the prospect intake endpoint (function URL or API Gateway proxy).

The digital guest waiver, web lead and referral forms POST a prospect here with the shared
secret in the `x-clubsync-intake-secret` header. The secret is read from Secrets Manager
(`CLUBSYNC_INTAKE_SECRET_NAME`) through Powertools parameters, cached for five minutes, so a
rotated secret takes effect without a deploy. Everything else is the library's
(clubsync.sync.prospect_intake), shared with `clubsync prospects add`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from clubsync.lambda_runtime import shared_secret, table_repositories
from clubsync.sync.prospect_intake import ProspectIntake, handle_intake_event

logger = Logger(service="prospect-intake")


@cache
def _intake() -> ProspectIntake:
    return ProspectIntake(*table_repositories())


def reset() -> None:
    _intake.cache_clear()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = handle_intake_event(event, _intake(), shared_secret("CLUBSYNC_INTAKE_SECRET_NAME"))
    # Status only: the body holds personal data.
    logger.info("prospect intake", extra={"status": response["statusCode"]})
    return response
