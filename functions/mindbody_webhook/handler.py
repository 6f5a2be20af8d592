"""Lambda: the Mindbody webhook receiver (function URL, auth type NONE: the HMAC signature is
the authentication, as Mindbody cannot sign AWS requests).

The subscription's signature key (`messageSignatureKey`) is read from Secrets Manager
(`CLUBSYNC_MINDBODY_WEBHOOK_SECRET_NAME`, the key as the secret's text) through Powertools
parameters, cached for five minutes, so a new key takes effect without a deploy. Everything
else is the library's (clubsync.providers.mindbody.webhook): each event names a client, read
from Mindbody with the location's own billing secret and call budget.

A request without a valid X-Mindbody-Signature over its body is refused by the gate
(providers/mindbody/gate.py, standard library only) before the library, pydantic or any client
is imported, and counted as `UnauthorizedRequests` (docs/operations.md). An authentic delivery
that cannot be applied now (Mindbody unreadable, call budget spent, a sync holding the lease) is
answered 503 for Mindbody's redelivery and counted as `WebhookDeliveriesDeferred`.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from clubsync.features.public_url import UNAUTHORIZED_METRIC, json_response, shared_secret
from clubsync.providers.mindbody.gate import mindbody_refusal

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from clubsync.domain.settings import LocationSettings
    from clubsync.providers.mindbody.webhook import MindbodyMembers
    from clubsync.store.entities import EntityRepository
    from clubsync.store.state import StateRepository

logger = Logger(service="mindbody-webhook")
# Namespace and the one dimension (`service`) come from the stack's POWERTOOLS_* variables.
metrics = Metrics()
# Not set: every delivery is refused with 401.
SECRET_NAME_VARIABLE = "CLUBSYNC_MINDBODY_WEBHOOK_SECRET_NAME"
# Mindbody's API address; only tests and local runs set it (a sandbox on 127.0.0.1).
BASE_URL_VARIABLE = "CLUBSYNC_MINDBODY_BASE_URL"
DEFERRED_METRIC = "WebhookDeliveriesDeferred"
IGNORED_METRIC = "WebhookEventsIgnored"


@cache
def _repositories() -> tuple[EntityRepository, StateRepository]:
    # Imported on the first authentic delivery only.
    from clubsync.runtime.sync_lambda import table_repositories

    return table_repositories()


def reset() -> None:
    _repositories.cache_clear()


def _connector(state: StateRepository, context: Any) -> Any:
    from aws_lambda_powertools.utilities import parameters

    from clubsync.features.public_url import SHARED_SECRET_MAX_AGE_SECONDS
    from clubsync.providers.mindbody.webhook import WEBHOOK_CLIENT_OPTIONS
    from clubsync.providers.registry import connect_location, named_secret

    read_secret = named_secret(
        lambda name: parameters.get_secret(
            name, transform="json", max_age=SHARED_SECRET_MAX_AGE_SECONDS
        )
    )

    def seconds_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000 - 1

    options = dict(WEBHOOK_CLIENT_OPTIONS)
    if os.environ.get(BASE_URL_VARIABLE):
        options["base_url"] = os.environ[BASE_URL_VARIABLE]

    def connect(settings: LocationSettings) -> MindbodyMembers:
        return connect_location(
            settings,
            read_secret,
            client_options={"mindbody": options},
            seconds_left=seconds_left,
            call_ledger=state,
        )

    return connect


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    key = shared_secret(SECRET_NAME_VARIABLE).encode()
    refusal = mindbody_refusal(event, key)
    if refusal is not None:
        if refusal.unauthorized:
            # The EMF record is the only line a 401 writes (a flood costs no log volume).
            metrics.add_metric(name=UNAUTHORIZED_METRIC, unit=MetricUnit.Count, value=1)
            metrics.flush_metrics()
        else:
            logger.info("mindbody delivery refused", extra={"status": refusal.status})
        return json_response(refusal.status, {"error": refusal.message})
    from clubsync.providers.mindbody.webhook import MindbodyWebhook, handle_webhook_event

    entities, state = _repositories()
    webhook = MindbodyWebhook(entities, state, key, connect=_connector(state, context))
    response = handle_webhook_event(event, webhook)
    status = response["statusCode"]
    if status == 503:
        metrics.add_metric(name=DEFERRED_METRIC, unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
    elif status == 200 and json.loads(response["body"]).get("status") == "ignored":
        metrics.add_metric(name=IGNORED_METRIC, unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
    # Status (and the reason of a deferral: ids and Mindbody's error, no personal data) only.
    extra: dict[str, Any] = {"status": status}
    if status >= 500:
        extra["reason"] = response["body"]
    logger.info("mindbody delivery", extra=extra)
    return response
