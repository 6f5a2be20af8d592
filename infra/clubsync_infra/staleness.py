"""The hourly staleness check (issue 11): the function that counts the locations with no
successful member sync for 26 hours (`StaleLocations`, alarmed in Observability) and the
stack's schedule that runs it.

One check over every location rather than a metric or an alarm per location: the cost stays
one metric, one alarm and ~100 DynamoDB requests an hour at 10,000 locations
(docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, TimeZone
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from clubsync.store.tables import ENTITIES, STATE
from clubsync_infra.runtime import PythonFunction, stack_schedule
from clubsync_infra.storage import Storage

SERVICE = "clubsync-stale-locations"
# Twenty-five past every hour (UTC), apart from the due lists' :05.
HOURLY = scheduler.ScheduleExpression.cron(minute="25", time_zone=TimeZone.ETC_UTC)
# The registry (Query), the watermarks and first-seen markers (BatchGetItem), a first-seen
# marker for a location never synced (PutItem). Nothing of the entities table.
STATE_ACTIONS = ["dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:PutItem"]


class Staleness(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        layers: Sequence[lambda_.ILayerVersion],
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.service = SERVICE
        check = PythonFunction(
            self,
            "Check",
            name="stale_locations",
            description="Counts the locations with no successful member sync for 26 hours",
            layers=layers,
            environment={
                # table_repositories() builds both repositories; only the state table is read.
                ENTITIES.env_var: storage.entities.table_name,
                STATE.env_var: storage.state.table_name,
            },
            service=SERVICE,
            memory_size=512,
            timeout=Duration.minutes(5),
            log_retention=log_retention,
            removal_policy=removal_policy,
            # Hourly runs never overlap; one at a time makes sure.
            reserved_concurrency=1,
        )
        self.function = check.function
        self.log_group = check.log_group
        check.grant_table(storage.state, STATE_ACTIONS)
        hourly = stack_schedule(
            self,
            "Hourly",
            function=check,
            expression=HOURLY,
            description="Counts the locations whose member sync is stale",
            retry_attempts=2,
            max_event_age=Duration.minutes(50),
            catch_up="a check that does not run emits no StaleLocations point, which the "
            "stale-locations alarm treats as breaching.",
        )
        self.schedule = hourly.schedule
        self.dead_letters = hourly.dead_letters
