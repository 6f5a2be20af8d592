"""Scheduling: the schedule group, the role Scheduler uses, and the registry function that
turns location registry changes into schedules (clubsync.features.scheduling).

The schedules themselves are not CloudFormation resources: they are data, created by API,
one pair per location (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from clubsync.features.scheduling import (
    FULL_SYNC_TARGET_ENV,
    FULL_SYNC_WINDOW_ENV,
    FULL_SYNC_WINDOW_MINUTES,
    full_sync_window_minutes,
    partial_target_env,
)
from clubsync.store.state import LOCATIONS_PK
from clubsync_infra.full_sync import FullSync, grant_start
from clubsync_infra.member_sync import MemberSync
from clubsync_infra.runtime import PythonFunction, acknowledge, failure_queue, nag_arn
from clubsync_infra.storage import Storage

SERVICE = "clubsync-location-registry"


class Scheduling(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        storage: Storage,
        member_sync: MemberSync,
        full_sync: FullSync,
        layers: Sequence[lambda_.ILayerVersion],
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        full_sync_window: int = FULL_SYNC_WINDOW_MINUTES,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # Refused at synth, in the registry function's own words, rather than at 21:00.
        self.full_sync_window = full_sync_window_minutes(full_sync_window)
        # The functions of the registry's partial-sync types besides members (check-ins).
        partial = full_sync.partial_functions
        self.group = scheduler.ScheduleGroup(
            self, "Group", schedule_group_name=f"clubsync-{stage}", removal_policy=removal_policy
        )
        self.group_name = f"clubsync-{stage}"

        # What Scheduler assumes to deliver an event: invoke the member sync or another
        # partial-sync type's function (check-ins), start the full sync state machine (21:00),
        # or park the event in the sync dead-letter queue. Nothing else.
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description="EventBridge Scheduler delivering clubsync sync events",
        )
        self.scheduler_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[
                    member_sync.function.function_arn,
                    *(function.function_arn for function in partial.values()),
                ],
            )
        )
        grant_start(self.scheduler_role, full_sync.state_machine)
        self.scheduler_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"], resources=[member_sync.dead_letters.queue_arn]
            )
        )

        # Stream batches the registry function gave up on (their stream coordinates).
        self.dead_letters = failure_queue(self, "DeadLetters")
        registry = PythonFunction(
            self,
            "Registry",
            name="location_registry",
            description="Creates, updates and deletes location schedules from the registry",
            layers=layers,
            environment={
                "CLUBSYNC_SCHEDULE_GROUP": self.group_name,
                "CLUBSYNC_SYNC_FUNCTION_ARN": member_sync.function.function_arn,
                "CLUBSYNC_SCHEDULER_ROLE_ARN": self.scheduler_role.role_arn,
                "CLUBSYNC_SCHEDULE_DLQ_ARN": member_sync.dead_letters.queue_arn,
                # Read by clubsync.features.scheduling.desired_schedules: the 21:00 full sync starts
                # the state machine; partial syncs also run the other partial types.
                FULL_SYNC_TARGET_ENV: full_sync.state_machine.state_machine_arn,
                # The 21:00 burst: each full sync starts within this many minutes of 21:00.
                FULL_SYNC_WINDOW_ENV: str(self.full_sync_window),
                **{
                    partial_target_env(sync_type): function.function_arn
                    for sync_type, function in partial.items()
                },
            },
            service=SERVICE,
            memory_size=256,
            timeout=Duration.minutes(2),
            log_retention=log_retention,
            removal_policy=removal_policy,
            # Registry changes are rare; one at a time keeps Scheduler's API rate comfortable.
            reserved_concurrency=2,
            resource_star_reason="dynamodb:ListStreams (stream event source) and X-Ray "
            "PutTraceSegments/PutTelemetryRecords have no resource-level permissions.",
        )
        self.function = registry.function
        acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "Invoked only by its DynamoDB stream event source, whose on-failure destination "
            "is this construct's dead-letter queue; it is never invoked asynchronously.",
        )
        self.log_group = registry.log_group
        schedules_arn = stack.format_arn(
            service="scheduler", resource="schedule", resource_name=f"{self.group_name}/*"
        )
        registry.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "scheduler:GetSchedule",
                    "scheduler:CreateSchedule",
                    "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule",
                ],
                resources=[schedules_arn],
            )
        )
        registry.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.scheduler_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            )
        )
        acknowledge(
            registry.role,
            f"AwsSolutions-IAM5[Resource::"
            f"{nag_arn(self, 'scheduler', f'schedule/{self.group_name}/*')}]",
            "Schedules are named after locations, which are data added without a deploy; the "
            "function may touch schedules in the clubsync group only.",
        )
        self.function.add_event_source(
            sources.DynamoEventSource(
                storage.state,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=25,
                # Records of one location stay in order: a failed record and those after it
                # are retried (partial batch response), never skipped.
                report_batch_item_failures=True,
                bisect_batch_on_error=True,
                retry_attempts=10,
                max_record_age=Duration.days(1),
                on_failure=sources.SqsDlq(self.dead_letters),
                filters=[
                    lambda_.FilterCriteria.filter(
                        {
                            "dynamodb": {
                                "Keys": {"pk": {"S": lambda_.FilterRule.is_equal(LOCATIONS_PK)}}
                            }
                        }
                    )
                ],
            )
        )
