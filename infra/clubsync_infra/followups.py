"""Follow-ups (issue 7): the function that stores each location's follow-up due list at the
start of the club's day, and the hourly schedule that runs it.

One hourly schedule for every location rather than one per location at 00:00 local: the
function stores the list of every location whose local day has no list yet, so a location in
any time zone (half-hour offsets included) gets its list within the hour after its midnight,
a missed or failed hour is caught up by the next one, and registering a location needs no
schedule (docs/decisions.md).
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

SERVICE = "clubsync-followups-due"
# Five past every hour (UTC): every zone's midnight falls within the hour before one of them.
HOURLY = scheduler.ScheduleExpression.cron(minute="5", time_zone=TimeZone.ETC_UTC)
# People, PT records, events and follow-up records of a location (Query); employee names
# (BatchGetItem); the follow-up records brought up to date (BatchWriteItem).
ENTITIES_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
]
# The location registry (Query, GetItem); the stored due list (GetItem to skip a stored day,
# PutItem to store it).
STATE_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"]


class FollowUps(Construct):
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
        due = PythonFunction(
            self,
            "Due",
            name="followups_due",
            handler="lambda_handler",
            description="Stores each location's follow-up due list at the start of its day",
            layers=layers,
            environment={
                ENTITIES.env_var: storage.entities.table_name,
                STATE.env_var: storage.state.table_name,
            },
            service=SERVICE,
            memory_size=1024,
            timeout=Duration.minutes(15),
            log_retention=log_retention,
            removal_policy=removal_policy,
            # Hourly runs never overlap in practice; one at a time makes sure.
            reserved_concurrency=1,
        )
        self.function = due.function
        self.log_group = due.log_group
        due.grant_table(storage.entities, ENTITIES_ACTIONS)
        due.grant_table(storage.state, STATE_ACTIONS)
        hourly = stack_schedule(
            self,
            "Hourly",
            function=due,
            expression=HOURLY,
            description="Stores the follow-up due list of every location whose day began",
            retry_attempts=2,
            # The next hour catches up anyway.
            max_event_age=Duration.minutes(50),
            catch_up="the next hour stores any list a failed hour missed.",
        )
        self.schedule = hourly.schedule
        self.dead_letters = hourly.dead_letters
