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
from clubsync.lambda_runtime import sync_runtime
from clubsync.local import (
    LOCAL_REGION,
    create_tables,
    dynamo_repositories,
    dynamodb_client,
    use_fake_aws_credentials,
)
from clubsync.sandbox import BillingSandbox
from clubsync.store.tables import ENTITIES, STATE
from tests.integration.test_members_sync_handler import (
    CLUB,
    FULL_SYNC_AT,
    SCHEDULED_TIME,
    SECRET,
    Context,
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
