"""The nightly full sync (docs/decisions.md, issue 5): one Lambda function per registered sync
type (clubsync.engine.sync_types.SYNC_TYPES) other than members (built by MemberSync), the summary
function, and the Standard state machine that runs them.

Shape of an execution (input `{"location", "kind": "full", "scheduled_time"}`), one step per
registry stage (today's registry):

    Members -> Employees -> Parallel(events | checkins | pos | service_agreements |
    marketing_sources) -> Summary

A stage of one type is that type's steps; a stage of several is a Parallel state with one
branch per type (the other types refer to people and event owners, hence members and employees
first). Every type, members included, is a LambdaInvoke Task with its own
Retry and a Catch that turns the exhausted failure into `{"sync_type", "error"}`, so one
failing type never stops the others, and a Choice that sends a paused run (`continuation`)
into a second Task of the same function until it ends; the summary function receives every
type's result and stores `RUNSUMMARY#{date}`. A night where every run ends at once is 21
state transitions (bench/state_machine.py; 37 before issue 15).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from clubsync.domain.runs import SyncType
from clubsync.engine.sync_types import FULL_SYNC_STAGES, SYNC_TYPES, SyncTypeSpec
from clubsync.runtime.run_metrics import sync_service
from clubsync.store.tables import ENTITIES, STATE
from clubsync_infra.member_sync import (
    PAUSE_MARGIN_MS,
    TABLE_ACTIONS,
    MemberSync,
    write_pace_environment,
)
from clubsync_infra.runtime import PythonFunction, acknowledge, grant_billing_secrets
from clubsync_infra.storage import Storage

# What the summary function does with the state table (StateRepository.get_location and
# put_run_summary), nothing more.
SUMMARY_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem"]
# Lambda's own transient failures, and the failures of a run (SyncFailed, a timeout).
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
]
RETRY_ATTEMPTS = 2
RETRY_BACKOFF = 2
RETRY_INTERVAL = Duration.minutes(1)
# Every location of a zone starts at 21:00 (spread over Scheduler's flexible window): throttling
# is waited out with jitter, apart from the two retries a real failure gets. 16 attempts wait
# about an hour in all (full jitter, 10 minutes at most each): bench/burst.py shows 10,000
# locations of one zone, the member sync's 100 reserved slots and a 1,000 account limit all
# finishing with it (8 attempts left 13 types failed). A throttled attempt is one transition.
THROTTLE_ATTEMPTS = 16
THROTTLE_INTERVAL = Duration.seconds(30)
THROTTLE_MAX_DELAY = Duration.minutes(10)
# An execution that has not ended after this long is stuck (timed out, alarmed).
EXECUTION_TIMEOUT = Duration.hours(6)


def service_name(directory: str) -> str:
    """`clubsync-<functions dir with dashes>`: tests map a function back to its folder."""
    return "clubsync-" + directory.replace("_", "-")


def construct_name(sync_type: SyncType) -> str:
    """`service_agreements` -> `ServiceAgreements`: the id of a type's function construct (and so
    of its deployed resources' logical ids), and of its stack output."""
    return "".join(part.title() for part in sync_type.value.split("_"))


def parallel_stage_names(stage: int) -> tuple[str, str]:
    """A parallel stage's state name and where its branches' results go. The last stage keeps
    the names it had before the registry ("Other types", $.parallel_results), so the deployed
    definition and the execution histories read the same."""
    if stage == len(FULL_SYNC_STAGES) - 1:
        return "Other types", "$.parallel_results"
    return f"Stage {stage} types", f"$.stage_{stage}_results"


class FullSync(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        member_sync: MemberSync,
        layers: Sequence[lambda_.ILayerVersion],
        secret_prefix: str,
        abc_base_url: str | None,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        environment = {
            ENTITIES.env_var: storage.entities.table_name,
            STATE.env_var: storage.state.table_name,
        }
        sync_environment = {**environment, "CLUBSYNC_PAUSE_MARGIN_MS": str(PAUSE_MARGIN_MS)}
        if abc_base_url:
            sync_environment["CLUBSYNC_ABC_BASE_URL"] = abc_base_url

        # The function of every registered type but members (MemberSync built that one), by
        # type, in registry order.
        self.functions: dict[SyncType, lambda_.Function] = {}
        self.log_groups: dict[SyncType, logs.LogGroup] = {}
        # Those of partial-sync types: Scheduler's targets besides the member sync.
        self.partial_functions: dict[SyncType, lambda_.Function] = {}
        for spec in SYNC_TYPES:
            if spec.sync_type is not member_sync.sync_type:
                self._sync_function(
                    spec,
                    storage=storage,
                    member_sync=member_sync,
                    layers=layers,
                    environment=sync_environment,
                    secret_prefix=secret_prefix,
                    log_retention=log_retention,
                    removal_policy=removal_policy,
                )
        # Every Task's function, members first, in registry order.
        self.task_functions: dict[SyncType, lambda_.IFunction] = {
            spec.sync_type: member_sync.function
            if spec.sync_type is member_sync.sync_type
            else self.functions[spec.sync_type]
            for spec in SYNC_TYPES
        }

        summary = PythonFunction(
            self,
            "Summary",
            name="full_sync_summary",
            description="Stores the day's full sync summary of a location (RUNSUMMARY#date)",
            layers=layers,
            environment=environment,
            service=service_name("full_sync_summary"),
            memory_size=256,
            timeout=Duration.minutes(1),
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        summary.role.add_to_principal_policy(
            iam.PolicyStatement(actions=SUMMARY_TABLE_ACTIONS, resources=[storage.state.table_arn])
        )
        acknowledge(
            summary.function,
            "Serverless-LambdaDLQ",
            "Invoked only synchronously by the full sync state machine (its last state); it is "
            "never invoked asynchronously.",
        )
        self.summary_function = summary.function

        self.state_machine = self._state_machine(log_retention, removal_policy)

    def _sync_function(
        self,
        spec: SyncTypeSpec,
        *,
        storage: Storage,
        member_sync: MemberSync,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        secret_prefix: str,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        """The registered type's function (functions/<type>_sync), its rights and, for a
        partial-sync type (which Scheduler invokes asynchronously), its failure handling."""
        sync_type = spec.sync_type
        name = construct_name(sync_type)
        runtime = PythonFunction(
            self,
            name,
            name=spec.function_dir,
            description=f"Syncs a location's {sync_type.value.replace('_', ' ')} from its "
            "billing system (a full sync state machine Task)",
            layers=layers,
            environment={**environment, **write_pace_environment(sync_type)},
            # The service dimension of its run metrics (the failed-syncs alarm's too).
            service=sync_service(sync_type),
            memory_size=spec.memory_mb,
            # A run that needs more saves its checkpoint and returns `continuation`.
            timeout=Duration.seconds(spec.timeout_seconds),
            log_retention=log_retention,
            removal_policy=removal_policy,
            # Partial syncs are Scheduler's asynchronous invocations: their failures join the
            # member sync's in the sync dead-letter queue.
            dead_letter_queue=member_sync.dead_letters if spec.partial else None,
        )
        for table in (storage.entities, storage.state):
            runtime.role.add_to_principal_policy(
                iam.PolicyStatement(actions=TABLE_ACTIONS, resources=[table.table_arn])
            )
        grant_billing_secrets(runtime.role, secret_prefix)
        if spec.partial:
            runtime.function.configure_async_invoke(
                retry_attempts=2, max_event_age=Duration.hours(1)
            )
            # A paused partial sync (Scheduler's, asynchronous) continues in a fresh
            # invocation of this function, like the member sync; a separate policy (not the
            # role's default one, which the function depends on) avoids a dependency cycle
            # between the function and its own ARN.
            iam.Policy(
                self,
                f"{name}InvokeSelf",
                roles=[runtime.role],
                statements=[
                    iam.PolicyStatement(
                        actions=["lambda:InvokeFunction"],
                        resources=[runtime.function.function_arn],
                    )
                ],
            )
            acknowledge(
                runtime.function,
                "Serverless-LambdaAsyncFailureDestination",
                "Failed asynchronous (Scheduler) events go to the sync dead-letter queue, "
                "which keeps the original event as the body so a redrive is a re-invoke.",
            )
            self.partial_functions[sync_type] = runtime.function
        else:
            acknowledge(
                runtime.function,
                "Serverless-LambdaDLQ",
                "Invoked only synchronously by the full sync state machine, whose Retry "
                "and Catch handle failures; it is never invoked asynchronously.",
            )
        self.functions[sync_type] = runtime.function
        self.log_groups[sync_type] = runtime.log_group

    # -- the state machine ------------------------------------------------------------------
    def _state_machine(
        self,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> sfn.StateMachine:
        stack = Stack.of(self)
        # Execution history includes inputs and outputs (ids and counts, never a person's
        # data); a customer key keeps it encrypted under a key the account controls.
        key = kms.Key(
            self,
            "LogKey",
            enable_key_rotation=True,
            removal_policy=removal_policy,
            description="Encrypts the clubsync full sync state machine's log group",
        )
        logs_principal = iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[logs_principal],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        self.log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            encryption_key=key,
            retention=log_retention,
            removal_policy=removal_policy,
        )

        # One step per registry stage, each starting once the whole previous stage has ended
        # (members loop on their continuation like every type: employees start only once the
        # whole member run has ended). Where each type's result is, for the summary.
        chain: sfn.Chain | None = None
        result_paths: list[str] = []
        for stage, sync_types in enumerate(FULL_SYNC_STAGES):
            step: sfn.IChainable
            if len(sync_types) == 1:
                step = self._type_steps(sync_types[0], in_branch=False)
                result_paths.append(f"$.results.{sync_types[0].value}.output")
            else:
                name, path = parallel_stage_names(stage)
                parallel = sfn.Parallel(
                    self,
                    name,
                    comment="Every other type, side by side; each branch ends with its result",
                    # The branches' outputs, by type (each branch's output is the whole state).
                    result_selector={
                        sync_type.value: sfn.JsonPath.object_at(
                            f"$[{index}].results.{sync_type.value}.output"
                        )
                        for index, sync_type in enumerate(sync_types)
                    },
                    result_path=path,
                )
                for sync_type in sync_types:
                    parallel.branch(self._type_steps(sync_type, in_branch=True))
                step = parallel
                result_paths += [f"{path}.{sync_type.value}" for sync_type in sync_types]
            chain = sfn.Chain.start(step) if chain is None else chain.next(step)
        assert chain is not None  # the registry has members at least
        results = [sfn.JsonPath.string_at(path) for path in result_paths]
        summary = tasks.LambdaInvoke(
            self,
            "SummaryTask",
            state_name="Summary",
            comment="Stores RUNSUMMARY#{date} from every type's result",
            lambda_function=self.summary_function,
            payload=sfn.TaskInput.from_object(
                {
                    "location": sfn.JsonPath.string_at("$.location"),
                    "scheduled_time": sfn.JsonPath.string_at("$.scheduled_time"),
                    "results": sfn.JsonPath.array(*results),
                }
            ),
            output_path="$.Payload",
            retry_on_service_exceptions=False,
        )
        self._retry(summary)
        definition = chain.next(summary)

        machine = sfn.StateMachine(
            self,
            "StateMachine",
            comment="clubsync nightly full sync of one location (docs/decisions.md)",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=EXECUTION_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
        )
        role = machine.role
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "CloudWatch Logs delivery (logs:*LogDelivery*, resource policies) and X-Ray "
            "(PutTraceSegments, PutTelemetryRecords, GetSampling*) have no resource-level "
            "permissions; CDK adds exactly these actions for logging and tracing.",
        )
        for function in [*self.task_functions.values(), self.summary_function]:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(function.node.default_child)}"  # type: ignore[arg-type]
                ".Arn>:*]",
                "CDK's LambdaInvoke grants the function and its versions (ARN:*); the state "
                "machine invokes only the unqualified function, and only clubsync's own.",
            )
        return machine

    def _retry(self, task: tasks.LambdaInvoke) -> None:
        # First match wins: an event that can never succeed is not retried.
        task.add_retry(errors=["InvalidEvent"], max_attempts=0)
        task.add_retry(
            errors=["Lambda.TooManyRequestsException"],
            max_attempts=THROTTLE_ATTEMPTS,
            interval=THROTTLE_INTERVAL,
            backoff_rate=RETRY_BACKOFF,
            max_delay=THROTTLE_MAX_DELAY,
            jitter_strategy=sfn.JitterType.FULL,
        )
        task.add_retry(
            errors=[*LAMBDA_SERVICE_ERRORS, "SyncFailed", sfn.Errors.TASKS_FAILED],
            max_attempts=RETRY_ATTEMPTS,
            interval=RETRY_INTERVAL,
            backoff_rate=RETRY_BACKOFF,
        )

    def _task(
        self, sync_type: SyncType, name: str, payload: sfn.TaskInput, failed: sfn.Pass
    ) -> tasks.LambdaInvoke:
        """A Task of the type's function whose answer (a TypeResult, or one with
        `continuation`) is stored at $.results.<type>.output, retried and caught into
        `failed`."""
        task = tasks.LambdaInvoke(
            self,
            name,
            lambda_function=self.task_functions[sync_type],
            payload=payload,
            result_selector={"output": sfn.JsonPath.object_at("$.Payload")},
            result_path=f"$.results.{sync_type.value}",
            retry_on_service_exceptions=False,
        )
        self._retry(task)
        task.add_catch(failed, errors=[sfn.Errors.ALL], result_path="$.caught")
        return task

    def _type_steps(self, sync_type: SyncType, *, in_branch: bool) -> sfn.Chain:
        """Task -> Choice, two states on a night the run ends at once (a transition each: issue
        15). The Task's payload is the execution input plus `sync_type` and `caller_continues`
        (a paused run returns `continuation` to this loop instead of the function invoking
        itself: docs/decisions.md). A paused run's answer carries `continuation`, which the
        Choice sends into "Continue <type>" (the same function) and back to the Choice; a
        finished one stays where the Task put it, $.results.<type>.output. A refused event
        (InvalidEvent, never retried) or a run failed past its retries is caught into
        `{"sync_type", "error"}` at the same place, a failed type. In a Parallel branch the
        Choice's default is a Succeed (a branch must end in a state); on the main path it is
        the next stage."""
        value = sync_type.value
        failed = sfn.Pass(
            self,
            f"{value} failed",
            comment="Every retry failed: the type's result is the error; the others go on",
            parameters={
                "output": {"sync_type": value, "error": sfn.JsonPath.object_at("$.caught")}
            },
            result_path=f"$.results.{value}",
        )
        first = self._task(
            sync_type,
            f"Sync {value}",
            sfn.TaskInput.from_object(
                {
                    "location": sfn.JsonPath.string_at("$.location"),
                    "kind": sfn.JsonPath.string_at("$.kind"),
                    "scheduled_time": sfn.JsonPath.string_at("$.scheduled_time"),
                    "sync_type": value,
                    "caller_continues": True,
                }
            ),
            failed,
        )
        again = self._task(
            sync_type,
            f"Continue {value}",
            sfn.TaskInput.from_json_path_at(f"$.results.{value}.output.continuation"),
            failed,
        )
        choice = sfn.Choice(self, f"{value} paused?").when(
            sfn.Condition.is_present(f"$.results.{value}.output.continuation"), again
        )
        again.next(choice)
        first.next(choice)
        if in_branch:
            choice.otherwise(sfn.Succeed(self, f"{value} done"))
            return sfn.Chain.custom(first, [failed], failed)
        ends = [*choice.afterwards(include_otherwise=True).end_states, failed]
        return sfn.Chain.custom(first, ends, failed)


def grant_start(role: iam.IRole, machine: sfn.StateMachine) -> None:
    """states:StartExecution on this state machine only."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["states:StartExecution"], resources=[machine.state_machine_arn]
        )
    )
