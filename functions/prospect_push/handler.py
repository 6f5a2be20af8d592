"""Lambda: the entities table's stream (prospect records only, by event filter) -> billing.

Thin: parse the batch, hand each record to the library (clubsync.features.prospect_stream), report
only the failed records (ReportBatchItemFailures) so the rest of the shard moves on.

Exactly once towards billing, in two layers:
* Powertools idempotency, keyed on (location, prospect, push hash): a redelivered record, a
  Lambda retry of a batch or a replay of the stream does not run the push again.
* The library's own create claim in the state table (store/prospects.py), taken before the
  POST: it also holds when the idempotency record has expired, or two records of different
  content race, and it survives an unknown POST outcome.

The persistence layer is built on first use, not at import: it creates its boto3 client when
built, and local runs start moto before the first invocation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from clubsync.features.prospect_push import wall_clock
from clubsync.features.prospect_stream import (
    OrderedRecords,
    ProspectChange,
    PusherFactory,
    change_of,
)
from clubsync.runtime.prospect_lambdas import PushEnvironment, pusher_factory

logger = Logger(service="prospect-push")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
IDEMPOTENCY_PK = "IDEMPOTENCY#prospect_push"


# The wall clock in Lambda; a local replay (clubsync.runtime.local_streams) sets the scenario's.
_clock: Callable[[], datetime] = wall_clock


@cache
def _factory() -> PusherFactory:
    return pusher_factory(PushEnvironment(), clock=_clock)


@cache
def _idempotency() -> tuple[IdempotencyConfig, Callable[..., Any]]:
    env = PushEnvironment()
    persistence = DynamoDBPersistenceLayer(
        table_name=env.state_table,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value=IDEMPOTENCY_PK,
        expiry_attr="expires_at",  # the state table's TTL attribute cleans them up
        boto3_client=boto3.client("dynamodb", endpoint_url=env.aws_endpoint_url),
    )
    config = IdempotencyConfig(
        event_key_jmespath="[location_id, person_id, push_hash]",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=24 * 3600,
    )

    def push(change: dict[str, str]) -> dict[str, Any]:
        return _factory().push(ProspectChange(**change))

    # Applied here rather than as a decorator: the persistence layer exists only now.
    push_once: Callable[..., Any] = idempotent_function(
        data_keyword_argument="change", persistence_store=persistence, config=config
    )(push)
    return config, push_once


def reset() -> None:
    """Forget the cached clients (tests start a fresh moto for each test)."""
    _factory.cache_clear()
    _idempotency.cache_clear()


def use_clock(clock: Callable[[], datetime]) -> None:
    """The time the push records from now on (a scenario replay's clock, so a replay is
    deterministic)."""
    global _clock
    _clock = clock
    _factory.cache_clear()


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config, push_once = _idempotency()
    config.register_lambda_context(context)
    ordered = OrderedRecords()

    def record_handler(record: DynamoDBRecord) -> dict[str, Any] | None:
        change = change_of(record.raw_event)
        if change is None:
            return None  # our own write-back, a later note, a member: nothing to push
        result: dict[str, Any] = ordered.run(change, lambda c: push_once(change=c.as_dict()))
        logger.info("prospect push", extra={"outcome": result.get("outcome")})
        return result

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
