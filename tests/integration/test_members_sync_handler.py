"""The member sync Lambda handler, invoked as Lambda would with a Scheduler event: DynamoDB and
Secrets Manager in moto (in-process), the billing sandbox over HTTP on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from moto import mock_aws

from clubsync.domain.settings import LocationSettings
from clubsync.runtime.local import (
    LOCAL_REGION,
    Repositories,
    create_tables,
    dynamo_repositories,
    dynamodb_client,
    use_fake_aws_credentials,
)
from clubsync.runtime.sync_lambda import sync_runtime
from clubsync.sandbox import BillingSandbox
from clubsync.store.tables import ENTITIES, STATE

pytestmark = pytest.mark.enable_socket

ROOT = Path(__file__).resolve().parents[2]
CLUB = "0451"
SECRET = "clubsync/abc/test-account"
# 21:00 in Chicago on 2026-11-20, as Scheduler writes <aws.scheduler.scheduled-time> (UTC).
FULL_SYNC_AT = datetime(2026, 11, 20, 21, 0, tzinfo=ZoneInfo("America/Chicago"))
SCHEDULED_TIME = FULL_SYNC_AT.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
PAGE_SIZE = 40


class Context:
    """A Lambda context; `remaining_ms` decides when the sync pauses (margin: 120 s)."""

    function_name = "clubsync-members-sync"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:clubsync-members-sync"
    aws_request_id = "request"

    def __init__(self, remaining_ms: Callable[[], int] = lambda: 600_000) -> None:
        self._remaining = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining()


def short_on_time() -> Context:
    return Context(lambda: 1_000)


def location(location_id: str = "springfield", **changes: Any) -> LocationSettings:
    values: dict[str, Any] = {
        "location_id": location_id,
        "club_number": CLUB,
        "time_zone": "America/Chicago",
        "billing_secret_name": SECRET,
    }
    return LocationSettings(**{**values, **changes})


def scheduler_event(location_id: str = "springfield", kind: str = "full") -> dict[str, Any]:
    return {"location": location_id, "kind": kind, "scheduled_time": SCHEDULED_TIME}


def state_machine_event(location_id: str = "springfield") -> dict[str, Any]:
    """What the full sync state machine's "Start members" state sends."""
    return {**scheduler_event(location_id), "sync_type": "members", "caller_continues": True}


@dataclass
class World:
    handler: Any
    repos: Repositories
    sandbox: BillingSandbox
    invocations: list[tuple[str, dict[str, Any]]]


def _load_handler() -> Any:
    # A fresh module per test: its cached clients belong to this test's moto.
    path = ROOT / "functions" / "members_sync" / "handler.py"
    spec = importlib.util.spec_from_file_location("members_sync_handler", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from aws_lambda_powertools.utilities.parameters import base

    use_fake_aws_credentials()
    with BillingSandbox(now=FULL_SYNC_AT, page_size_limit=PAGE_SIZE) as sandbox, mock_aws():
        sandbox.add_club(CLUB, "America/Chicago")
        sandbox.generate_members(CLUB, 150, seed=11)
        for name, value in {
            ENTITIES.env_var: ENTITIES.default_name,
            STATE.env_var: STATE.default_name,
            "CLUBSYNC_ABC_BASE_URL": sandbox.url,
            "CLUBSYNC_ABC_MIN_REQUEST_INTERVAL_SECONDS": "0",
            "POWERTOOLS_SERVICE_NAME": "clubsync-members-sync",
            "POWERTOOLS_METRICS_NAMESPACE": "ClubSyncTest",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }.items():
            monkeypatch.setenv(name, value)
        client = dynamodb_client()
        create_tables(client)
        repos = dynamo_repositories(client)
        repos.state.put_location(location())
        boto3.client("secretsmanager", region_name=LOCAL_REGION).create_secret(
            Name=SECRET, SecretString=json.dumps({"app_id": "sandbox", "app_key": "sandbox"})
        )
        # Powertools keeps its Secrets Manager provider (and cache) per process.
        base.DEFAULT_PROVIDERS.clear()
        # The runtime is built once per container: this test's, inside this test's moto.
        sync_runtime.cache_clear()
        handler = _load_handler()
        invocations: list[tuple[str, dict[str, Any]]] = []
        monkeypatch.setattr(
            sync_runtime(),
            "invoke_async",
            lambda function, payload: invocations.append((function, payload)),
        )
        yield World(handler, repos, sandbox, invocations)
        sync_runtime.cache_clear()
        base.DEFAULT_PROVIDERS.clear()


def entity_items() -> list[dict[str, Any]]:
    client = dynamodb_client()
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": ENTITIES.default_name, "ConsistentRead": True}
    while True:
        answer = client.scan(**request)
        items += answer["Items"]
        if "LastEvaluatedKey" not in answer:
            return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every log record with its extra fields. (Powertools' logger keeps the stream it first
    wrote to, so capsys sees only the first test's logs; caplog sees them all.)"""
    return "\n".join(json.dumps(vars(record), default=str) for record in caplog.records)


def metric_documents(output: str) -> list[dict[str, Any]]:
    documents = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            # Powertools writes each value as a list of data points.
            documents.append(
                {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in document.items()}
            )
    return documents


def test_a_scheduler_event_syncs_the_location(
    world: World, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    result = world.handler.handler(scheduler_event(kind="partial"), Context())
    assert result["status"] == "succeeded", result
    assert result["sync_type"] == "members" and "continuation" not in result
    people = world.repos.entities.people("springfield")
    runs = world.repos.state.runs("springfield")
    assert len(runs) == 1 and runs[0].counts.created == len(people) > 0
    assert runs[0].scheduled_time == FULL_SYNC_AT

    output = capsys.readouterr().out
    documents = metric_documents(output)
    run_metrics = [d for d in documents if "SyncSucceeded" in d]
    assert run_metrics and run_metrics[0]["SyncSucceeded"] == 1.0
    assert run_metrics[0]["Created"] == len(people)
    # The configured namespace, and only the service dimension: never the location.
    emf = run_metrics[0]["_aws"]["CloudWatchMetrics"][0]
    assert emf["Namespace"] == "ClubSyncTest"
    assert emf["Dimensions"] == [["service"]]
    assert run_metrics[0]["service"] == "clubsync-members-sync"
    assert "location" not in run_metrics[0]
    # Per-location health is in the log line.
    finished = [r for r in caplog.records if r.getMessage() == "sync run finished"]
    assert finished and vars(finished[0])["location_id"] == "springfield"
    assert vars(finished[0])["counts"]["created"] == len(people)
    # No personal data in the logs: not one name, email or phone of a synced member.
    output += logged(caplog)
    assert "sync run finished" in output
    for record in world.sandbox.members(CLUB):
        personal = record["personal"]
        for field in ("lastName", "email", "primaryPhone", "mobilePhone"):
            value = personal.get(field)
            if value and len(value) > 3:
                assert value not in output, field


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (scheduler_event("nowhere"), "unknown location 'nowhere'"),
        (scheduler_event(kind="weekly"), "kind: Input should be 'full' or 'partial'"),
        ({"location": "springfield", "kind": "full"}, "scheduled_time: Field required"),
        ("not an object", "expected a JSON object event"),
    ],
)
def test_a_hopeless_event_is_refused_clearly_without_raising(
    world: World,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    event: Any,
    expected: str,
) -> None:
    result = world.handler.handler(event, Context())
    assert result["status"] == "invalid_event"
    assert expected in result["message"]
    output = capsys.readouterr().out
    assert any(d.get("InvalidEvents") == 1.0 for d in metric_documents(output))
    assert expected in logged(caplog)
    assert entity_items() == []


def test_a_location_without_a_billing_secret_is_refused(world: World) -> None:
    world.repos.state.put_location(location("nosecret", billing_secret_name=""))
    result = world.handler.handler(scheduler_event("nosecret"), Context())
    assert result["status"] == "invalid_event"
    assert "no billing_secret_name" in result["message"]


def test_a_failed_sync_raises_so_lambda_retries_it(world: World) -> None:
    from clubsync.resources.members import SyncFailed

    secrets = boto3.client("secretsmanager", region_name=LOCAL_REGION)
    secrets.put_secret_value(
        SecretId=SECRET, SecretString=json.dumps({"app_id": "sandbox", "app_key": "wrong"})
    )
    with pytest.raises(SyncFailed):
        world.handler.handler(scheduler_event(), Context())
    assert [run.status.value for run in world.repos.state.runs("springfield")] == ["failed"]


def _comparable(repos: Repositories, location_id: str) -> dict[str, Any]:
    return {
        person.billing_member_id: (
            person.kind,
            person.is_active,
            person.contact.model_dump(),
            sorted(person.agreement_keys),
            person.current_agreement_key,
        )
        for person in repos.entities.people(location_id)
    }


def test_a_sync_short_of_time_continues_in_fresh_invocations_losing_and_repeating_nothing(
    world: World,
) -> None:
    # The reference: the same club synced in one go under another location id.
    world.repos.state.put_location(location("reference"))
    straight = world.handler.handler(scheduler_event("reference"), Context())
    assert straight["status"] == "succeeded"

    result = world.handler.handler(scheduler_event(), short_on_time())
    hops = 0
    while result["status"] == "continued":
        # Continued by invoking itself: nothing may loop on a `continuation` as well.
        assert "continuation" not in result
        assert result["continued_by_invocation"]["resume_run_id"] == result["run_id"]
        function, payload = world.invocations.pop()
        assert function == Context.invoked_function_arn
        assert payload == result["continued_by_invocation"]
        result = world.handler.handler(payload, short_on_time())
        hops += 1
    assert result["status"] == "succeeded"
    assert hops >= 3  # one page per invocation: several fresh invocations were needed

    runs = world.repos.state.runs("springfield")
    final = next(run for run in runs if run.status.value == "succeeded")
    reference = world.repos.state.runs("reference")[0]
    assert final.counts.fetched == reference.counts.fetched
    assert final.counts.created == reference.counts.created
    assert {run.run_id for run in runs} == {final.run_id}  # one run, continued
    people = world.repos.entities.people("springfield")
    assert len(people) == len({p.billing_member_id for p in people})  # no duplicates
    assert _comparable(world.repos, "springfield") == _comparable(world.repos, "reference")
    assert world.repos.state.checkpoint("springfield", "members") is None


def test_two_overlapping_invocations_for_a_location_do_not_both_write(world: World) -> None:
    paused_mid_run = threading.Event()
    release = threading.Event()
    asked = 0

    def remaining() -> int:
        # Asked after each page: hold the first invocation after its first page.
        nonlocal asked
        asked += 1
        if asked == 1:
            paused_mid_run.set()
            assert release.wait(30)
        return 600_000

    outcome: dict[str, Any] = {}
    first = threading.Thread(
        target=lambda: outcome.update(world.handler.handler(scheduler_event(), Context(remaining)))
    )
    first.start()
    try:
        assert paused_mid_run.wait(30)
        before = entity_items()
        assert before  # the first invocation has written its first page
        second = world.handler.handler(scheduler_event(), Context())
        assert second["status"] == "skipped_locked", second
        assert "another members sync of location springfield is running" in second["message"]
        assert entity_items() == before
    finally:
        release.set()
        first.join(30)
    assert outcome["status"] == "succeeded"
    statuses = sorted(run.status.value for run in world.repos.state.runs("springfield"))
    assert statuses == ["skipped_locked", "succeeded"]


def test_in_the_state_machine_a_paused_run_returns_its_continuation_and_never_invokes_itself(
    world: World,
) -> None:
    """The state machine's contract (docs/decisions.md): `caller_continues` in the event, the
    continuation in the answer, which the Choice loop sends back until the run ends; the last
    answer is a TypeResult like every type's."""
    from clubsync.engine.full_sync import TypeResult, result_from_step_output

    world.repos.state.put_location(location("reference"))
    reference = world.handler.handler(state_machine_event("reference"), Context())
    assert reference["status"] == "succeeded" and "continuation" not in reference

    result = world.handler.handler(state_machine_event(), short_on_time())
    hops = 0
    while "continuation" in result:
        assert result["status"] == "continued"
        assert result["continuation"]["caller_continues"] is True
        assert result["continuation"]["resume_run_id"] == result["run_id"]
        result = world.handler.handler(result["continuation"], short_on_time())
        hops += 1
    assert hops >= 3 and world.invocations == []
    assert result["status"] == "succeeded"
    typed = result_from_step_output(result)
    assert typed == TypeResult.model_validate(result)
    assert typed.counts["created"] == reference["counts"]["created"]
    assert _comparable(world.repos, "springfield") == _comparable(world.repos, "reference")


def test_in_the_state_machine_a_refused_event_raises_so_the_catch_records_a_failed_type(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from clubsync.engine.scheduled import InvalidEvent

    with pytest.raises(InvalidEvent, match="unknown location 'nowhere'"):
        world.handler.handler(state_machine_event("nowhere"), Context())
    assert any(d.get("InvalidEvents") == 1.0 for d in metric_documents(capsys.readouterr().out))
