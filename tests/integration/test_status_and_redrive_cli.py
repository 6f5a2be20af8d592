"""`clubsync status` and `clubsync dlq redrive` against moto (in process): the fleet report at
80 columns and as JSON, and a redrive that deletes a message only once its invoke was accepted."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto.awslambda.models import LambdaFunction
from typer.testing import CliRunner

from clubsync.cli.main import app
from clubsync.domain.runs import RunCounts, RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.engine.sync_types import full_sync_types
from clubsync.runtime.local import Repositories

runner = CliRunner()
WIDTH = 80


def _location(repos: Repositories, location_id: str, last_success: datetime) -> None:
    settings = LocationSettings(
        location_id=location_id, club_number="0451", time_zone="America/Chicago"
    )
    repos.state.put_location(settings)
    for sync_type in full_sync_types(settings):
        repos.state.set_watermark(location_id, sync_type.value, last_success)


@pytest.fixture
def fleet(repos: Repositories) -> Repositories:
    now = datetime.now(UTC)
    # The conftest's "springfield" is registered but never synced: stale.
    _location(repos, "ok-club", now - timedelta(hours=1))
    _location(repos, "stale-club", now - timedelta(hours=40))
    _location(repos, "failing-club", now - timedelta(hours=2))
    started = now - timedelta(minutes=30)
    repos.state.put_run(
        RunRecord(
            run_id="run-0001",
            location_id="failing-club",
            sync_type=SyncType.CHECKINS,
            kind=SyncKind.PARTIAL,
            status=RunStatus.FAILED,
            scheduled_time=started,
            started_at=started,
            message="billing answered 503 Service Unavailable for the check-ins of the club, "
            "three times in a row; the next sync catches up from the watermark",
        )
    )
    return repos


@pytest.fixture
def sync_queue(repos: Repositories, monkeypatch: pytest.MonkeyPatch) -> str:
    url = boto3.client("sqs").create_queue(QueueName="sync-dlq")["QueueUrl"]
    monkeypatch.setenv("CLUBSYNC_SYNC_DLQ_URL", url)
    return str(url)


def test_status_lists_failing_then_stale_then_ok_within_80_columns(
    fleet: Repositories, sync_queue: str
) -> None:
    boto3.client("sqs").send_message(QueueUrl=sync_queue, MessageBody="{}")
    result = runner.invoke(app, ["status"], terminal_width=WIDTH)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    assert "4 location(s): 1 failing, 2 stale, 1 ok" in lines[0]
    assert "Dead-letter queues: sync 1, prospects ?, registry ?" in lines[1]
    rows = [line.split()[0] for line in lines[3:] if line and not line.startswith(" ")]
    assert rows[:4] == ["failing-club", "springfield", "stale-club", "ok-club"]
    errors = lines[lines.index("Last errors:") + 1 :]
    assert errors[0].startswith("  failing-club checkins ")
    assert "billing answered 503" in errors[0]


def test_status_as_json_for_one_location(fleet: Repositories) -> None:
    result = runner.invoke(app, ["status", "--location", "failing-club", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    [location] = status["locations"]
    assert (location["location_id"], location["health"]) == ("failing-club", "failing")
    assert location["types"][0]["sync_type"] == "checkins"
    assert location["types"][0]["last_error"].startswith("billing answered 503")
    assert location["pending_pushes"] == 0
    assert status["dead_letters"] == {"sync": None, "prospects": None, "registry": None}


def test_status_of_an_unknown_location_is_one_line(fleet: Repositories) -> None:
    result = runner.invoke(app, ["status", "--location", "nowhere"])
    assert result.exit_code == 1
    assert "'nowhere' is not registered" in result.output
    assert "Traceback" not in result.output


# -- redrive -------------------------------------------------------------------------------
EVENT = {"location_id": "springfield", "kind": "partial", "scheduled_time": "2026-11-20T18:00Z"}


@pytest.fixture
def invoked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """What moto's Lambda was asked to run (it would need Docker to run it)."""
    calls: list[tuple[str, Any]] = []

    def invoke(self: LambdaFunction, body: Any, *args: Any, **kwargs: Any) -> str:
        calls.append((self.function_name, json.loads(body)))
        return ""

    monkeypatch.setattr(LambdaFunction, "invoke", invoke)
    return calls


@pytest.fixture
def sync_function(repos: Repositories) -> str:
    role = boto3.client("iam").create_role(RoleName="sync", AssumeRolePolicyDocument="{}")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    boto3.client("lambda").create_function(
        FunctionName="members-sync",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )
    return "members-sync"


def _depth(url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_redrive_invokes_the_function_with_the_event_then_deletes_it(
    sync_queue: str, sync_function: str, invoked: list[tuple[str, Any]]
) -> None:
    boto3.client("sqs").send_message(QueueUrl=sync_queue, MessageBody=json.dumps(EVENT))
    result = runner.invoke(
        app, ["dlq", "redrive", "--queue", "sync", "--function", f"members={sync_function}"]
    )
    assert result.exit_code == 0, result.output
    assert invoked == [("members-sync", EVENT)]
    assert _depth(sync_queue) == 0
    assert "1 redriven and deleted, 0 kept" in result.output


def test_a_dry_run_lists_and_changes_nothing(
    sync_queue: str, sync_function: str, invoked: list[tuple[str, Any]]
) -> None:
    sqs = boto3.client("sqs")
    for hour in range(12):
        sqs.send_message(QueueUrl=sync_queue, MessageBody=json.dumps({**EVENT, "n": hour}))
    result = runner.invoke(
        app,
        ["dlq", "redrive", "--queue", "sync", "--dry-run", "--json"],
        env={"CLUBSYNC_SYNC_FUNCTION_MEMBERS": sync_function},
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert len(listed) == 12
    assert {entry["outcome"] for entry in listed} == {"would redrive"}
    assert {entry["target"] for entry in listed} == {"members-sync"}
    assert invoked == []
    # Every message is visible again, at once.
    assert _depth(sync_queue) == 12


def test_a_failed_dispatch_keeps_the_message(sync_queue: str, repos: Repositories) -> None:
    boto3.client("sqs").send_message(QueueUrl=sync_queue, MessageBody=json.dumps(EVENT))
    result = runner.invoke(
        app, ["dlq", "redrive", "--queue", "sync", "--function", "gone", "--json"]
    )
    assert result.exit_code == 1
    [entry] = json.loads(result.output)
    assert entry["outcome"].startswith("kept: dispatch failed: ResourceNotFoundException")
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=sync_queue, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )
    # Still in the queue (hidden until its visibility timeout ends), not deleted.
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_a_redrive_without_a_queue_url_says_what_to_set(repos: Repositories) -> None:
    result = runner.invoke(app, ["dlq", "redrive", "--queue", "registry"])
    assert result.exit_code == 2
    assert "CLUBSYNC_REGISTRY_DLQ_URL" in result.output


def test_a_full_sync_event_starts_the_state_machine(
    sync_queue: str, sync_function: str, invoked: list[tuple[str, Any]]
) -> None:
    machine = boto3.client("stepfunctions").create_state_machine(
        name="full-sync",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    full = {**EVENT, "kind": "full"}
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=sync_queue, MessageBody=json.dumps(full))
    sqs.send_message(QueueUrl=sync_queue, MessageBody=json.dumps(EVENT))
    result = runner.invoke(
        app,
        ["dlq", "redrive", "--queue", "sync", "--function", sync_function],
        env={"CLUBSYNC_FULL_SYNC_STATE_MACHINE_ARN": machine},
    )
    assert result.exit_code == 0, result.output
    [execution] = boto3.client("stepfunctions").list_executions(stateMachineArn=machine)[
        "executions"
    ]
    described = boto3.client("stepfunctions").describe_execution(
        executionArn=execution["executionArn"]
    )
    assert json.loads(described["input"]) == full
    assert invoked == [("members-sync", EVENT)]
    assert _depth(sync_queue) == 0


def test_the_registry_queue_holds_no_events_and_says_what_redoes_the_work(
    repos: Repositories, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="registry-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"DDBStreamBatchInfo": {}}))
    monkeypatch.setenv("CLUBSYNC_REGISTRY_DLQ_URL", url)
    result = runner.invoke(app, ["dlq", "redrive", "--queue", "registry", "--json"])
    assert result.exit_code == 1
    [entry] = json.loads(result.output)
    assert "clubsync locations reconcile" in entry["outcome"]
    assert _depth(url) == 0  # hidden, not deleted: it reappears after the visibility timeout
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


# -- runs ----------------------------------------------------------------------------------
def _skipping_run(repos: Repositories) -> RunRecord:
    started = datetime(2026, 11, 20, 21, 0, 3, tzinfo=UTC)
    run = RunRecord(
        run_id="0123456789abcdef0123456789abcdef",
        location_id="springfield",
        sync_type=SyncType.SERVICE_AGREEMENTS,
        kind=SyncKind.PARTIAL,
        status=RunStatus.SUCCEEDED,
        scheduled_time=started,
        started_at=started,
        finished_at=started + timedelta(seconds=42),
        counts=RunCounts(fetched=120, created=3, unchanged=100, skipped=9, ignored=8),
        skip_reasons={"member not found in the CRM": 6, "agreement is not a service": 5},
        message="a message long enough to need wrapping at eighty columns, so the test shows "
        "that the report wraps it instead of letting it run off the edge",
    )
    repos.state.put_run(run)
    return run


def test_runs_fit_80_columns_with_full_ids_and_reasons_that_add_up(repos: Repositories) -> None:
    run = _skipping_run(repos)
    result = runner.invoke(app, ["runs", "--location", "springfield"], terminal_width=WIDTH)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    assert lines[1].startswith("2026-11-20 21:00:03 UTC  service_agreements partial  succeeded")
    assert f"  run {run.run_id}  requests 0" in lines
    # 9 skipped + 8 ignored = 17 = 6 + 5 + 6 without a reason.
    assert (
        "skipped 9, ignored 8: member not found in the CRM 6, agreement is not a service 5, "
        "no reason given 6" in " ".join(result.output.split())
    )


def test_runs_as_json(repos: Repositories) -> None:
    run = _skipping_run(repos)
    result = runner.invoke(app, ["runs", "--location", "springfield", "--json"])
    assert result.exit_code == 0, result.output
    [listed] = json.loads(result.output)
    assert RunRecord.model_validate(listed) == run
