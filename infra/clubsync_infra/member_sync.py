"""Member sync: the function (a Task of the nightly full sync state machine, and the target
of Scheduler's partial member syncs), its failure queue and its rights."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from clubsync.domain.runs import SyncType
from clubsync.engine.sync_types import spec_of, write_units_per_second
from clubsync.runtime.run_metrics import sync_service
from clubsync.runtime.sync_lambda import WRITE_PACE_ENV
from clubsync.store.items import PARTITION_WRITE_UNITS_PER_SECOND
from clubsync.store.tables import ENTITIES, STATE
from clubsync_infra.runtime import (
    PythonFunction,
    acknowledge,
    failure_queue,
    grant_billing_secrets,
)
from clubsync_infra.storage import Storage

# Members in the sync-type registry: its folder, memory and timeout. Its function is built
# here rather than in FullSync's loop for the logical ids of the deployed stacks
# (docs/decisions.md); FullSync builds every other registered type's.
SPEC = spec_of(SyncType.MEMBERS)
# "clubsync-members-sync": the service dimension of its run metrics, as every sync type's.
SERVICE = sync_service(SPEC.sync_type)
# Checkpoint, run record and the continuation's invoke must fit in this reserve.
PAUSE_MARGIN_MS = 120_000
# What the repositories do (clubsync.store.items.DynamoItemTable), nothing more.
TABLE_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
]


def write_pace_environment(sync_type: SyncType) -> dict[str, str]:
    """The sync function's pace of entity writes per partition key (the 21:00 burst: a first
    sync of 20,000 members writes ~69,000 items under one location's keys)."""
    pace = write_units_per_second(sync_type, PARTITION_WRITE_UNITS_PER_SECOND)
    return {WRITE_PACE_ENV: f"{pace:g}"}


class MemberSync(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        layers: Sequence[lambda_.ILayerVersion],
        secret_prefix: str,
        reserved_concurrency: int,
        abc_base_url: str | None,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        # Failed sync events: Scheduler's undeliverable ones and the function's own after
        # Lambda's asynchronous retries. Both keep the original event as the message body.
        self.dead_letters = failure_queue(self, "DeadLetters")
        environment = {
            ENTITIES.env_var: storage.entities.table_name,
            STATE.env_var: storage.state.table_name,
            "CLUBSYNC_PAUSE_MARGIN_MS": str(PAUSE_MARGIN_MS),
            **write_pace_environment(SPEC.sync_type),
        }
        if abc_base_url:
            environment["CLUBSYNC_ABC_BASE_URL"] = abc_base_url
        self.service = SERVICE
        self.sync_type = SPEC.sync_type
        runtime = PythonFunction(
            self,
            "Sync",
            name=SPEC.function_dir,
            description="Syncs a location's members from its billing system",
            layers=layers,
            environment=environment,
            service=SERVICE,
            memory_size=SPEC.memory_mb,
            # A run that needs more saves its checkpoint and continues.
            timeout=Duration.seconds(SPEC.timeout_seconds),
            log_retention=log_retention,
            removal_policy=removal_policy,
            reserved_concurrency=reserved_concurrency,
            # Async failures land here with the original event as the body (an on-failure
            # destination would wrap it), which keeps the redrive a plain re-invoke.
            dead_letter_queue=self.dead_letters,
        )
        self.function = runtime.function
        acknowledge(
            self.function,
            "Serverless-LambdaAsyncFailureDestination",
            "Failed asynchronous events go to the function's dead-letter queue, which keeps "
            "the original event as the message body so a redrive is a plain re-invoke.",
        )
        self.log_group = runtime.log_group
        self.role = runtime.role
        self.function.configure_async_invoke(
            retry_attempts=2,
            # Full syncs start at 21:00 in every zone at once; throttled events wait in
            # Lambda's queue this long before they count as failed.
            max_event_age=Duration.hours(3),
        )
        for table in (storage.entities, storage.state):
            self._grant_table(table)
        grant_billing_secrets(self.role, secret_prefix)
        # A paused partial sync (Scheduler's, asynchronous) continues in a fresh invocation of
        # this same function; in the full sync the state machine continues it. A separate
        # policy (not the role's default one, which the function depends on) avoids a
        # dependency cycle between the function and its own ARN.
        iam.Policy(
            self,
            "InvokeSelf",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"], resources=[self.function.function_arn]
                )
            ],
        )

    def _grant_table(self, table: dynamodb.Table) -> None:
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=TABLE_ACTIONS, resources=[table.table_arn])
        )
