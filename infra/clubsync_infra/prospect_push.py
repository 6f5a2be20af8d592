"""Prospect push (issue 4): the intake endpoint, the stream function that pushes prospects to
billing, the resumable reintegration, their dead-letter queue and their rights.

Each function is granted exactly the DynamoDB actions its code calls (read from
clubsync.store.items.DynamoItemTable and the repositories the handlers build); the lists below
say which repository method needs which action.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from clubsync.features.prospect_push import DEFAULT_MAX_ATTEMPTS
from clubsync.features.prospect_stream import PROSPECT_RECORD_FILTER
from clubsync.store.tables import ENTITIES, STATE
from clubsync_infra.runtime import (
    PythonFunction,
    acknowledge,
    failure_queue,
    grant_billing_secrets,
    shared_secret,
)
from clubsync_infra.storage import Storage

PUSH_SERVICE = "clubsync-prospect-push"
INTAKE_SERVICE = "clubsync-prospect-intake"
REINTEGRATION_SERVICE = "clubsync-prospect-reintegration"

# The handler gives up on a prospect after this many failed pushes (records it `failing … gave
# up`, sends it to the DLQ and lets the shard move on). Lambda's own retries must outlast it,
# so giving up is the handler's decision; Lambda's on-failure destination is the last resort
# (an unregistered location, a bug).
MAX_PUSH_ATTEMPTS = DEFAULT_MAX_ATTEMPTS
STREAM_RETRY_ATTEMPTS = 10
# A few hours of a blocked shard, well inside the stream's 24 h retention.
STREAM_MAX_RECORD_AGE = Duration.hours(6)
# Each record may take several 30 s billing calls (search before a re-POST, salesperson
# re-send); small batches keep a batch well inside the timeout, bisection handles the rest.
STREAM_BATCH_SIZE = 5
PUSH_TIMEOUT = Duration.minutes(5)
# Caps what an unauthenticated URL can cost, with room for real forms during a flood of 401s:
# a form post takes well under a second, a 401 well under a millisecond of handler time
# (docs/decisions.md, "The public function URLs under a flood"). An operator raises it with
# `-c intakeConcurrency=N` (docs/operations.md, "Public URL limits").
INTAKE_CONCURRENCY = 10
INTAKE_CONCURRENCY_CONTEXT = "intakeConcurrency"

# ProspectPusher: ProspectStore.get / salesperson_billing_id (GetItem), record_outcome
# (UpdateItem, conditional).
PUSH_ENTITIES_ACTIONS = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
# StateRepository.get_location and the create claim (GetItem; PutItem, conditional;
# DeleteItem); Powertools idempotency ("IDEMPOTENCY#prospect_push": Get/Put/Update/Delete).
PUSH_STATE_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
]
# The push's, plus ProspectStore.prospects (Query) for the location's prospects.
REINTEGRATION_ENTITIES_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"]
# The push's claims and the registry, plus the checkpoint (GetItem/PutItem); no idempotency.
REINTEGRATION_STATE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
# ProspectIntake: EntityRepository.person_index (Query), get_people (BatchGetItem), save
# (BatchWriteItem) and, for a location change, the old item's delete (DeleteItem).
INTAKE_ENTITIES_ACTIONS = [
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
]
# StateRepository.get_location (GetItem) and locations() (Query) for cross-location matches.
INTAKE_STATE_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query"]


class ProspectPush(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        storage: Storage,
        layers: Sequence[lambda_.ILayerVersion],
        secret_prefix: str,
        abc_base_url: str | None,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.push_service = PUSH_SERVICE

        # Prospects the push gave up on ({location_id, person_id, reason}, sent by the handler)
        # and stream batches Lambda gave up on (their shard coordinates). `clubsync prospects
        # redrive` works from the prospects' state in the table; the queue is the alarm.
        self.dead_letters = failure_queue(self, "DeadLetters")

        push_environment = {
            ENTITIES.env_var: storage.entities.table_name,
            STATE.env_var: storage.state.table_name,
            "CLUBSYNC_PROSPECT_PUSH_DLQ_URL": self.dead_letters.queue_url,
            "CLUBSYNC_PROSPECT_PUSH_MAX_ATTEMPTS": str(MAX_PUSH_ATTEMPTS),
        }
        if abc_base_url:
            push_environment["CLUBSYNC_ABC_BASE_URL"] = abc_base_url
        stream_star_reason = (
            "dynamodb:ListStreams (stream event source) and X-Ray "
            "PutTraceSegments/PutTelemetryRecords have no resource-level permissions."
        )

        # -- push: the entities table's stream, prospect records only --------------------------
        push = PythonFunction(
            self,
            "Push",
            name="prospect_push",
            handler="lambda_handler",
            description="Pushes new and changed prospects to their billing system",
            layers=layers,
            environment=push_environment,
            service=PUSH_SERVICE,
            memory_size=512,
            timeout=PUSH_TIMEOUT,
            log_retention=log_retention,
            removal_policy=removal_policy,
            resource_star_reason=stream_star_reason,
        )
        self.push_function = push.function
        self.push_log_group = push.log_group
        acknowledge(
            self.push_function,
            "Serverless-LambdaDLQ",
            "Invoked only by its DynamoDB stream event source, whose on-failure destination "
            "is this construct's dead-letter queue; it is never invoked asynchronously.",
        )
        push.grant_table(storage.entities, PUSH_ENTITIES_ACTIONS)
        push.grant_table(storage.state, PUSH_STATE_ACTIONS)
        grant_billing_secrets(push.role, secret_prefix)
        # sqs:SendMessage on the DLQ, which the handler also uses for the prospects it gives
        # up on, comes with the event source's on-failure destination (SqsDlq grants it).
        self.push_function.add_event_source(
            sources.DynamoEventSource(
                storage.entities,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=STREAM_BATCH_SIZE,
                # One batch per shard at a time: a prospect's changes apply in stream order.
                parallelization_factor=1,
                # Only the failed record and those after it are retried (the handler also
                # fails a prospect's later records once one failed), never skipped.
                report_batch_item_failures=True,
                bisect_batch_on_error=True,
                retry_attempts=STREAM_RETRY_ATTEMPTS,
                max_record_age=STREAM_MAX_RECORD_AGE,
                on_failure=sources.SqsDlq(self.dead_letters),
                # The library's own pattern (also used by the local stream poller): one
                # source of truth for which records reach the function.
                filters=[lambda_.FilterCriteria.filter(PROSPECT_RECORD_FILTER)],
            )
        )

        # -- intake: a public function URL, authorized by a shared secret header ---------------
        # Outside the billing prefix: the push and the sync cannot read it. The literal name
        # (secret_name would be a token cut out of the ARN) for the environment and output.
        self.intake_secret_name = f"clubsync-{stage}/prospect-intake"
        self.intake_secret = shared_secret(
            self,
            "IntakeSecret",
            name=self.intake_secret_name,
            description="Shared secret the prospect forms send in x-clubsync-intake-secret",
            rotation="A shared secret configured in the third-party form providers: rotating it "
            "needs their configuration changed too, so it is rotated by hand "
            "(docs/operations.md); the function reads it with a 5-minute cache, no deploy needed.",
            removal_policy=removal_policy,
        )
        intake = PythonFunction(
            self,
            "Intake",
            name="prospect_intake",
            handler="lambda_handler",
            description="Receives prospects from the guest waiver, web lead and referral forms",
            layers=layers,
            environment={
                ENTITIES.env_var: storage.entities.table_name,
                STATE.env_var: storage.state.table_name,
                "CLUBSYNC_INTAKE_SECRET_NAME": self.intake_secret_name,
            },
            service=INTAKE_SERVICE,
            memory_size=512,
            timeout=Duration.seconds(30),
            log_retention=log_retention,
            removal_policy=removal_policy,
            reserved_concurrency=int(
                self.node.try_get_context(INTAKE_CONCURRENCY_CONTEXT) or INTAKE_CONCURRENCY
            ),
        )
        self.intake_function = intake.function
        self.intake_log_group = intake.log_group
        intake.grant_table(storage.entities, INTAKE_ENTITIES_ACTIONS)
        intake.grant_table(storage.state, INTAKE_STATE_ACTIONS)
        # The handler answers 401 unless x-clubsync-intake-secret matches (constant-time), before
        # it imports the library, and counts UnauthorizedRequests.
        self.intake_url = intake.add_public_url(self.intake_secret, caller="the form")

        # -- reintegration: invoked by hand, resumable -----------------------------------------
        reintegration = PythonFunction(
            self,
            "Reintegration",
            name="prospect_reintegration",
            handler="lambda_handler",
            description="Pushes every prospect of a location to a new billing provider",
            layers=layers,
            environment=push_environment,
            service=REINTEGRATION_SERVICE,
            memory_size=512,
            # The longest Lambda allows; it stops a minute early and answers finished: false.
            timeout=Duration.minutes(15),
            log_retention=log_retention,
            removal_policy=removal_policy,
            # One run per location at a time is the operator's job; two locations may run.
            reserved_concurrency=2,
        )
        self.reintegration_function = reintegration.function
        acknowledge(
            self.reintegration_function,
            "Serverless-LambdaDLQ",
            "Invoked synchronously by an operator (docs/operations.md), who reads its answer "
            "and invokes it again until finished; there is no asynchronous event to keep.",
        )
        reintegration.grant_table(storage.entities, REINTEGRATION_ENTITIES_ACTIONS)
        reintegration.grant_table(storage.state, REINTEGRATION_STATE_ACTIONS)
        grant_billing_secrets(reintegration.role, secret_prefix)
        self._grant_dead_letters(reintegration.role)

    def _grant_dead_letters(self, role: iam.IRole) -> None:
        # The handler sends the prospects it gave up on (SqsDeadLetters.send).
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"], resources=[self.dead_letters.queue_arn]
            )
        )
