"""Location registry Lambda: keeps each location's schedules in step with the registry.

Triggered by the state table's DynamoDB stream, filtered to the registry items (pk
"LOCATIONS"). For every changed location it computes the schedules the location should have
and reconciles only that location's schedules (clubsync.features.scheduling). A removed
location loses its schedules. Records are processed in order and a failure reports the record
back to the stream (partial batch response), so a Scheduler hiccup retries from that record on.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

LOCATIONS_PK = "LOCATIONS"  # clubsync.store.state.LOCATIONS_PK, without importing the store

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class Environment(BaseModel):
    """What the stack sets on the function (infra/clubsync_infra/scheduling.py)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schedule_group: str = Field(alias="CLUBSYNC_SCHEDULE_GROUP", min_length=1)
    sync_function_arn: str = Field(alias="CLUBSYNC_SYNC_FUNCTION_ARN", min_length=1)
    scheduler_role_arn: str = Field(alias="CLUBSYNC_SCHEDULER_ROLE_ARN", min_length=1)
    schedule_dlq_arn: str = Field(alias="CLUBSYNC_SCHEDULE_DLQ_ARN", min_length=1)

    @classmethod
    def from_environ(cls) -> Environment:
        return cls.model_validate(dict(os.environ))


@cache
def _environment() -> Environment:
    return Environment.from_environ()


@cache
def _tracer() -> Any:
    """Created on the first invocation: creating a Tracer imports the X-Ray SDK and botocore
    (bench/handler_import.py); it still patches botocore before the Scheduler client exists."""
    from aws_lambda_powertools import Tracer

    return Tracer(patch_modules=["botocore"])


@cache
def _scheduler() -> Any:
    import boto3

    return boto3.client("scheduler")


def record_handler(record: DynamoDBRecord) -> None:
    from pydantic import ValidationError

    from clubsync.domain.settings import LocationSettings
    from clubsync.features.scheduling import desired_schedules, reconcile

    keys = record.dynamodb.keys if record.dynamodb else None
    if not keys or keys.get("pk") != LOCATIONS_PK:
        return  # the event filter lets only registry items through; nothing else is ours
    location_id = str(keys["sk"])
    env = _environment()
    image = record.dynamodb.new_image if record.dynamodb else None
    desired = []
    if record.event_name is not DynamoDBRecordEventName.REMOVE and image:
        try:
            settings = LocationSettings.model_validate(
                {
                    name: value
                    for name, value in image.items()
                    if name in LocationSettings.model_fields
                }
            )
        except ValidationError as error:
            # A hand-written registry item: keep its current schedules, say why, move on (a
            # retry would fail the same way and hold up the locations behind it).
            fields = sorted({".".join(map(str, e["loc"])) for e in error.errors()})
            logger.error(
                "registry item refused", extra={"location_id": location_id, "fields": fields}
            )
            metrics.add_metric(name="InvalidLocations", unit=MetricUnit.Count, value=1)
            return
        desired = desired_schedules(
            settings,
            target_arn=env.sync_function_arn,
            role_arn=env.scheduler_role_arn,
            dlq_arn=env.schedule_dlq_arn,
            group=env.schedule_group,
        )
    report = reconcile(_scheduler(), env.schedule_group, desired, only_locations={location_id})
    logger.info(
        "location schedules reconciled",
        extra={
            "location_id": location_id,
            # Not "created": that name belongs to logging's LogRecord.
            "schedules_created": report.created,
            "schedules_updated": report.updated,
            "schedules_deleted": report.deleted,
        },
    )
    metrics.add_metric(
        name="SchedulesChanged",
        unit=MetricUnit.Count,
        value=len(report.created) + len(report.updated) + len(report.deleted),
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    traced = _tracer().capture_lambda_handler(_handle, capture_response=False)
    result: dict[str, Any] = traced(event, context)
    return result


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
