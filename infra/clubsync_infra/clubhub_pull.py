"""The scheduled Club Hub reconciliation pull (issue 12): one function and an hourly schedule.

Pushes keep a Club Hub location current; the pull catches up what pushes missed (the webhook
down longer than Club Hub redelivers, an event older than the delivery-id memory). One hourly
schedule for every location, like the follow-up due lists: each invocation pulls the Club Hub
locations whose last successful pull is a day old or unfinished, so a failed or paused pull is
retried or continued the next hour and registering a location needs no schedule.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, TimeZone
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from clubsync.runtime.clubhub_pull import BASE_URL_VARIABLE, SERVICE
from clubsync.store.tables import ENTITIES, STATE
from clubsync_infra.member_sync import TABLE_ACTIONS
from clubsync_infra.runtime import PythonFunction, stack_schedule
from clubsync_infra.storage import Storage

# Twenty-five past every hour (UTC): apart from the follow-up lists at five past.
HOURLY = scheduler.ScheduleExpression.cron(minute="25", time_zone=TimeZone.ETC_UTC)
# `-c clubhubBaseUrl=https://...`: Club Hub's API (or its sandbox).
BASE_URL_CONTEXT = "clubhubBaseUrl"


class ClubHubPull(Construct):
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
        environment = {
            ENTITIES.env_var: storage.entities.table_name,
            STATE.env_var: storage.state.table_name,
        }
        base_url = self.node.try_get_context(BASE_URL_CONTEXT)
        if base_url:
            environment[BASE_URL_VARIABLE] = str(base_url)
        pull = PythonFunction(
            self,
            "Pull",
            name="clubhub_pull",
            handler="lambda_handler",
            description="Pulls each Club Hub location once a day to catch up what pushes missed",
            layers=layers,
            environment=environment,
            service=SERVICE,
            memory_size=1024,
            timeout=Duration.minutes(15),
            log_retention=log_retention,
            removal_policy=removal_policy,
            # One at a time: two hours' runs must not pull the same locations together (each
            # pull also takes the location's members lease).
            reserved_concurrency=1,
        )
        self.function = pull.function
        self.log_group = pull.log_group
        # People, agreements, the person index (entities); locations, leases, watermarks,
        # checkpoints, runs, quarantine, findings (state): what the engine calls.
        pull.grant_table(storage.entities, TABLE_ACTIONS)
        pull.grant_table(storage.state, TABLE_ACTIONS)
        hourly = stack_schedule(
            self,
            "Hourly",
            function=pull,
            expression=HOURLY,
            description="Pulls the Club Hub locations whose last pull is a day old or unfinished",
            retry_attempts=2,
            # The next hour catches up anyway.
            max_event_age=Duration.minutes(50),
            catch_up="the next hour pulls any location a failed hour missed.",
        )
        self.schedule = hourly.schedule
        self.dead_letters = hourly.dead_letters
