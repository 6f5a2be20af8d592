"""Lambda: the Club Hub webhook receiver (function URL, auth type NONE: the HMAC signature is
the authentication, as Club Hub cannot sign AWS requests).

The shared secret is read from Secrets Manager (`CLUBSYNC_CLUBHUB_SECRET_NAME`) through
Powertools parameters, cached for five minutes, so a rotated secret takes effect without a
deploy. Everything else is the library's (clubsync.sync.clubhub_webhook).
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
from clubsync.sync.clubhub_webhook import ClubHubWebhook, handle_webhook_event

logger = Logger(service="clubhub-webhook")
SECRET_MAX_AGE_SECONDS = 300


@cache
def _repositories() -> tuple[EntityRepository, StateRepository]:
    dynamodb = boto3.client("dynamodb", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    return (
        EntityRepository(DynamoItemTable(dynamodb, ENTITIES.resolved_name())),
        StateRepository(DynamoItemTable(dynamodb, STATE.resolved_name())),
    )


def _secret() -> bytes:
    name = os.environ.get("CLUBSYNC_CLUBHUB_SECRET_NAME", "")
    if not name:
        return b""  # not configured: every delivery is refused with 401
    value = parameters.get_secret(name, max_age=SECRET_MAX_AGE_SECONDS)
    return value.encode() if isinstance(value, str) else b""


def reset() -> None:
    _repositories.cache_clear()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    entities, state = _repositories()
    webhook = ClubHubWebhook(entities, state, _secret())
    response = handle_webhook_event(event, webhook)
    # Status only: bodies name people's accounts.
    logger.info("clubhub delivery", extra={"status": response["statusCode"]})
    return response
