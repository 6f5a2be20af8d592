"""Wiring of the prospect Lambdas (push, reintegration) from their environment: tables,
billing credentials, dead letters. One place, so the functions stay thin and agree."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3
from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.settings import LocationSettings
from clubsync.features.prospect_push import DEFAULT_MAX_ATTEMPTS, wall_clock
from clubsync.features.prospect_stream import PusherFactory
from clubsync.providers.abc.client import DEFAULT_BASE_URL
from clubsync.providers.base import Connection
from clubsync.providers.registry import SecretReader, connect_location, named_secret
from clubsync.store.items import DynamoItemTable
from clubsync.store.prospects import ProspectStore
from clubsync.store.state import StateRepository
from clubsync.store.tables import ENTITIES, STATE


class PushEnvironment(BaseModel):
    """What the prospect functions read from their environment (set by the CDK app)."""

    model_config = ConfigDict(frozen=True)

    entities_table: str = Field(default_factory=lambda: ENTITIES.resolved_name())
    state_table: str = Field(default_factory=lambda: STATE.resolved_name())
    abc_base_url: str = Field(
        default_factory=lambda: os.environ.get("CLUBSYNC_ABC_BASE_URL", DEFAULT_BASE_URL)
    )
    # Local runs only: the billing sandbox's fixed credentials instead of Secrets Manager.
    sandbox_credentials: bool = Field(
        default_factory=lambda: os.environ.get("CLUBSYNC_SANDBOX_CREDENTIALS") == "1"
    )
    max_attempts: int = Field(
        default_factory=lambda: int(
            os.environ.get("CLUBSYNC_PROSPECT_PUSH_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)
        )
    )
    dead_letter_queue_url: str = Field(
        default_factory=lambda: os.environ.get("CLUBSYNC_PROSPECT_PUSH_DLQ_URL", "")
    )
    aws_endpoint_url: str | None = Field(
        default_factory=lambda: os.environ.get("AWS_ENDPOINT_URL") or None
    )


class SqsDeadLetters:
    """Prospects whose push gave up, for the redrive (`clubsync prospects redrive`)."""

    def __init__(self, queue_url: str, endpoint_url: str | None) -> None:
        self.queue_url = queue_url
        self._sqs = boto3.client("sqs", endpoint_url=endpoint_url)

    def send(self, location_id: str, person_id: str, reason: str) -> None:
        body = {"location_id": location_id, "person_id": person_id, "reason": reason}
        self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))


def billing_secrets(env: PushEnvironment) -> SecretReader:
    """The location's billing secret: Secrets Manager, or the sandbox's in local runs."""
    if env.sandbox_credentials:
        return lambda settings: {"app_id": "sandbox", "app_key": "sandbox"}

    def read(name: str) -> Any:
        # Powertools caches the secret for five minutes across warm invocations.
        from aws_lambda_powertools.utilities import parameters

        return parameters.get_secret(name, transform="json", max_age=300)

    return named_secret(read)


def billing_connector(env: PushEnvironment) -> Callable[[LocationSettings], Connection]:
    """A location's provider connection, through the composition root."""
    secrets = billing_secrets(env)
    options = {"abc": {"base_url": env.abc_base_url}}

    def connect(settings: LocationSettings) -> Connection:
        return connect_location(settings, secrets, client_options=options)

    return connect


def pusher_factory(
    env: PushEnvironment, *, clock: Callable[[], datetime] = wall_clock
) -> PusherFactory:
    """`clock`: the wall clock in Lambda; a local replay passes the scenario's."""
    dynamodb = boto3.client("dynamodb", endpoint_url=env.aws_endpoint_url)
    state_table = DynamoItemTable(dynamodb, env.state_table)
    return PusherFactory(
        StateRepository(state_table),
        ProspectStore(DynamoItemTable(dynamodb, env.entities_table), state_table),
        connect=billing_connector(env),
        dead_letters=(
            SqsDeadLetters(env.dead_letter_queue_url, env.aws_endpoint_url)
            if env.dead_letter_queue_url
            else None
        ),
        max_attempts=env.max_attempts,
        clock=clock,
    )
