"""Lambda: the Club Hub webhook receiver (function URL, auth type NONE: the HMAC signature is
the authentication, as Club Hub cannot sign AWS requests).

The shared secret is read from Secrets Manager (`CLUBSYNC_CLUBHUB_SECRET_NAME`) through
Powertools parameters, cached for five minutes, so a rotated secret takes effect without a
deploy. Everything else is the library's (clubsync.sync.clubhub_webhook).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from clubsync.lambda_runtime import shared_secret, table_repositories
from clubsync.sync.clubhub_webhook import ClubHubWebhook, handle_webhook_event

logger = Logger(service="clubhub-webhook")
# Not set: every delivery is refused with 401.
SECRET_NAME_VARIABLE = "CLUBSYNC_CLUBHUB_SECRET_NAME"


_repositories = cache(table_repositories)


def reset() -> None:
    _repositories.cache_clear()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    entities, state = _repositories()
    webhook = ClubHubWebhook(entities, state, shared_secret(SECRET_NAME_VARIABLE).encode())
    response = handle_webhook_event(event, webhook)
    # Status only: bodies name people's accounts.
    logger.info("clubhub delivery", extra={"status": response["statusCode"]})
    return response
