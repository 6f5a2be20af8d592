"""The clubsync stack: storage, member sync, the nightly full sync, scheduling, prospect push,
duplicates (Club Hub webhook, weekly report), the Club Hub reconciliation pull, follow-up due
lists, the staleness check and observability."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

from clubsync.features.scheduling import FULL_SYNC_WINDOW_MINUTES
from clubsync_infra.clubhub_pull import ClubHubPull
from clubsync_infra.duplicates import Duplicates
from clubsync_infra.feeds import Feeds
from clubsync_infra.followups import FollowUps
from clubsync_infra.full_sync import FullSync, construct_name
from clubsync_infra.member_sync import MemberSync
from clubsync_infra.mindbody_webhook import MindbodyWebhook
from clubsync_infra.observability import Observability
from clubsync_infra.prospect_push import ProspectPush
from clubsync_infra.runtime import SharedLayers
from clubsync_infra.scheduling import Scheduling
from clubsync_infra.staleness import Staleness
from clubsync_infra.storage import Storage

STAGES = ("dev", "prod")


def stage_secret_prefix(stage: str) -> str:
    return f"clubsync/{stage}/"


class ClubsyncStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        secret_prefix: str | None = None,
        sync_concurrency: int = 100,
        full_sync_window: int = FULL_SYNC_WINDOW_MINUTES,
        abc_base_url: str | None = None,
        alarm_email: str | None = None,
        **kwargs: Any,
    ) -> None:
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
        super().__init__(scope, construct_id, **kwargs)
        # Per stage by default, so dev's functions cannot read prod's billing secrets.
        secret_prefix = secret_prefix or stage_secret_prefix(stage)
        production = stage == "prod"
        removal = RemovalPolicy.RETAIN if production else RemovalPolicy.DESTROY
        retention = logs.RetentionDays.ONE_YEAR if production else logs.RetentionDays.ONE_MONTH

        self.storage = Storage(self, "Storage", stage=stage, production=production)
        layers = SharedLayers(self, "Layers")
        self.member_sync = MemberSync(
            self,
            "MemberSync",
            storage=self.storage,
            layers=layers.all,
            secret_prefix=secret_prefix,
            reserved_concurrency=sync_concurrency,
            abc_base_url=abc_base_url,
            log_retention=retention,
            removal_policy=removal,
        )
        self.full_sync = FullSync(
            self,
            "FullSync",
            storage=self.storage,
            member_sync=self.member_sync,
            layers=layers.all,
            secret_prefix=secret_prefix,
            abc_base_url=abc_base_url,
            log_retention=retention,
            removal_policy=removal,
        )
        self.scheduling = Scheduling(
            self,
            "Scheduling",
            stage=stage,
            storage=self.storage,
            member_sync=self.member_sync,
            full_sync=self.full_sync,
            layers=layers.all,
            log_retention=retention,
            removal_policy=removal,
            full_sync_window=full_sync_window,
        )
        self.prospect_push = ProspectPush(
            self,
            "ProspectPush",
            stage=stage,
            storage=self.storage,
            layers=layers.all,
            secret_prefix=secret_prefix,
            abc_base_url=abc_base_url,
            log_retention=retention,
            removal_policy=removal,
        )
        self.duplicates = Duplicates(
            self,
            "Duplicates",
            stage=stage,
            storage=self.storage,
            layers=layers.all,
            log_retention=retention,
            removal_policy=removal,
        )
        self.mindbody_webhook = MindbodyWebhook(
            self,
            "MindbodyWebhook",
            stage=stage,
            storage=self.storage,
            layers=layers.all,
            secret_prefix=secret_prefix,
            log_retention=retention,
            removal_policy=removal,
        )
        self.clubhub_pull = ClubHubPull(
            self,
            "ClubHubPull",
            storage=self.storage,
            layers=layers.all,
            log_retention=retention,
            removal_policy=removal,
        )
        self.feeds = Feeds(
            self,
            "Feeds",
            stage=stage,
            storage=self.storage,
            layers=layers.all,
            log_retention=retention,
            removal_policy=removal,
        )
        self.follow_ups = FollowUps(
            self,
            "FollowUps",
            storage=self.storage,
            layers=layers.all,
            log_retention=retention,
            removal_policy=removal,
        )
        self.staleness = Staleness(
            self,
            "Staleness",
            storage=self.storage,
            layers=layers.all,
            log_retention=retention,
            removal_policy=removal,
        )
        self.observability = Observability(
            self,
            "Observability",
            stage=stage,
            member_sync=self.member_sync,
            scheduling=self.scheduling,
            full_sync=self.full_sync,
            prospect_push=self.prospect_push,
            duplicates=self.duplicates,
            mindbody_webhook=self.mindbody_webhook,
            clubhub_pull=self.clubhub_pull,
            feeds=self.feeds,
            follow_ups=self.follow_ups,
            staleness=self.staleness,
            alarm_email=alarm_email,
        )
        outputs = {
            "EntitiesTable": self.storage.entities.table_name,
            "StateTable": self.storage.state.table_name,
            "SyncFunctionArn": self.member_sync.function.function_arn,
            "SyncDeadLetterQueueUrl": self.member_sync.dead_letters.queue_url,
            "SyncDeadLetterQueueArn": self.member_sync.dead_letters.queue_arn,
            "FullSyncStateMachineArn": self.full_sync.state_machine.state_machine_arn,
            # Each partial-sync type's function for `clubsync locations` (CheckinsSyncFunctionArn).
            **{
                f"{construct_name(sync_type)}SyncFunctionArn": function.function_arn
                for sync_type, function in self.full_sync.partial_functions.items()
            },
            "SchedulerRoleArn": self.scheduling.scheduler_role.role_arn,
            "ScheduleGroup": self.scheduling.group_name,
            "RegistryDeadLetterQueueUrl": self.scheduling.dead_letters.queue_url,
            "FullSyncWindowMinutes": str(full_sync_window),
            # The CLI refuses a location whose billing secret lies outside it.
            "SecretPrefix": secret_prefix,
            "ProspectIntakeUrl": self.prospect_push.intake_url.url,
            "ProspectIntakeSecretName": self.prospect_push.intake_secret_name,
            "ProspectPushFunctionArn": self.prospect_push.push_function.function_arn,
            "ProspectReintegrationFunctionName": (
                self.prospect_push.reintegration_function.function_name
            ),
            "ProspectDeadLetterQueueUrl": self.prospect_push.dead_letters.queue_url,
            "ClubHubWebhookUrl": self.duplicates.webhook_url.url,
            "ClubHubWebhookSecretName": self.duplicates.webhook_secret_name,
            "MindbodyWebhookUrl": self.mindbody_webhook.url.url,
            "MindbodyWebhookSecretName": self.mindbody_webhook.secret_name,
            "DuplicatesReportFunctionName": self.duplicates.report_function.function_name,
            "ClubHubPullFunctionName": self.clubhub_pull.function.function_name,
            "FeedBucket": self.feeds.bucket.bucket_name,
            "FeedImportFunctionName": self.feeds.function.function_name,
            "FollowUpsDueFunctionName": self.follow_ups.function.function_name,
            "AlarmTopicArn": self.observability.topic.topic_arn,
            "Dashboard": self.observability.dashboard.dashboard_name,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
