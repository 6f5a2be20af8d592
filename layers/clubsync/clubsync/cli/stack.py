"""`clubsync --stack NAME` (or CLUBSYNC_STACK): every command finds a deployed stack's tables,
ARNs, schedule group and secret prefix in the stack's CloudFormation outputs.

The outputs are put into the environment variables the commands already read (each option's
`envvar`), so an explicit option, or a variable the operator exported, still wins, and a
command reads its values one way whether they came from a stack or were exported by hand.
`tests/infra` checks that every output named here is one the stack declares.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

from clubsync.features.scheduling import (
    CHECKINS_TARGET_ENV,
    FULL_SYNC_TARGET_ENV,
    FULL_SYNC_WINDOW_ENV,
)
from clubsync.runtime.aws import aws_client
from clubsync.store.tables import ENTITIES, STATE

STACK_ENV = "CLUBSYNC_STACK"
SECRET_PREFIX_ENV = "CLUBSYNC_SECRET_PREFIX"
SCHEDULE_GROUP_ENV = "CLUBSYNC_SCHEDULE_GROUP"

# Stack output -> the environment variable the CLI reads it from.
OUTPUT_VARIABLES: dict[str, str] = {
    "EntitiesTable": ENTITIES.env_var,
    "StateTable": STATE.env_var,
    "ScheduleGroup": SCHEDULE_GROUP_ENV,
    "SyncFunctionArn": "CLUBSYNC_SYNC_FUNCTION_ARN",
    "SchedulerRoleArn": "CLUBSYNC_SCHEDULER_ROLE_ARN",
    "SyncDeadLetterQueueArn": "CLUBSYNC_SCHEDULE_DLQ_ARN",
    "SyncDeadLetterQueueUrl": "CLUBSYNC_SYNC_DLQ_URL",
    "ProspectDeadLetterQueueUrl": "CLUBSYNC_PROSPECT_DLQ_URL",
    "RegistryDeadLetterQueueUrl": "CLUBSYNC_REGISTRY_DLQ_URL",
    "FullSyncStateMachineArn": FULL_SYNC_TARGET_ENV,
    "CheckinsSyncFunctionArn": CHECKINS_TARGET_ENV,
    "FullSyncWindowMinutes": FULL_SYNC_WINDOW_ENV,
    "SecretPrefix": SECRET_PREFIX_ENV,
    "FeedBucket": "CLUBSYNC_FEED_BUCKET",
}


class StackNotFound(LookupError):
    """The named stack does not exist in this account and region (one line)."""


def stack_outputs(stack_name: str) -> dict[str, str]:
    """The stack's outputs by key. Raises StackNotFound; other AWS errors are the CLI's one
    line (cli/aws_errors.py)."""
    from botocore.exceptions import ClientError

    client = aws_client("cloudformation")
    try:
        stacks = client.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise StackNotFound(
                f"Stack {stack_name!r} does not exist in this account and region: check "
                f"--stack / {STACK_ENV} (e.g. Clubsync-prod) and AWS_REGION."
            ) from error
        raise
    return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}


def use_stack(stack_name: str, environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Sets each variable from the stack's outputs unless it is set already; returns what it
    set."""
    target = os.environ if environ is None else environ
    outputs = stack_outputs(stack_name)
    applied: dict[str, str] = {}
    for output, variable in OUTPUT_VARIABLES.items():
        if output in outputs and not target.get(variable):
            target[variable] = applied[variable] = outputs[output]
    return applied
