"""`clubsync --stack NAME` against moto (in-process): a deployed stack's outputs give every
command its tables, schedule group, targets and secret prefix; reconcile refuses to run without
its targets; a stack that does not exist is one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from clubsync.cli.main import app
from clubsync.cli.stack import OUTPUT_VARIABLES, STACK_ENV
from clubsync.domain.settings import LocationSettings
from clubsync.runtime.aws import ENDPOINT_ENV
from clubsync.runtime.local import (
    LOCAL_REGION,
    create_tables,
    dynamo_repositories,
    use_fake_aws_credentials,
)

ACCOUNT = "123456789012"
STACK = "Clubsync-qa"
OUTPUTS = {
    "EntitiesTable": "qa-clubsync-entities",
    "StateTable": "qa-clubsync-state",
    "ScheduleGroup": "clubsync-qa",
    "SyncFunctionArn": f"arn:aws:lambda:{LOCAL_REGION}:{ACCOUNT}:function:qa-members",
    "SchedulerRoleArn": f"arn:aws:iam::{ACCOUNT}:role/qa-scheduler",
    "SyncDeadLetterQueueArn": f"arn:aws:sqs:{LOCAL_REGION}:{ACCOUNT}:qa-sync-dlq",
    "FullSyncStateMachineArn": f"arn:aws:states:{LOCAL_REGION}:{ACCOUNT}:stateMachine:qa-full",
    "CheckinsSyncFunctionArn": f"arn:aws:lambda:{LOCAL_REGION}:{ACCOUNT}:function:qa-checkins",
    "SecretPrefix": "clubsync/qa/",
}


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A deployed-shaped account: the stack's outputs, its tables, its schedule group."""
    use_fake_aws_credentials()
    monkeypatch.delenv(ENDPOINT_ENV, raising=False)
    monkeypatch.delenv(STACK_ENV, raising=False)
    # Whatever --stack sets is undone after the test.
    for variable in OUTPUT_VARIABLES.values():
        monkeypatch.setenv(variable, "")
    with mock_aws():
        template = {
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {key: {"Value": value} for key, value in OUTPUTS.items()},
        }
        boto3.client("cloudformation", region_name=LOCAL_REGION).create_stack(
            StackName=STACK, TemplateBody=json.dumps(template)
        )
        client = boto3.client("dynamodb", region_name=LOCAL_REGION)
        create_tables(client, prefix="qa-")
        dynamo_repositories(client, prefix="qa-").state.put_location(
            LocationSettings(
                location_id="springfield", club_number="0451", time_zone="America/Chicago"
            )
        )
        boto3.client("scheduler", region_name=LOCAL_REGION).create_schedule_group(
            Name=OUTPUTS["ScheduleGroup"]
        )
        yield


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.output


@pytest.mark.usefixtures("deployed")
def test_the_stack_names_the_tables_a_command_reads() -> None:
    code, output = run("--stack", STACK, "locations", "list")
    assert code == 0, output
    assert "springfield" in output


@pytest.mark.usefixtures("deployed")
def test_the_stacks_secret_prefix_guards_apply(tmp_path: Path) -> None:
    path = tmp_path / "locations.json"
    path.write_text(
        json.dumps(
            {
                "locations": [
                    {
                        "location_id": "springfield",
                        "club_number": "0451",
                        "time_zone": "America/Chicago",
                        "billing_secret_name": "clubsync/prod/abc/springfield",
                    }
                ]
            }
        )
    )
    code, output = run("--stack", STACK, "locations", "apply", str(path), "--dry-run")
    assert code == 2 and "clubsync/qa/" in output


@pytest.mark.usefixtures("deployed")
def test_reconcile_with_the_stack_targets_the_state_machine_and_the_checkin_sync() -> None:
    code, output = run("--stack", STACK, "locations", "reconcile")
    assert code == 0, output
    scheduler = boto3.client("scheduler", region_name=LOCAL_REGION)
    full = scheduler.get_schedule(GroupName="clubsync-qa", Name="springfield-members-full")
    assert full["Target"]["Arn"] == OUTPUTS["FullSyncStateMachineArn"]


@pytest.mark.usefixtures("deployed")
def test_reconcile_without_its_targets_refuses_instead_of_rolling_schedules_back() -> None:
    code, output = run(
        "locations",
        "reconcile",
        "--group",
        "clubsync-qa",
        "--target-arn",
        OUTPUTS["SyncFunctionArn"],
        "--role-arn",
        OUTPUTS["SchedulerRoleArn"],
        "--dlq-arn",
        OUTPUTS["SyncDeadLetterQueueArn"],
    )
    assert code == 2
    assert "--full-sync-arn, --checkins-arn" in output and "--stack" in output
    scheduler = boto3.client("scheduler", region_name=LOCAL_REGION)
    assert scheduler.list_schedules(GroupName="clubsync-qa")["Schedules"] == []


@pytest.mark.usefixtures("deployed")
def test_a_stack_that_does_not_exist_is_one_line() -> None:
    code, output = run("--stack", "Clubsync-nope", "locations", "list")
    assert code == 4
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "Clubsync-nope" in lines[0] and "does not exist" in lines[0]


@pytest.mark.usefixtures("deployed")
def test_an_explicit_option_wins_over_the_stack() -> None:
    scheduler = boto3.client("scheduler", region_name=LOCAL_REGION)
    scheduler.create_schedule_group(Name="clubsync-other")
    code, output = run("--stack", STACK, "locations", "reconcile", "--group", "clubsync-other")
    assert code == 0, output
    assert scheduler.list_schedules(GroupName="clubsync-other")["Schedules"]
    assert scheduler.list_schedules(GroupName="clubsync-qa")["Schedules"] == []
