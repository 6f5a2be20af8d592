"""The feed import Lambda's runtime (functions/feed_import): a file delivered to the stack's
bucket under `incoming/<provider>/<club id>/<file name>` (Transfer Family's SFTP, or any
upload) reaches it as EventBridge's S3 "Object Created" event; it is imported into every
location of the club (providers/feeds.py).

A file its map refuses, or one no registered club takes, imports nothing: one error line with
the reason and the `FeedFilesRefused` metric (the `feed-import-refused` alarm), no traceback
and no retry (it would fail the same way); a re-upload of the fixed file imports it. A run that
fails (DynamoDB past its retries, a lease held) raises: the `feed-import-errors` alarm, and
Lambda's asynchronous retries continue it. Out of time, the import saves its checkpoint and this
function invokes itself asynchronously with the same event, which continues it (the ledger
remembers where). The same content delivered again imports nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clubsync.store.tables import ENTITIES, STATE

SERVICE = "clubsync-feed-import"
REFUSED_METRIC = "FeedFilesRefused"
FILE_REFUSED = "feed file refused"
BUCKET_VARIABLE = "CLUBSYNC_FEED_BUCKET"


class FeedImportEnvironment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    entities_table: str = Field(alias=ENTITIES.env_var, min_length=3)
    state_table: str = Field(alias=STATE.env_var, min_length=3)
    bucket: str = Field(alias=BUCKET_VARIABLE, min_length=3)
    # Time kept after the last page for the checkpoint, the ledger and the self-invoke.
    pause_margin_ms: int = Field(default=120_000, alias="CLUBSYNC_PAUSE_MARGIN_MS", ge=0)


class _Bucket(BaseModel):
    name: str = Field(min_length=3)


class _Object(BaseModel):
    key: str = Field(min_length=1)
    size: int | None = None


class _Detail(BaseModel):
    bucket: _Bucket
    object: _Object


class ObjectCreated(BaseModel):
    """EventBridge's S3 "Object Created" event: what this function reads of it."""

    model_config = ConfigDict(populate_by_name=True)

    detail_type: str = Field(alias="detail-type")
    detail: _Detail


class BadFeedEvent(ValueError):
    """Not an S3 Object Created event of the stack's bucket."""


def parse_event(event: Any, bucket: str) -> ObjectCreated:
    try:
        parsed = ObjectCreated.model_validate(event)
    except ValidationError as error:
        raise BadFeedEvent(
            "bad feed import event: expected EventBridge's S3 'Object Created' event "
            f"({error.error_count()} problem(s))"
        ) from None
    if parsed.detail_type != "Object Created":
        raise BadFeedEvent(f"bad feed import event: {parsed.detail_type!r}, not 'Object Created'")
    if parsed.detail.bucket.name != bucket:
        raise BadFeedEvent(
            f"bad feed import event: bucket {parsed.detail.bucket.name!r} is not ours"
        )
    return parsed


def import_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The handler: Powertools logger and metrics, clients built on the first invocation."""
    import boto3
    from aws_lambda_powertools import Logger, Metrics

    logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE)
    metrics = Metrics()

    @cache
    def environment() -> FeedImportEnvironment:
        return FeedImportEnvironment.model_validate(dict(os.environ))

    @cache
    def repositories() -> tuple[Any, Any]:
        from clubsync.runtime.sync_lambda import table_repositories

        return table_repositories()

    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    s3 = cache(lambda: boto3.client("s3", endpoint_url=endpoint))
    lambda_client = cache(lambda: boto3.client("lambda", endpoint_url=endpoint))

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        from aws_lambda_powertools.metrics import MetricUnit

        from clubsync.providers.feed.importer import FeedFileError, ImportStatus
        from clubsync.providers.feed.mapping import MapError
        from clubsync.providers.feeds import (
            DeliveryKey,
            DeliveryRefused,
            club_feed,
            import_delivery,
        )
        from clubsync.runtime.run_metrics import record_run

        env = environment()
        entities, state = repositories()

        def time_short() -> bool:
            return bool(context.get_remaining_time_in_millis() < env.pause_margin_ms)

        object_key = None
        try:
            created = parse_event(event, env.bucket)
            object_key = created.detail.object.key
            key = DeliveryKey.parse(object_key)
            club = club_feed(state.locations(), key.provider, key.club_id)
            data = s3().get_object(Bucket=env.bucket, Key=object_key)["Body"].read()
            done = import_delivery(
                data, key.file_name, club, entities, state, should_pause=time_short
            )
        except (BadFeedEvent, DeliveryRefused, FeedFileError, MapError) as refused:
            # Names and counts only: a reason never quotes a cell of the file.
            logger.error(FILE_REFUSED, extra={"object_key": object_key, "reason": str(refused)})
            metrics.add_metric(name=REFUSED_METRIC, unit=MetricUnit.Count, value=1)
            return {"status": "refused", "reason": str(refused)}
        for run in done.runs:
            record_run(metrics, logger, run)
        if done.unrouted:
            logger.warning(
                "rows of location codes no registered location of the club has",
                extra={"unrouted": dict(done.unrouted), "club": key.scope},
            )
        if done.status is ImportStatus.CONTINUED:
            lambda_client().invoke(
                FunctionName=context.invoked_function_arn,
                InvocationType="Event",
                Payload=json.dumps(event).encode(),
            )
            logger.info("feed import continues", extra={"file_hash": done.file_hash})
        return {
            "status": done.status.value,
            "file_hash": done.file_hash,
            "runs": {run.location_id: run.status.value for run in done.runs},
        }

    return handler
