"""What every clubsync Lambda function shares: the Python runtime and architecture, the two
layers, an explicit role and log group, tracing and Powertools settings."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import (
    Acknowledgment,
    ArnFormat,
    CfnElement,
    Duration,
    RemovalPolicy,
    Stack,
    Token,
    Validations,
)
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

ROOT = Path(__file__).resolve().parents[2]
LAYER_BUILD = ROOT / "build" / "layers"
FUNCTIONS = ROOT / "functions"

# layers/build.py builds the dependency layer for exactly this runtime and architecture;
# tests/infra checks the two agree.
LAMBDA_PYTHON_VERSION = "3.13"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
METRICS_NAMESPACE = "ClubSync"


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """A cdk-nag finding accepted on purpose, with the reason next to the cause."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def nag_arn(scope: IConstruct, service: str, resource: str) -> str:
    """An ARN as cdk-nag spells it in a finding id: unresolved parts become <AWS::...>, a
    region or account the stack is pinned to appears literally (and the partition, known from a
    pinned region under the enablePartitionLiterals flag)."""
    stack = Stack.of(scope)
    partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
    region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


BILLING_SECRETS_REASON = (
    "Billing-account secrets are added with locations, without a deploy; the function may read "
    "only secrets under the clubsync prefix (secret ARNs also end in a random suffix)."
)


def grant_billing_secrets(role: iam.IRole, secret_prefix: str) -> None:
    """Lets `role` read the locations' billing secrets: every secret under the stage's prefix."""
    stack = Stack.of(role)
    arn = stack.format_arn(
        service="secretsmanager",
        resource="secret",
        resource_name=f"{secret_prefix}*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[arn])
    )
    finding = nag_arn(role, "secretsmanager", f"secret:{secret_prefix}*")
    acknowledge(role, f"AwsSolutions-IAM5[Resource::{finding}]", BILLING_SECRETS_REASON)


def bundling_skipped(scope: Construct) -> bool:
    """Tests synthesize with `aws:cdk:bundling-stacks` = []: no asset is built then."""
    return bool(scope.node.try_get_context("aws:cdk:bundling-stacks") == [])


def layer_code(scope: Construct, name: str) -> lambda_.Code:
    """A layer built by layers/build.py. Tests get a placeholder so synth never runs pip."""
    built = LAYER_BUILD / name
    if (built / "python").is_dir():
        if bundling_skipped(scope):
            return lambda_.Code.from_asset(_placeholder_layer())
        return lambda_.Code.from_asset(str(built))
    if bundling_skipped(scope):
        return lambda_.Code.from_asset(_placeholder_layer())
    raise FileNotFoundError(
        f"layer {name!r} is not built: run `python layers/build.py` (infra/app.py does it)"
    )


_PLACEHOLDER: Path | None = None


def _placeholder_layer() -> str:
    global _PLACEHOLDER
    if _PLACEHOLDER is None:
        _PLACEHOLDER = Path(tempfile.mkdtemp(prefix="clubsync-layer-placeholder-"))
        (_PLACEHOLDER / "python").mkdir()
        (_PLACEHOLDER / "python" / "PLACEHOLDER").write_text("synthesized without bundling\n")
    return str(_PLACEHOLDER)


class SharedLayers(Construct):
    """The third-party dependency layer and the clubsync library layer."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        common = {
            "compatible_runtimes": [RUNTIME],
            "compatible_architectures": [ARCHITECTURE],
            "removal_policy": RemovalPolicy.RETAIN,
        }
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=layer_code(self, "deps"),
            description="clubsync third-party runtime dependencies (layers/build.py)",
            **common,  # type: ignore[arg-type]
        )
        self.library = lambda_.LayerVersion(
            self,
            "Library",
            code=layer_code(self, "clubsync"),
            description="the clubsync library (layers/clubsync)",
            **common,  # type: ignore[arg-type]
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.library]


class PythonFunction(Construct):
    """A thin handler from functions/<name>/ on the shared layers, with its own role (no
    managed policies), a log group with a retention, active tracing and Powertools settings."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        description: str,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        service: str,
        memory_size: int,
        timeout: Duration,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        reserved_concurrency: int | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        resource_star_reason: str = "",
        handler: str = "handler",
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=removal_policy
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{description} (clubsync)",
        )
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            # `handler` is the entry point's name in functions/<name>/handler.py.
            handler=f"handler.{handler}",
            code=lambda_.Code.from_asset(str(FUNCTIONS / name), exclude=["__pycache__", "*.pyc"]),
            layers=list(layers),
            role=self.role,
            log_group=self.log_group,
            memory_size=memory_size,
            timeout=timeout,
            tracing=lambda_.Tracing.ACTIVE,
            reserved_concurrent_executions=reserved_concurrency,
            dead_letter_queue=dead_letter_queue,
            environment={
                "POWERTOOLS_SERVICE_NAME": service,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **environment,
            },
        )
        for rule in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
            acknowledge(
                self.function,
                rule,
                f"Python {LAMBDA_PYTHON_VERSION} is the version the dependency layer is built "
                "and tested for (layers/build.py); moving on is one constant in each file.",
            )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            resource_star_reason
            or "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) have no "
            "resource-level permissions; CDK adds exactly these two actions.",
        )

    def grant_table(self, table: dynamodb.ITable, actions: Sequence[str]) -> None:
        """Exactly these DynamoDB actions on the table (each construct lists which of its
        repository calls needs which action)."""
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(actions), resources=[table.table_arn])
        )

    def add_public_url(self, secret: secretsmanager.ISecret, *, caller: str) -> lambda_.FunctionUrl:
        """A function URL with auth NONE, for a caller that cannot sign SigV4 requests (a form
        provider, a billing system's webhook): the handler authenticates every request with
        `secret` (a header, or an HMAC of the body), the one secret this function may read.
        Invoked through the URL only, synchronously: `caller` retries on an error answer."""
        acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            f"Invoked synchronously through its function URL only: {caller} gets the error "
            "answer and retries; there is no asynchronous event to dead-letter.",
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]
            )
        )
        return self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)


def shared_secret(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    description: str,
    rotation: str,
    removal_policy: RemovalPolicy,
) -> secretsmanager.Secret:
    """A generated secret shared with a third party (outside the billing prefix, so no sync
    can read it); `rotation` says why it is rotated by hand and how."""
    secret = secretsmanager.Secret(
        scope,
        construct_id,
        secret_name=name,
        description=description,
        generate_secret_string=secretsmanager.SecretStringGenerator(
            password_length=48, exclude_punctuation=True
        ),
        removal_policy=removal_policy,
    )
    acknowledge(secret, "AwsSolutions-SMG4", rotation)
    return secret


def failure_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """An encrypted, TLS-only queue that holds failed events for 14 days (redrive by hand)."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    acknowledge(
        queue,
        "AwsSolutions-SQS3",
        "This queue is itself a dead-letter queue; its messages are redriven by an operator "
        "(docs/operations.md), so it has no dead-letter queue of its own.",
    )
    acknowledge(
        queue,
        "Serverless-SQSRedrivePolicy",
        "This queue is itself a dead-letter queue: nothing consumes it automatically.",
    )
    return queue


@dataclass(frozen=True)
class StackSchedule:
    schedule: scheduler.Schedule
    # Events Scheduler could not deliver (alarm on it).
    dead_letters: sqs.Queue


def stack_schedule(
    scope: Construct,
    construct_id: str,
    *,
    function: PythonFunction,
    expression: scheduler.ScheduleExpression,
    description: str,
    retry_attempts: int,
    max_event_age: Duration,
    catch_up: str,
) -> StackSchedule:
    """A schedule of the stack itself (not per location) invoking `function` with `{}`,
    through its own role that may invoke only that function, with a dead-letter queue for
    events it could not deliver. `catch_up`: how a missed run is made good (the function is
    invoked by this schedule only, so it needs no dead-letter queue of its own)."""
    role = iam.Role(
        scope,
        f"{construct_id}Role",
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}},
        ),
        description=f"EventBridge Scheduler: {description}",
    )
    dead_letters = failure_queue(scope, f"{construct_id}DeadLetters")
    schedule = scheduler.Schedule(
        scope,
        construct_id,
        description=description,
        schedule=expression,
        target=targets.LambdaInvoke(
            function.function,
            input=scheduler.ScheduleTargetInput.from_object({}),
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            dead_letter_queue=dead_letters,
            role=role,
        ),
    )
    acknowledge(
        function.function,
        "Serverless-LambdaDLQ",
        "Invoked by its schedule only, whose target has retries and a dead-letter queue; "
        + catch_up,
    )
    function_resource = function.function.node.default_child
    assert isinstance(function_resource, CfnElement)
    acknowledge(
        role,
        f"AwsSolutions-IAM5[Resource::<{Stack.of(scope).get_logical_id(function_resource)}.Arn>:*]",
        "CDK's LambdaInvoke target grants the function and its versions (ARN:*); the role can "
        "invoke nothing else.",
    )
    return StackSchedule(schedule, dead_letters)
