"""desired_schedules and the location file checks: pure, no AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clubsync.cli.locations import LocationFileError, parse_locations, registry_clashes
from clubsync.domain.runs import SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.features.scheduling import (
    CHECKINS_TARGET_ENV,
    FULL_SYNC_TARGET_ENV,
    FULL_SYNC_WINDOW_ENV,
    FULL_SYNC_WINDOW_MINUTES,
    MAX_NAME_LENGTH,
    SCHEDULED_TIME_PLACEHOLDER,
    ScheduleSpec,
    cron_at_hours,
    desired_schedules,
    full_sync_window_minutes,
    hours_field,
    location_schedule_names,
    schedule_name,
    unsafe_local_hours,
)
from clubsync.features.scheduling import reconcile as reconcile_schedules
from clubsync.providers.base import Capabilities
from clubsync.providers.registry import REGISTRY

TARGET = {
    "target_arn": "arn:aws:lambda:us-east-1:123456789012:function:sync",
    "role_arn": "arn:aws:iam::123456789012:role/scheduler",
    "dlq_arn": "arn:aws:sqs:us-east-1:123456789012:dlq",
    "group": "clubsync-test",
}

STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:full-sync"
CHECKINS = "arn:aws:lambda:us-east-1:123456789012:function:checkins"
FULL_TARGETS = {**TARGET, "full_sync_arn": STATE_MACHINE, "checkins_arn": CHECKINS}


@pytest.fixture(autouse=True)
def _no_targets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FULL_SYNC_TARGET_ENV, raising=False)
    monkeypatch.delenv(CHECKINS_TARGET_ENV, raising=False)


def location(**changes: Any) -> LocationSettings:
    values: dict[str, Any] = {
        "location_id": "springfield",
        "club_number": "0451",
        "time_zone": "America/Chicago",
    }
    return LocationSettings(**{**values, **changes})


def by_kind(specs: list[ScheduleSpec]) -> dict[SyncKind, ScheduleSpec]:
    return {spec.kind: spec for spec in specs}


def test_default_location_gets_full_at_21_and_partial_at_12_and_17_in_its_zone() -> None:
    specs = by_kind(desired_schedules(location(), **TARGET))
    assert specs[SyncKind.FULL].name == "springfield-members-full"
    assert specs[SyncKind.FULL].expression == "cron(0 21 * * ? *)"
    assert specs[SyncKind.PARTIAL].name == "springfield-members-partial"
    assert specs[SyncKind.PARTIAL].expression == "cron(0 12,17 * * ? *)"
    # The 21:00 burst: the full sync is spread over the default window; partials stay on the hour.
    assert specs[SyncKind.FULL].request()["FlexibleTimeWindow"] == {
        "Mode": "FLEXIBLE",
        "MaximumWindowInMinutes": FULL_SYNC_WINDOW_MINUTES,
    }
    assert specs[SyncKind.PARTIAL].request()["FlexibleTimeWindow"] == {"Mode": "OFF"}
    for spec in specs.values():
        assert spec.time_zone == "America/Chicago"
        request = spec.request()
        assert request["GroupName"] == "clubsync-test"
        target = request["Target"]
        assert target["Arn"] == TARGET["target_arn"]
        assert target["RoleArn"] == TARGET["role_arn"]
        assert target["DeadLetterConfig"] == {"Arn": TARGET["dlq_arn"]}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
        assert 60 <= target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400


def test_the_event_carries_location_kind_and_the_scheduled_time_placeholder() -> None:
    for spec in desired_schedules(location(), **TARGET):
        assert json.loads(spec.request()["Target"]["Input"]) == {
            "location": "springfield",
            "kind": spec.kind.value,
            "scheduled_time": SCHEDULED_TIME_PLACEHOLDER,
        }


def test_upgraded_locations_sync_every_hour_from_9_to_20() -> None:
    specs = by_kind(desired_schedules(location(upgraded=True, time_zone="Asia/Tokyo"), **TARGET))
    assert specs[SyncKind.PARTIAL].expression == "cron(0 9-20 * * ? *)"
    assert specs[SyncKind.PARTIAL].time_zone == "Asia/Tokyo"


def test_chosen_hours_and_no_partial_hours() -> None:
    specs = by_kind(desired_schedules(location(partial_sync_hours=(17, 8, 12)), **TARGET))
    assert specs[SyncKind.PARTIAL].expression == "cron(0 8,12,17 * * ? *)"
    only_full = desired_schedules(location(partial_sync_hours=()), **TARGET)
    assert [spec.kind for spec in only_full] == [SyncKind.FULL]


def by_name(specs: list[ScheduleSpec]) -> dict[str, ScheduleSpec]:
    return {spec.name: spec for spec in specs}


def test_the_full_sync_starts_the_state_machine_and_partials_run_members_and_checkins() -> None:
    specs = by_name(desired_schedules(location(), **FULL_TARGETS))
    assert sorted(specs) == [
        "springfield-checkins-partial",
        "springfield-members-full",
        "springfield-members-partial",
    ]
    full = specs["springfield-members-full"]
    assert full.target_arn == STATE_MACHINE
    assert full.expression == "cron(0 21 * * ? *)"
    # The execution input: location, kind and Scheduler's scheduled time.
    assert json.loads(full.input) == {
        "location": "springfield",
        "kind": "full",
        "scheduled_time": SCHEDULED_TIME_PLACEHOLDER,
    }
    assert specs["springfield-members-partial"].target_arn == TARGET["target_arn"]
    checkins = specs["springfield-checkins-partial"]
    assert checkins.target_arn == CHECKINS
    assert checkins.kind is SyncKind.PARTIAL
    assert checkins.expression == specs["springfield-members-partial"].expression
    assert json.loads(checkins.input) == {
        "location": "springfield",
        "kind": "partial",
        "scheduled_time": SCHEDULED_TIME_PLACEHOLDER,
        "sync_type": "checkins",
    }
    for spec in specs.values():
        assert spec.request()["Target"]["RoleArn"] == TARGET["role_arn"]
        assert spec.request()["Target"]["DeadLetterConfig"] == {"Arn": TARGET["dlq_arn"]}


def test_no_partial_hours_means_neither_partial_schedule() -> None:
    specs = desired_schedules(location(partial_sync_hours=()), **FULL_TARGETS)
    assert [spec.name for spec in specs] == ["springfield-members-full"]


def test_the_targets_come_from_the_environment_when_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(FULL_SYNC_TARGET_ENV, STATE_MACHINE)
    monkeypatch.setenv(CHECKINS_TARGET_ENV, CHECKINS)
    assert desired_schedules(location(), **TARGET) == desired_schedules(location(), **FULL_TARGETS)
    # An explicit empty string means "none", whatever the environment says.
    legacy = by_name(desired_schedules(location(), **TARGET, full_sync_arn="", checkins_arn=""))
    assert sorted(legacy) == ["springfield-members-full", "springfield-members-partial"]
    assert legacy["springfield-members-full"].target_arn == TARGET["target_arn"]


def test_every_name_a_location_can_have_is_known_to_reconcile() -> None:
    names = {spec.name for spec in desired_schedules(location(), **FULL_TARGETS)}
    assert names == location_schedule_names("springfield")
    assert schedule_name("springfield", SyncKind.PARTIAL, SyncType.CHECKINS) in names


@given(st.sets(st.integers(min_value=0, max_value=23), min_size=1))
def test_hours_field_lists_exactly_the_hours(hours: set[int]) -> None:
    field = hours_field(hours)
    listed: set[int] = set()
    for part in field.split(","):
        if "-" in part:
            low, high = map(int, part.split("-"))
            listed |= set(range(low, high + 1))
        else:
            listed.add(int(part))
    assert listed == hours
    assert cron_at_hours(hours) == f"cron(0 {field} * * ? *)"


@given(st.from_regex(r"[a-z0-9][a-z0-9-]{0,62}", fullmatch=True))
def test_schedule_names_fit_scheduler_and_stay_distinct(location_id: str) -> None:
    # The scheduled kinds; `push` is a run record's kind only (SyncEngine.ingest).
    names = {schedule_name(location_id, kind) for kind in (SyncKind.FULL, SyncKind.PARTIAL)}
    assert len(names) == 2
    assert all(len(name) <= MAX_NAME_LENGTH for name in names)
    assert schedule_name(location_id, SyncKind.FULL) == schedule_name(location_id, SyncKind.FULL)


def test_long_location_ids_that_share_a_prefix_get_different_names() -> None:
    first, second = "a" * 60 + "one", "a" * 60 + "two"
    assert schedule_name(first, SyncKind.FULL) != schedule_name(second, SyncKind.FULL)


def test_daylight_saving_hours_are_reported() -> None:
    assert set(unsafe_local_hours("America/Chicago", [2, 12, 17], 2026)) == {2}
    assert set(unsafe_local_hours("America/Chicago", [1], 2026)) == {1}
    assert unsafe_local_hours("Asia/Tokyo", range(24), 2026) == {}


# -- the location file ----------------------------------------------------------------------
def test_a_bad_location_file_names_every_location_and_field_at_fault() -> None:
    document = {
        "locations": [
            {"location_id": "ok", "club_number": "0001", "time_zone": "America/Chicago"},
            {"location_id": "mars", "club_number": "0002", "time_zone": "Mars/Olympus_Mons"},
            {
                "location_id": "late",
                "club_number": "0003",
                "time_zone": "UTC",
                "partial_sync_hours": [12, 24],
            },
            {"location_id": "ok", "club_number": "0004", "time_zone": "UTC"},
            {
                "location_id": "secret",
                "club_number": "0005",
                "time_zone": "UTC",
                "billing_secret_name": "other/x",
            },
        ]
    }
    with pytest.raises(LocationFileError) as refused:
        parse_locations(document)
    problems = refused.value.problems
    assert any(p.startswith("locations[1] (mars): time_zone:") for p in problems), problems
    assert any(
        p.startswith("locations[2] (late): partial_sync_hours.1:") and "23" in p for p in problems
    ), problems
    assert any("locations[3] (ok): location_id 'ok' already used" in p for p in problems)
    assert any(p.startswith("locations[4] (secret): billing_secret_name") for p in problems)
    assert len(problems) == 4


@pytest.mark.parametrize("document", [[], {"location": []}, {"locations": {}}])
def test_a_file_of_the_wrong_shape_is_refused(document: Any) -> None:
    with pytest.raises(LocationFileError):
        parse_locations(document)


def test_two_locations_on_one_club_number_are_refused_naming_both() -> None:
    document = {
        "locations": [
            {"location_id": "springfield", "club_number": "0451", "time_zone": "UTC"},
            {"location_id": "shelbyville", "club_number": "0452", "time_zone": "UTC"},
            {"location_id": "downtown", "club_number": "0451", "time_zone": "UTC"},
        ]
    }
    with pytest.raises(LocationFileError) as refused:
        parse_locations(document)
    (problem,) = refused.value.problems
    assert problem.startswith(
        "club_number '0451' (abc) is given to locations[0] (springfield) and "
        "locations[2] (downtown)"
    )


def test_a_club_number_of_a_registered_location_is_refused_unless_that_one_goes() -> None:
    def at(location_id: str, club_number: str) -> LocationSettings:
        return LocationSettings(location_id=location_id, club_number=club_number, time_zone="UTC")

    registered = [at("springfield", "0451"), at("shelbyville", "0452")]
    (problem,) = registry_clashes(registered, [at("downtown", "0451")])
    assert "club_number '0451' (abc) of 'downtown' is already registered to 'springfield'" in (
        problem
    )
    # The file moves the club from Springfield to Downtown: both listed, no clash with the rest.
    moved = [at("springfield", "0999"), at("downtown", "0451")]
    assert registry_clashes(registered, moved) == []
    # --prune removes every location the file does not list, so their numbers are free.
    assert registry_clashes(registered, [at("downtown", "0451")], prune=True) == []


# -- provider capabilities ----------------------------------------------------------------
def clubhub_location() -> LocationSettings:
    return LocationSettings(
        location_id="capital-city",
        provider="clubhub",
        account={"club_id": "AF-1203"},
        time_zone="America/Chicago",
    )


class _MembersOnly:
    """A provider that pulls members and nothing else (offered_sync_types reads only this)."""

    name = "members_only"
    capabilities = Capabilities(pulls=frozenset({SyncType.MEMBERS}))


def test_a_clubhub_location_gets_no_schedule_its_own_pull_lambda_syncs_it() -> None:
    assert desired_schedules(clubhub_location(), **FULL_TARGETS) == []
    assert desired_schedules(clubhub_location(), **TARGET) == []


def test_only_the_partial_types_a_provider_pulls_are_scheduled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(REGISTRY, _MembersOnly.name, _MembersOnly)  # type: ignore[arg-type]
    members_only = LocationSettings(
        location_id="springfield",
        provider=_MembersOnly.name,
        account={"site": "1"},
        time_zone="America/Chicago",
    )
    specs = desired_schedules(members_only, **FULL_TARGETS)
    assert sorted(spec.name for spec in specs) == [
        "springfield-members-full",
        "springfield-members-partial",
    ]


def test_the_full_sync_window_comes_from_the_deployment_and_still_names_21_00(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(FULL_SYNC_WINDOW_ENV, "40")
    full = by_kind(desired_schedules(location(), **TARGET))[SyncKind.FULL]
    assert full.request()["FlexibleTimeWindow"] == {
        "Mode": "FLEXIBLE",
        "MaximumWindowInMinutes": 40,
    }
    # Whenever Scheduler delivers it, the event names the scheduled 21:00 (the sync's windows
    # and the day's summary are computed from it).
    assert json.loads(full.input)["scheduled_time"] == SCHEDULED_TIME_PLACEHOLDER
    assert full.expression == "cron(0 21 * * ? *)"
    # An explicit argument wins; 0 is "off".
    off = by_kind(desired_schedules(location(), **TARGET, full_sync_window=0))[SyncKind.FULL]
    assert off.request()["FlexibleTimeWindow"] == {"Mode": "OFF"}


@pytest.mark.parametrize("bad", ["15m", "-1", "181", "1.5"])
def test_a_bad_full_sync_window_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv(FULL_SYNC_WINDOW_ENV, bad)
    with pytest.raises(ValueError) as raised:
        desired_schedules(location(), **TARGET)
    message = str(raised.value)
    assert FULL_SYNC_WINDOW_ENV in message and repr(bad) in message and "\n" not in message


def test_the_window_default_and_bounds() -> None:
    assert full_sync_window_minutes("") == FULL_SYNC_WINDOW_MINUTES == 15
    assert full_sync_window_minutes(180) == 180
    assert full_sync_window_minutes("0") == 0


class _Scheduler:
    """Holds schedules as Scheduler answers them (get_schedule echoes what was set)."""

    def __init__(self) -> None:
        self.held: dict[str, dict[str, Any]] = {}
        self.writes = 0

    def create_schedule(self, **request: Any) -> None:
        self.held[request["Name"]] = request
        self.writes += 1

    update_schedule = create_schedule

    def get_schedule(self, GroupName: str, Name: str) -> dict[str, Any]:
        return self.held[Name]

    def list_schedules(self, GroupName: str, **_: Any) -> dict[str, Any]:
        return {"Schedules": [{"Name": name} for name in self.held]}


def test_a_changed_window_updates_the_full_sync_once_and_then_nothing() -> None:
    scheduler = _Scheduler()
    reconcile_schedules(scheduler, "clubsync-test", desired_schedules(location(), **TARGET))
    written = scheduler.writes
    again = reconcile_schedules(scheduler, "clubsync-test", desired_schedules(location(), **TARGET))
    assert not again.changed and scheduler.writes == written

    wider = desired_schedules(location(), **TARGET, full_sync_window=30)
    changed = reconcile_schedules(scheduler, "clubsync-test", wider)
    assert changed.updated == ["springfield-members-full"]
    assert not reconcile_schedules(scheduler, "clubsync-test", wider).changed
