"""The sync Lambdas of the other types and the full sync summary Lambda, invoked as Step
Functions would: DynamoDB and Secrets Manager in moto, the billing sandbox over HTTP."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.engine.sync_types import FULL_SYNC_ORDER
from clubsync.runtime.local import (
    LOCAL_REGION,
    create_tables,
    dynamo_repositories,
    dynamodb_client,
    use_fake_aws_credentials,
)
from clubsync.runtime.run_metrics import COUNT_METRICS, sync_service
from clubsync.runtime.sync_lambda import sync_runtime
from clubsync.sandbox import BillingSandbox
from clubsync.store.tables import ENTITIES, STATE
from tests.integration.test_members_sync_handler import (
    CLUB,
    FULL_SYNC_AT,
    SCHEDULED_TIME,
    SECRET,
    Context,
    metric_documents,
)

pytestmark = pytest.mark.enable_socket

ROOT = Path(__file__).resolve().parents[2]


def load(function: str) -> Any:
    path = ROOT / "functions" / function / "handler.py"
    spec = importlib.util.spec_from_file_location(f"{function}_handler", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.handler


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from aws_lambda_powertools.utilities.parameters import base

    use_fake_aws_credentials()
    with BillingSandbox(now=FULL_SYNC_AT) as sandbox, mock_aws():
        sandbox.add_club(CLUB, "America/Chicago")
        sandbox.generate_members(CLUB, 40, seed=11)
        for name, value in {
            ENTITIES.env_var: ENTITIES.default_name,
            STATE.env_var: STATE.default_name,
            "CLUBSYNC_ABC_BASE_URL": sandbox.url,
            "CLUBSYNC_ABC_MIN_REQUEST_INTERVAL_SECONDS": "0",
            "POWERTOOLS_METRICS_NAMESPACE": "ClubSyncTest",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }.items():
            monkeypatch.setenv(name, value)
        client = dynamodb_client()
        create_tables(client)
        repos = dynamo_repositories(client)
        repos.state.put_location(
            LocationSettings(
                location_id="springfield",
                club_number=CLUB,
                time_zone="America/Chicago",
                billing_secret_name=SECRET,
            )
        )
        boto3.client("secretsmanager", region_name=LOCAL_REGION).create_secret(
            Name=SECRET, SecretString=json.dumps({"app_id": "sandbox", "app_key": "sandbox"})
        )
        base.DEFAULT_PROVIDERS.clear()  # type: ignore[attr-defined]
        sync_runtime.cache_clear()
        yield repos
        sync_runtime.cache_clear()
        base.DEFAULT_PROVIDERS.clear()  # type: ignore[attr-defined]


def test_type_handlers_run_their_sync_and_the_summary_handler_stores_the_day(world: Any) -> None:
    event = {"location": "springfield", "kind": "full", "scheduled_time": SCHEDULED_TIME}
    outputs = [
        load(f"{sync_type.value}_sync")(event, Context())
        for sync_type in (SyncType.EMPLOYEES, SyncType.EVENTS, SyncType.CHECKINS)
    ]
    assert [o["status"] for o in outputs] == ["succeeded"] * 3
    assert outputs[0]["counts"]["created"] > 0
    caught = {"sync_type": "pos", "error": {"Error": "SyncFailed", "Cause": "ABC GET failed"}}
    summary = load("full_sync_summary")(
        {
            "location": "springfield",
            "scheduled_time": SCHEDULED_TIME,
            "results": [*outputs, caught],
        },
        Context(),
    )
    assert summary["status"] == "partly failed"
    assert summary["local_date"] == "2026-11-20"
    assert world.state.run_summaries("springfield")[0]["results"][-1]["status"] == "failed"


def _run_documents(output: str) -> list[dict[str, Any]]:
    return [d for d in metric_documents(output) if "SyncSucceeded" in d or "SyncFailed" in d]


@pytest.mark.parametrize("sync_type", FULL_SYNC_ORDER, ids=lambda t: t.value)
def test_every_sync_type_emits_the_same_run_metrics_in_the_configured_namespace(
    world: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sync_type: SyncType,
) -> None:
    """One runtime for every type (issue 11): the same metric names, the namespace the stack
    configures (never one in code), the service as the only dimension (never the location)."""
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", sync_service(sync_type))
    # Marketing sources ask billing anything only with the option on.
    world.state.put_location(
        LocationSettings(
            location_id="springfield",
            club_number=CLUB,
            time_zone="America/Chicago",
            billing_secret_name=SECRET,
            sync_marketing_sources=True,
        )
    )
    handler = load(f"{sync_type.value}_sync")
    event = {
        "location": "springfield",
        "kind": "full",
        "scheduled_time": SCHEDULED_TIME,
        "sync_type": sync_type.value,
        "caller_continues": True,
    }
    capsys.readouterr()
    output = handler(event, Context())
    assert output["status"] == "succeeded", output
    [document] = _run_documents(capsys.readouterr().out)
    [emf] = document["_aws"]["CloudWatchMetrics"]
    assert emf["Namespace"] == "ClubSyncTest"
    assert emf["Dimensions"] == [["service"]]
    assert document["service"] == sync_service(sync_type)
    assert "location" not in document and "location_id" not in document
    names = {m["Name"] for m in emf["Metrics"]}
    assert names == {"SyncSucceeded", *COUNT_METRICS.values()}
    assert document["Fetched"] == output["counts"]["fetched"]

    # A failed run: the same metric names with SyncFailed, and the run still raises.
    from clubsync.engine.sync_engine import SyncFailed

    boto3.client("secretsmanager", region_name=LOCAL_REGION).put_secret_value(
        SecretId=SECRET, SecretString=json.dumps({"app_id": "sandbox", "app_key": "wrong"})
    )
    from aws_lambda_powertools.utilities.parameters import base

    base.DEFAULT_PROVIDERS.clear()  # type: ignore[attr-defined]
    with pytest.raises(SyncFailed):
        handler({**event, "scheduled_time": "2026-11-21T03:30:00Z"}, Context())
    [failed] = _run_documents(capsys.readouterr().out)
    [emf] = failed["_aws"]["CloudWatchMetrics"]
    assert emf["Namespace"] == "ClubSyncTest" and emf["Dimensions"] == [["service"]]
    assert {m["Name"] for m in emf["Metrics"]} == {"SyncFailed", *COUNT_METRICS.values()}


def test_the_summary_handler_emits_partly_failed(
    world: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "clubsync-full-sync-summary")
    summary = load("full_sync_summary")
    ok = {"sync_type": "members", "status": "succeeded", "run_id": "r1"}
    caught = {"sync_type": "pos", "error": {"Error": "SyncFailed", "Cause": "ABC GET failed"}}
    event = {"location": "springfield", "scheduled_time": SCHEDULED_TIME}
    capsys.readouterr()
    assert summary({**event, "results": [ok, caught]}, Context())["status"] == "partly failed"
    [document] = [d for d in metric_documents(capsys.readouterr().out) if "FullSyncFailed" in d]
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ClubSyncTest"
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert (document["FullSyncPartlyFailed"], document["FullSyncFailed"]) == (1.0, 0.0)
    assert document["FullSyncSucceeded"] == 0.0
    assert summary({**event, "results": [ok]}, Context())["status"] == "succeeded"
    [document] = [d for d in metric_documents(capsys.readouterr().out) if "FullSyncFailed" in d]
    assert (document["FullSyncSucceeded"], document["FullSyncPartlyFailed"]) == (1.0, 0.0)


def test_the_staleness_check_emits_one_count_and_logs_which_locations(
    world: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from datetime import UTC, datetime, timedelta

    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "clubsync-stale-locations")
    path = ROOT / "functions" / "stale_locations" / "handler.py"
    spec = importlib.util.spec_from_file_location("stale_locations_handler", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    # springfield has never synced: seen now, not stale yet; the count is emitted anyway.
    capsys.readouterr()
    assert module.handler({}, Context()) == {
        "checked": 1,
        "stale": [],
        "newly_seen": ["springfield"],
    }
    [document] = [d for d in metric_documents(capsys.readouterr().out) if "StaleLocations" in d]
    assert document["StaleLocations"] == 0.0
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ClubSyncTest"
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]

    world.state.set_watermark("springfield", "members", datetime.now(UTC) - timedelta(hours=30))
    assert module.handler({}, Context())["stale"] == ["springfield"]
    [document] = [d for d in metric_documents(capsys.readouterr().out) if "StaleLocations" in d]
    assert document["StaleLocations"] == 1.0 and "location_id" not in document
    [line] = [r for r in caplog.records if r.getMessage() == "stale location"]
    assert vars(line)["location_id"] == "springfield"
    assert vars(line)["hours_since_success"] == pytest.approx(30, abs=0.2)


def test_a_run_that_crashes_counts_as_a_failed_sync_and_is_raised(
    world: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", sync_service(SyncType.POS))
    handler = load("pos_sync")

    def broken(*args: Any) -> Any:
        raise RuntimeError("DynamoDB said no past its retries")

    monkeypatch.setattr(sync_runtime(), "source", broken)
    capsys.readouterr()
    event = {"location": "springfield", "kind": "full", "scheduled_time": SCHEDULED_TIME}
    with pytest.raises(RuntimeError):
        handler({**event, "caller_continues": True}, Context())
    [document] = _run_documents(capsys.readouterr().out)
    assert document["SyncFailed"] == 1.0
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    [line] = [r for r in caplog.records if r.getMessage() == "sync run failed"]
    assert vars(line)["location_id"] == "springfield"
    assert vars(line)["run_message"] == "crashed: RuntimeError"


def test_a_secret_that_is_not_the_providers_credentials_is_refused_naming_the_fields(
    world: Any,
) -> None:
    boto3.client("secretsmanager", region_name=LOCAL_REGION).create_secret(
        Name="clubsync/wrong", SecretString=json.dumps({"app_id": "sandbox"})
    )
    world.state.put_location(
        LocationSettings(
            location_id="springfield",
            club_number=CLUB,
            time_zone="America/Chicago",
            billing_secret_name="clubsync/wrong",
        )
    )
    event = {"location": "springfield", "kind": "full", "scheduled_time": SCHEDULED_TIME}
    answer = load("employees_sync")(event, Context())
    assert answer["status"] == "invalid_event"
    assert answer["message"] == (
        "location 'springfield': secret 'clubsync/wrong' does not hold abc credentials: "
        "secret.app_key: Field required"
    )


def test_a_type_the_provider_does_not_pull_ends_skipped_and_the_summary_succeeds(
    world: Any,
) -> None:
    """The state machine is shared by every location: for a Club Hub location (which pulls
    nothing on schedule) every Task answers a skipped result instead of a caught failure."""
    world.state.put_location(
        LocationSettings(
            location_id="capital-city",
            provider="clubhub",
            account={"club_id": "AF-1203"},
            time_zone="America/Chicago",
        )
    )
    event = {
        "location": "capital-city",
        "kind": "full",
        "scheduled_time": SCHEDULED_TIME,
        "caller_continues": True,
    }
    outputs = [
        load(f"{t.value}_sync")({**event, "sync_type": t.value}, Context()) for t in FULL_SYNC_ORDER
    ]
    assert {(o["status"], o["message"]) for o in outputs} == {
        ("skipped", "not offered by provider clubhub")
    }
    # A stale partial schedule's event (Scheduler, nobody continues) is answered the same way.
    partial = {"location": "capital-city", "kind": "partial", "scheduled_time": SCHEDULED_TIME}
    assert load("members_sync")(partial, Context())["status"] == "skipped"
    assert world.state.runs("capital-city") == []
    summary = load("full_sync_summary")(
        {"location": "capital-city", "scheduled_time": SCHEDULED_TIME, "results": outputs},
        Context(),
    )
    assert summary["status"] == "succeeded"
