"""Schedule reconciliation against moto's EventBridge Scheduler: create, change hours, change
time zone, upgrade, remove; the registry function fed by the state table's real stream; and
the `clubsync locations` command against moto's server."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from clubsync.cli.locations import ScheduleTarget, locations_app, reconcile_locations
from clubsync.domain.settings import LocationSettings
from clubsync.features.scheduling import (
    CHECKINS_TARGET_ENV,
    FULL_SYNC_TARGET_ENV,
    desired_schedules,
    reconcile,
)
from clubsync.runtime.local import (
    LOCAL_REGION,
    create_tables,
    dynamo_repositories,
    dynamodb_client,
    moto_server,
    use_fake_aws_credentials,
)
from clubsync.store.state import StateRepository
from clubsync.store.tables import STATE

pytestmark = pytest.mark.enable_socket

ROOT = Path(__file__).resolve().parents[2]
GROUP = "clubsync-test"
TARGET = ScheduleTarget(
    group=GROUP,
    target_arn="arn:aws:lambda:us-east-1:123456789012:function:clubsync-members",
    role_arn="arn:aws:iam::123456789012:role/clubsync-scheduler",
    dlq_arn="arn:aws:sqs:us-east-1:123456789012:clubsync-sync-dlq",
)

STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:clubsync-full-sync"
CHECKINS_ARN = "arn:aws:lambda:us-east-1:123456789012:function:clubsync-checkins"


@pytest.fixture(autouse=True)
def _targets_from_the_environment_only_when_a_test_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FULL_SYNC_TARGET_ENV, raising=False)
    monkeypatch.delenv(CHECKINS_TARGET_ENV, raising=False)


@pytest.fixture
def full_sync_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    """As the stack configures the registry function (and devops the CLI)."""
    monkeypatch.setenv(FULL_SYNC_TARGET_ENV, STATE_MACHINE_ARN)
    monkeypatch.setenv(CHECKINS_TARGET_ENV, CHECKINS_ARN)


@dataclass
class Aws:
    state: StateRepository
    scheduler: Any
    dynamodb: Any

    def schedules(self) -> dict[str, dict[str, Any]]:
        names = [s["Name"] for s in self.scheduler.list_schedules(GroupName=GROUP)["Schedules"]]
        found = {}
        for name in names:
            schedule = self.scheduler.get_schedule(GroupName=GROUP, Name=name)
            schedule.pop("ResponseMetadata", None)
            found[name] = schedule
        return found


@pytest.fixture
def aws() -> Iterator[Aws]:
    use_fake_aws_credentials()
    with mock_aws():
        dynamodb = dynamodb_client()
        create_tables(dynamodb)
        scheduler = boto3.client("scheduler", region_name=LOCAL_REGION)
        scheduler.create_schedule_group(Name=GROUP)
        yield Aws(dynamo_repositories(dynamodb).state, scheduler, dynamodb)


def location(location_id: str = "springfield", **changes: Any) -> LocationSettings:
    values: dict[str, Any] = {
        "location_id": location_id,
        "club_number": "0451",
        "time_zone": "America/Chicago",
        "billing_secret_name": "clubsync/abc/test",
    }
    return LocationSettings(**{**values, **changes})


def register(aws: Aws, *locations: LocationSettings) -> None:
    for settings in locations:
        aws.state.put_location(settings)


def sync_schedules(aws: Aws, only: set[str] | None) -> Any:
    return reconcile_locations(aws.scheduler, aws.state, TARGET, only)


def test_registering_locations_creates_their_schedules_in_their_time_zones(aws: Aws) -> None:
    register(aws, location(), location("tokyo", club_number="9", time_zone="Asia/Tokyo"))
    report = sync_schedules(aws, {"springfield", "tokyo"})
    assert sorted(report.created) == [
        "springfield-members-full",
        "springfield-members-partial",
        "tokyo-members-full",
        "tokyo-members-partial",
    ]
    schedules = aws.schedules()
    full = schedules["springfield-members-full"]
    assert full["ScheduleExpression"] == "cron(0 21 * * ? *)"
    assert full["ScheduleExpressionTimezone"] == "America/Chicago"
    assert full["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert schedules["springfield-members-partial"]["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert full["Target"]["Arn"] == TARGET.target_arn
    assert full["Target"]["DeadLetterConfig"] == {"Arn": TARGET.dlq_arn}
    assert json.loads(full["Target"]["Input"]) == {
        "location": "springfield",
        "kind": "full",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    assert schedules["springfield-members-partial"]["ScheduleExpression"] == "cron(0 12,17 * * ? *)"
    assert schedules["tokyo-members-partial"]["ScheduleExpressionTimezone"] == "Asia/Tokyo"


def test_a_second_reconcile_changes_nothing(aws: Aws) -> None:
    register(aws, location(), location("tokyo", club_number="9", time_zone="Asia/Tokyo"))
    sync_schedules(aws, None)
    before = aws.schedules()
    for only in (None, {"springfield", "tokyo"}):
        report = sync_schedules(aws, only)
        assert not report.changed
        assert len(report.unchanged) == 4
    assert aws.schedules() == before


def test_changing_hours_updates_only_the_partial_schedule(aws: Aws) -> None:
    register(aws, location())
    sync_schedules(aws, {"springfield"})
    register(aws, location(partial_sync_hours=(8, 13)))
    report = sync_schedules(aws, {"springfield"})
    assert report.updated == ["springfield-members-partial"]
    assert report.unchanged == ["springfield-members-full"]
    partial = aws.schedules()["springfield-members-partial"]
    assert partial["ScheduleExpression"] == "cron(0 8,13 * * ? *)"


def test_changing_the_time_zone_moves_both_schedules(aws: Aws) -> None:
    register(aws, location())
    sync_schedules(aws, {"springfield"})
    register(aws, location(time_zone="America/Los_Angeles"))
    report = sync_schedules(aws, {"springfield"})
    assert sorted(report.updated) == ["springfield-members-full", "springfield-members-partial"]
    assert {s["ScheduleExpressionTimezone"] for s in aws.schedules().values()} == {
        "America/Los_Angeles"
    }


def test_upgrading_a_location_syncs_it_every_hour_from_9_to_20(aws: Aws) -> None:
    register(aws, location())
    sync_schedules(aws, {"springfield"})
    register(aws, location(upgraded=True))
    sync_schedules(aws, {"springfield"})
    assert aws.schedules()["springfield-members-partial"]["ScheduleExpression"] == (
        "cron(0 9-20 * * ? *)"
    )


def test_removing_a_location_deletes_its_schedules_and_no_other(aws: Aws) -> None:
    register(aws, location(), location("shelbyville", club_number="452"))
    sync_schedules(aws, None)
    aws.state.delete_location("springfield")
    report = sync_schedules(aws, {"springfield"})
    assert sorted(report.deleted) == ["springfield-members-full", "springfield-members-partial"]
    assert sorted(aws.schedules()) == ["shelbyville-members-full", "shelbyville-members-partial"]


def test_a_full_reconcile_deletes_schedules_nobody_registered(aws: Aws) -> None:
    register(aws, location())
    stray = desired_schedules(
        location("gone"),
        target_arn=TARGET.target_arn,
        role_arn=TARGET.role_arn,
        dlq_arn=TARGET.dlq_arn,
        group=GROUP,
    )
    reconcile(aws.scheduler, GROUP, stray, only_locations={"gone"})
    report = sync_schedules(aws, None)
    assert sorted(report.deleted) == ["gone-members-full", "gone-members-partial"]
    assert sorted(aws.schedules()) == ["springfield-members-full", "springfield-members-partial"]


# -- the nightly full sync (issue 5) --------------------------------------------------------
ALL_THREE = [
    "springfield-checkins-partial",
    "springfield-members-full",
    "springfield-members-partial",
]


def test_the_full_sync_starts_the_state_machine_and_checkins_join_the_partials(
    aws: Aws, full_sync_targets: None
) -> None:
    register(aws, location())
    report = sync_schedules(aws, {"springfield"})
    assert sorted(report.created) == ALL_THREE
    schedules = aws.schedules()
    full = schedules["springfield-members-full"]
    assert full["Target"]["Arn"] == STATE_MACHINE_ARN
    assert json.loads(full["Target"]["Input"]) == {
        "location": "springfield",
        "kind": "full",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    assert schedules["springfield-members-partial"]["Target"]["Arn"] == TARGET.target_arn
    checkins = schedules["springfield-checkins-partial"]
    assert checkins["Target"]["Arn"] == CHECKINS_ARN
    assert checkins["ScheduleExpression"] == "cron(0 12,17 * * ? *)"
    assert json.loads(checkins["Target"]["Input"])["sync_type"] == "checkins"
    # Idempotent, by location and in full.
    for only in ({"springfield"}, None):
        again = sync_schedules(aws, only)
        assert not again.changed
        assert sorted(again.unchanged) == ALL_THREE


def test_existing_member_only_schedules_are_moved_over_in_place(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(aws, location())
    sync_schedules(aws, None)  # before issue 5: the full sync invoked the member sync
    monkeypatch.setenv(FULL_SYNC_TARGET_ENV, STATE_MACHINE_ARN)
    monkeypatch.setenv(CHECKINS_TARGET_ENV, CHECKINS_ARN)
    report = sync_schedules(aws, {"springfield"})
    assert report.updated == ["springfield-members-full"]
    assert report.created == ["springfield-checkins-partial"]
    assert report.unchanged == ["springfield-members-partial"]
    assert report.deleted == []


def test_removing_a_location_or_its_partial_hours_deletes_the_checkin_schedule_too(
    aws: Aws, full_sync_targets: None
) -> None:
    register(aws, location())
    sync_schedules(aws, {"springfield"})
    register(aws, location(partial_sync_hours=()))
    report = sync_schedules(aws, {"springfield"})
    assert sorted(report.deleted) == ["springfield-checkins-partial", "springfield-members-partial"]
    register(aws, location())
    sync_schedules(aws, {"springfield"})
    aws.state.delete_location("springfield")
    report = sync_schedules(aws, {"springfield"})
    assert sorted(report.deleted) == ALL_THREE
    assert aws.schedules() == {}


# -- the registry function, fed by the state table's stream --------------------------------
# moto's server, not the in-process mock: in-process, moto answers DescribeStream with
# "Not yet implemented" (moto 5.1); its server implements it.
@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_server() as endpoint:
        monkeypatch.setenv("CLUBSYNC_AWS_ENDPOINT_URL", endpoint)
        create_tables(dynamodb_client(endpoint))
        yield endpoint


@pytest.fixture
def server_aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Aws:
    # The handler creates its own boto3 clients: send them to moto's server too.
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    dynamodb = dynamodb_client(moto_endpoint)
    scheduler = boto3.client("scheduler", region_name=LOCAL_REGION, endpoint_url=moto_endpoint)
    scheduler.create_schedule_group(Name=GROUP)
    return Aws(dynamo_repositories(dynamodb).state, scheduler, dynamodb)


def _load_registry_handler() -> Any:
    path = ROOT / "functions" / "location_registry" / "handler.py"
    spec = importlib.util.spec_from_file_location("location_registry_handler", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class _Context:
    function_name = "clubsync-location-registry"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:registry"
    aws_request_id = "test-request"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def stream_event(aws: Aws) -> dict[str, Any]:
    """The table's stream records since the start, shaped as Lambda delivers them."""
    streams = boto3.client("dynamodbstreams", region_name=LOCAL_REGION)  # AWS_ENDPOINT_URL
    arn = aws.dynamodb.describe_table(TableName=STATE.default_name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    for record in records:
        record["eventSourceARN"] = arn
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
    # The event source mapping's filter: only registry items reach the function.
    return {"Records": [r for r in records if r["dynamodb"]["Keys"]["pk"]["S"] == "LOCATIONS"]}


@pytest.fixture
def registry_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "CLUBSYNC_SCHEDULE_GROUP": GROUP,
        "CLUBSYNC_SYNC_FUNCTION_ARN": TARGET.target_arn,
        "CLUBSYNC_SCHEDULER_ROLE_ARN": TARGET.role_arn,
        "CLUBSYNC_SCHEDULE_DLQ_ARN": TARGET.dlq_arn,
        "POWERTOOLS_SERVICE_NAME": "clubsync-location-registry",
        "POWERTOOLS_METRICS_NAMESPACE": "ClubSyncTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)


def test_the_registry_function_follows_registry_changes_from_the_stream(
    server_aws: Aws, registry_env: None
) -> None:
    aws = server_aws
    handler = _load_registry_handler()
    register(aws, location(), location("shelbyville", club_number="452"))
    aws.state.set_watermark("springfield", "members", datetime.fromisoformat("2026-01-01T00:00Z"))
    result = handler.handler(stream_event(aws), _Context())
    assert result == {"batchItemFailures": []}
    assert sorted(aws.schedules()) == [
        "shelbyville-members-full",
        "shelbyville-members-partial",
        "springfield-members-full",
        "springfield-members-partial",
    ]
    # Change one, remove the other: the whole stream again is harmless (idempotent).
    register(aws, location(time_zone="Europe/Dublin"))
    aws.state.delete_location("shelbyville")
    result = handler.handler(stream_event(aws), _Context())
    assert result == {"batchItemFailures": []}
    schedules = aws.schedules()
    assert sorted(schedules) == ["springfield-members-full", "springfield-members-partial"]
    assert schedules["springfield-members-full"]["ScheduleExpressionTimezone"] == "Europe/Dublin"


def test_the_registry_function_targets_the_state_machine_and_the_checkin_sync(
    server_aws: Aws, registry_env: None, full_sync_targets: None
) -> None:
    aws = server_aws
    handler = _load_registry_handler()
    register(aws, location())
    assert handler.handler(stream_event(aws), _Context()) == {"batchItemFailures": []}
    schedules = aws.schedules()
    assert sorted(schedules) == ALL_THREE
    assert schedules["springfield-members-full"]["Target"]["Arn"] == STATE_MACHINE_ARN
    assert schedules["springfield-checkins-partial"]["Target"]["Arn"] == CHECKINS_ARN


def test_the_registry_function_skips_a_hand_written_bad_item_without_failing(
    server_aws: Aws, registry_env: None
) -> None:
    aws = server_aws
    handler = _load_registry_handler()
    aws.dynamodb.put_item(
        TableName=STATE.default_name,
        Item={
            "pk": {"S": "LOCATIONS"},
            "sk": {"S": "broken"},
            "location_id": {"S": "broken"},
            "club_number": {"S": "1"},
            "time_zone": {"S": "Nowhere/Special"},
        },
    )
    assert handler.handler(stream_event(aws), _Context()) == {"batchItemFailures": []}
    assert aws.schedules() == {}


# -- the command, against moto's server ----------------------------------------------------
def _cli(*args: str) -> Any:
    return CliRunner().invoke(locations_app, [*args, "--group", GROUP], catch_exceptions=False)


def _server_state(endpoint: str) -> tuple[list[str], list[str]]:
    state = dynamo_repositories(dynamodb_client(endpoint)).state
    scheduler = boto3.client("scheduler", region_name=LOCAL_REGION, endpoint_url=endpoint)
    groups = {g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]}
    names = (
        [s["Name"] for s in scheduler.list_schedules(GroupName=GROUP)["Schedules"]]
        if GROUP in groups
        else []
    )
    return sorted(s.location_id for s in state.locations()), sorted(names)


def test_a_bad_location_file_is_refused_before_anything_changes(
    moto_endpoint: str, tmp_path: Path
) -> None:
    good = json.loads((ROOT / "docs" / "examples" / "locations.json").read_text())
    bad = json.loads(json.dumps(good))
    bad["locations"][1]["time_zone"] = "America/Springfield"
    bad["locations"][2]["partial_sync_hours"] = [9, 24]
    path = tmp_path / "locations.json"
    path.write_text(json.dumps(bad))
    result = _cli("apply", str(path))
    assert result.exit_code == 2
    assert "nothing was changed" in result.output
    assert "(shelbyville): time_zone: unknown time zone 'America/Springfield'" in result.output
    assert "(ogdenville): partial_sync_hours.1" in result.output
    assert _server_state(moto_endpoint) == ([], [])


def test_apply_list_and_remove_keep_registry_and_schedules_in_step(
    moto_endpoint: str, tmp_path: Path
) -> None:
    example = ROOT / "docs" / "examples" / "locations.json"
    result = _cli("apply", str(example))
    assert result.exit_code == 0, result.output
    assert "3 added" in result.output and "6 created" in result.output
    locations, schedules = _server_state(moto_endpoint)
    assert locations == ["ogdenville", "shelbyville", "springfield"]
    assert len(schedules) == 6

    again = _cli("apply", str(example))
    assert "3 unchanged" in again.output and "6 unchanged" in again.output

    listed = CliRunner().invoke(locations_app, ["list"])
    assert "ogdenville  club 1207  America/Denver" in listed.output
    assert "(upgraded)" in listed.output

    removed = _cli("remove", "shelbyville")
    assert removed.exit_code == 0, removed.output
    assert "2 deleted" in removed.output
    locations, schedules = _server_state(moto_endpoint)
    assert locations == ["ogdenville", "springfield"]
    assert not any(name.startswith("shelbyville") for name in schedules)

    only_one = tmp_path / "one.json"
    document = json.loads(example.read_text())
    document["locations"] = document["locations"][:1]
    only_one.write_text(json.dumps(document))
    pruned = _cli("apply", str(only_one), "--prune")
    assert "1 removed" in pruned.output, pruned.output
    assert _server_state(moto_endpoint) == (
        ["springfield"],
        ["springfield-members-full", "springfield-members-partial"],
    )


def test_a_club_number_already_registered_to_another_location_is_refused(
    moto_endpoint: str, tmp_path: Path
) -> None:
    example = ROOT / "docs" / "examples" / "locations.json"
    assert _cli("apply", str(example)).exit_code == 0
    before = _server_state(moto_endpoint)
    # A new location typed with Springfield's club number, in a file of its own.
    newcomer = tmp_path / "capital.json"
    capital = {"location_id": "capital-city", "club_number": "0451", "time_zone": "UTC"}
    newcomer.write_text(json.dumps({"locations": [capital]}))
    result = _cli("apply", str(newcomer))
    assert result.exit_code == 2
    assert "nothing was changed" in result.output
    assert "club_number '0451' (abc) of 'capital-city' is already registered to 'springfield'" in (
        result.output.replace("\n", " ")
    )
    assert _server_state(moto_endpoint) == before
    # Replacing Springfield (--prune removes it) frees its club number.
    replaced = _cli("apply", str(newcomer), "--prune")
    assert replaced.exit_code == 0, replaced.output
    assert _server_state(moto_endpoint)[0] == ["capital-city"]


def test_reconcile_options_name_the_full_sync_and_check_in_targets(
    moto_endpoint: str, tmp_path: Path
) -> None:
    example = ROOT / "docs" / "examples" / "locations.json"
    document = json.loads(example.read_text())
    document["locations"] = document["locations"][:1]
    one = tmp_path / "one.json"
    one.write_text(json.dumps(document))
    assert _cli("apply", str(one)).exit_code == 0
    result = _cli("reconcile", "--full-sync-arn", STATE_MACHINE_ARN, "--checkins-arn", CHECKINS_ARN)
    assert result.exit_code == 0, result.output
    scheduler = boto3.client("scheduler", region_name=LOCAL_REGION, endpoint_url=moto_endpoint)
    targets = {
        name: scheduler.get_schedule(GroupName=GROUP, Name=name)["Target"]["Arn"]
        for name in _server_state(moto_endpoint)[1]
    }
    assert targets["springfield-members-full"] == STATE_MACHINE_ARN
    assert targets["springfield-checkins-partial"] == CHECKINS_ARN


def test_apply_with_a_clubhub_location_registers_it_without_schedules(
    moto_endpoint: str, tmp_path: Path
) -> None:
    """Club Hub pulls nothing on schedule (its hourly reconciliation Lambda pulls it): the
    location is registered, validated by its own account model, and gets no schedule, while
    the ABC location beside it keeps all of its own; moving an ABC location onto Club Hub
    deletes its schedules."""
    abc = json.loads((ROOT / "docs" / "examples" / "locations.json").read_text())["locations"][0]
    clubhub = {
        "location_id": "capital-city",
        "provider": "clubhub",
        "account": {"club_id": "AF-1203"},
        "time_zone": "America/New_York",
    }
    path = tmp_path / "locations.json"
    path.write_text(json.dumps({"locations": [abc, clubhub]}))
    result = _cli("apply", str(path))
    assert result.exit_code == 0, result.output
    assert "2 added" in result.output and "2 created" in result.output
    assert _server_state(moto_endpoint) == (
        ["capital-city", "springfield"],
        ["springfield-members-full", "springfield-members-partial"],
    )
    state = dynamo_repositories(dynamodb_client(moto_endpoint)).state
    stored = state.get_location("capital-city")
    assert stored is not None and stored.account == {"club_id": "AF-1203"}

    moved = {key: value for key, value in abc.items() if key != "club_number"}
    moved.update(provider="clubhub", account={"club_id": "AF-0451"})
    path.write_text(json.dumps({"locations": [moved, clubhub]}))
    result = _cli("apply", str(path))
    assert result.exit_code == 0, result.output
    assert "2 deleted" in result.output, result.output
    assert _server_state(moto_endpoint) == (["capital-city", "springfield"], [])
