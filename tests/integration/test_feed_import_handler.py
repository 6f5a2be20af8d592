"""The feed import as Lambda runs it: functions/feed_import over moto (DynamoDB and S3), a MoSo
delivery in the bucket named by EventBridge's S3 "Object Created" event."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import boto3
import pytest

from clubsync.domain.runs import RunStatus, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.runtime.local import Repositories
from clubsync.runtime.local_streams import LocalLambdaContext, load_function
from clubsync.sandbox.moso import moso_extracts
from clubsync.store.tables import ENTITIES, STATE
from tests.integration.conftest import FULL_SYNC_AT

BUCKET = "clubsync-feeds-test"


@pytest.fixture
def function(repos: Repositories, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv(ENTITIES.env_var, ENTITIES.default_name)
    monkeypatch.setenv(STATE.env_var, STATE.default_name)
    monkeypatch.setenv("CLUBSYNC_FEED_BUCKET", BUCKET)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ClubSync")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "clubsync-feed-import")
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    for location_id, code in (("north", "N"), ("south", "S")):
        repos.state.put_location(
            LocationSettings(
                location_id=location_id,
                provider="moso",
                account={"club_id": "club7", "location_code": code, "extract_version": "2.5.x"},
                time_zone="America/Chicago",
            )
        )
    return load_function("feed_import")


def _deliver(name: str, data: bytes) -> dict[str, Any]:
    key = f"incoming/moso/club7/{name}"
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=BUCKET, Key=key, Body=data)
    return {
        "version": "0",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": BUCKET}, "object": {"key": key, "size": len(data)}},
    }


def _files(*faults: str) -> dict[str, bytes]:
    return moso_extracts(
        "2.5.x",
        club_id="club7",
        locations=["N", "S"],
        members_per_location=20,
        now_local=FULL_SYNC_AT.replace(tzinfo=None),
        faults=faults,
    )


def test_a_delivery_is_imported_into_every_location_once(
    function: ModuleType, repos: Repositories
) -> None:
    name, data = next((n, d) for n, d in _files().items() if "members" in n)
    event = _deliver(name, data)
    answer = function.lambda_handler(event, LocalLambdaContext())
    assert answer["status"] == "imported"
    assert answer["runs"] == {"north": "succeeded", "south": "succeeded"}
    assert len(repos.entities.people("north")) == 20
    (run,) = repos.state.runs("south", SyncType.MEMBERS)
    assert run.status is RunStatus.SUCCEEDED and run.counts.created == 20
    # EventBridge delivers at least once: the same event again imports nothing.
    assert function.lambda_handler(event, LocalLambdaContext())["status"] == "already_imported"


def test_a_refused_file_answers_its_reason_in_one_line_and_imports_nothing(
    function: ModuleType, repos: Repositories
) -> None:
    name, data = next((n, d) for n, d in _files("renamed_column").items() if "members" in n)
    answer = function.lambda_handler(_deliver(name, data), LocalLambdaContext())
    assert answer["status"] == "refused"
    assert "header does not match map moso 2.5.x members" in answer["reason"]
    assert "\n" not in answer["reason"]
    assert repos.entities.people("north") == []


def test_a_delivery_of_an_unknown_club_is_refused(function: ModuleType) -> None:
    event = _deliver("x_members_1.csv", b"a\n")
    event["detail"]["object"]["key"] = "incoming/moso/club9/x_members_1.csv"
    answer = function.lambda_handler(event, LocalLambdaContext())
    assert answer["status"] == "refused"
    assert "no registered moso location has club_id 'club9'" in answer["reason"]


def test_an_event_of_another_bucket_is_refused(function: ModuleType) -> None:
    event = _deliver("x_members_1.csv", b"a\n")
    event["detail"]["bucket"]["name"] = "someone-else"
    answer = function.lambda_handler(event, LocalLambdaContext())
    assert answer == {
        "status": "refused",
        "reason": "bad feed import event: bucket 'someone-else' is not ours",
    }
