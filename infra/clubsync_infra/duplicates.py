"""Duplicates (issue 6): the Club Hub webhook receiver and the weekly duplicate report.

The receiver is a public function URL authenticated by an HMAC signature (Club Hub cannot sign
SigV4 requests); the report is a weekly EventBridge Scheduler target that stores every
location's duplicate groups (`clubsync duplicates report` shows the live one).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, TimeZone
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from clubsync.providers.clubhub.signing import DEFAULT_TOLERANCE_SECONDS, TOLERANCE_VARIABLE
from clubsync.store.tables import ENTITIES, STATE
from clubsync_infra.member_sync import TABLE_ACTIONS
from clubsync_infra.runtime import (
    PythonFunction,
    shared_secret,
    stack_schedule,
)
from clubsync_infra.storage import Storage

WEBHOOK_SERVICE = "clubsync-clubhub-webhook"
REPORT_SERVICE = "clubsync-duplicates-report"
# One delivery at a time: two deliveries about one person applied concurrently could both
# miss each other's agreement; Club Hub redelivers what a throttle refuses. Not raised for a
# flood of 401s: the handler refuses those before importing anything, in well under a
# millisecond (docs/decisions.md, "The public function URLs under a flood").
WEBHOOK_CONCURRENCY = 1
# Seconds a delivery's signed X-ClubHub-Timestamp may be from the function's clock
# (providers/clubhub/signing.py); `-c clubhubTimestampToleranceSeconds=N` changes it.
TOLERANCE_CONTEXT = "clubhubTimestampToleranceSeconds"
# Mondays, every hour 06:00-11:00 UTC: ready before clubs in the Americas open; each run stores
# the locations the previous one did not reach (a run stops before Lambda's 15 minutes), the
# later ones find nothing left and end at once.
REPORT_SCHEDULE = scheduler.ScheduleExpression.cron(
    minute="0", hour="6-11", week_day="MON", time_zone=TimeZone.ETC_UTC
)
# Reads people and agreements (Query, GetItem, BatchGetItem); stores the report (PutItem)
# next to the location registry it reads (Query, GetItem).
REPORT_ENTITIES_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"]
REPORT_STATE_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"]


class Duplicates(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        storage: Storage,
        layers: Sequence[lambda_.ILayerVersion],
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        tables = {
            ENTITIES.env_var: storage.entities.table_name,
            STATE.env_var: storage.state.table_name,
        }

        # -- the Club Hub webhook: function URL, HMAC-signed deliveries ------------------------
        self.webhook_secret_name = f"clubsync-{stage}/clubhub-webhook"
        self.webhook_secret = shared_secret(
            self,
            "WebhookSecret",
            name=self.webhook_secret_name,
            description="Shared secret Club Hub signs its webhook deliveries with (HMAC-SHA256)",
            rotation="Configured in Club Hub's webhook settings too: rotating it needs Club Hub "
            "changed at the same time, so it is rotated by hand (docs/operations.md); the "
            "function reads it with a 5-minute cache, no deploy needed.",
            removal_policy=removal_policy,
        )
        webhook = PythonFunction(
            self,
            "Webhook",
            name="clubhub_webhook",
            handler="lambda_handler",
            description="Receives Club Hub membership and member pushes",
            layers=layers,
            environment={
                **tables,
                "CLUBSYNC_CLUBHUB_SECRET_NAME": self.webhook_secret_name,
                TOLERANCE_VARIABLE: str(
                    int(self.node.try_get_context(TOLERANCE_CONTEXT) or DEFAULT_TOLERANCE_SECONDS)
                ),
            },
            service=WEBHOOK_SERVICE,
            memory_size=512,
            timeout=Duration.seconds(30),
            log_retention=log_retention,
            removal_policy=removal_policy,
            reserved_concurrency=WEBHOOK_CONCURRENCY,
        )
        self.webhook_function = webhook.function
        self.webhook_log_group = webhook.log_group
        # People, agreements, the person index and soft deletes (entities); delivery ids,
        # findings and the location registry (state): what DynamoItemTable calls.
        webhook.grant_table(storage.entities, TABLE_ACTIONS)
        webhook.grant_table(storage.state, TABLE_ACTIONS)
        # The handler answers 401 unless X-ClubHub-Signature is the HMAC of X-ClubHub-Timestamp
        # and the body under the secret (constant-time) and the timestamp is within the
        # tolerance, before it imports the library, and counts UnauthorizedRequests.
        self.webhook_url = webhook.add_public_url(self.webhook_secret, caller="Club Hub")

        # -- the weekly duplicate report ------------------------------------------------------
        report = PythonFunction(
            self,
            "Report",
            name="duplicates_report",
            handler="lambda_handler",
            description="Stores the weekly duplicate report of every location",
            layers=layers,
            environment=tables,
            service=REPORT_SERVICE,
            memory_size=1024,
            timeout=Duration.minutes(15),
            log_retention=log_retention,
            removal_policy=removal_policy,
            reserved_concurrency=1,
        )
        self.report_function = report.function
        self.report_log_group = report.log_group
        report.grant_table(storage.entities, REPORT_ENTITIES_ACTIONS)
        report.grant_table(storage.state, REPORT_STATE_ACTIONS)
        weekly = stack_schedule(
            self,
            "WeeklyReport",
            function=report,
            expression=REPORT_SCHEDULE,
            description="The weekly duplicate report of every registered location (Mondays)",
            retry_attempts=3,
            max_event_age=Duration.minutes(50),  # the next run carries on anyway
            catch_up="a missed week is re-run by invoking the function with {}.",
        )
        self.report_schedule = weekly.schedule
        self.report_dead_letters = weekly.dead_letters
