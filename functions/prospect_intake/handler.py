"""Lambda: the prospect intake endpoint (function URL or API Gateway proxy).

The digital guest waiver, web lead and referral forms POST a prospect here with the shared
secret in the `x-clubsync-intake-secret` header. The secret is read from Secrets Manager
(`CLUBSYNC_INTAKE_SECRET_NAME`) through Powertools parameters, cached for five minutes, so a
rotated secret takes effect without a deploy. Everything else is the library's
(clubsync.sync.prospect_intake), shared with `clubsync prospects add`.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

from clubsync.store.entities import EntityRepository
from clubsync.store.items import DynamoItemTable
from clubsync.store.state import StateRepository
from clubsync.store.tables import ENTITIES, STATE
from clubsync.sync.prospect_intake import ProspectIntake, handle_intake_event

logger = Logger(service="prospect-intake")
SECRET_MAX_AGE_SECONDS = 300


@cache
def _intake() -> ProspectIntake:
    dynamodb = boto3.client("dynamodb", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    return ProspectIntake(
        EntityRepository(DynamoItemTable(dynamodb, ENTITIES.resolved_name())),
        StateRepository(DynamoItemTable(dynamodb, STATE.resolved_name())),
    )


def _expected_secret() -> str:
    name = os.environ.get("CLUBSYNC_INTAKE_SECRET_NAME", "")
    if not name:
        return ""  # not configured: nobody is authorized
    value = parameters.get_secret(name, max_age=SECRET_MAX_AGE_SECONDS)
    return value if isinstance(value, str) else ""


def reset() -> None:
    _intake.cache_clear()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = handle_intake_event(event, _intake(), _expected_secret())
    # Status only: the body holds personal data.
    logger.info("prospect intake", extra={"status": response["statusCode"]})
    return response
