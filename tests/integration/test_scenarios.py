"""Scenario replay end to end: the billing sandbox over HTTP and moto's DynamoDB server, both on
127.0.0.1. Every shipped example holds, a replay is byte-for-byte repeatable, and a bad file is
refused naming the field."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clubsync.cli.scenario import EXIT_EXPECTATION_FAILED, EXIT_INVALID, scenario_app
from clubsync.scenario.model import Scenario, local_to_aware
from clubsync.scenario.runner import (
    ScenarioError,
    ScenarioResult,
    load_scenario,
    parse_scenario,
    run_scenario,
)

pytestmark = pytest.mark.enable_socket

EXAMPLES = Path(__file__).parents[2] / "layers/clubsync/clubsync/scenario/examples"
EXAMPLE_PATHS = sorted(EXAMPLES.glob("*.json"))

_results: dict[str, ScenarioResult] = {}


def replay(path: Path) -> ScenarioResult:
    """Each example is replayed once per test session and shared between tests."""
    if path.stem not in _results:
        _results[path.stem] = run_scenario(load_scenario(path))
    return _results[path.stem]


def _member(
    member_id: str, first: str, *, modified: str = "2026-11-02 09:00:00.000000"
) -> dict[str, Any]:
    return {
        "memberId": member_id,
        "personal": {
            "firstName": first,
            "lastName": "Tester",
            "email": f"{first.lower()}@example.org",
            "mobilePhone": "5550100199",
            "homeClub": "0451",
            "isActive": "true",
            "joinStatus": "Member",
            "memberStatus": "Active",
            "createTimestamp": "2026-01-05 10:00:00.000000",
            "lastModifiedTimestamp": modified,
        },
        "agreement": {
            "agreementNumber": member_id[-5:],
            "membershipType": "GOLD",
            "signDate": "2026-01-05",
        },
    }


SMALL: dict[str, Any] = {
    "name": "small",
    "location": {
        "location_id": "springfield",
        "club_number": "0451",
        "time_zone": "America/Chicago",
    },
    "billing": {
        "start": "2026-11-19T08:00",
        "generate": {"members": 12, "seed": 7},
        "members": [_member("f0000000000000000000000000000001", "Ada")],
    },
    "crm": {
        "prospects": [
            {
                "person_id": "p-1",
                "first_name": "Bo",
                "last_name": "Tester",
                "email": "bo@example.org",
            }
        ]
    },
    "steps": [
        {"at": "2026-11-19T21:00", "sync": "full"},
        {
            "at": "2026-11-20T09:00",
            "billing": {
                "modify": [
                    {
                        "member_id": "f0000000000000000000000000000001",
                        "changes": {"personal.city": "Dayton"},
                    }
                ]
            },
        },
        {"at": "2026-11-20T12:00", "sync": "partial"},
    ],
    "expect": {"duplicate_agreements": 0, "failed_runs": 0},
}


@pytest.mark.parametrize("path", EXAMPLE_PATHS, ids=lambda p: p.stem)
def test_shipped_example_holds_every_expectation(path: Path) -> None:
    result = replay(path)
    failed = [
        f"{e.name}: expected {e.expected!r}, got {e.actual!r}" for e in result.failed_expectations
    ]
    assert not failed, "\n".join(failed)
    assert result.expectations, "an example should check something"
    assert result.summary["duplicate_agreements"] == 0
    assert result.orphan_agreements == []


def test_member_lifecycle_result_shape() -> None:
    result = replay(EXAMPLES / "member-lifecycle.json")
    data = json.loads(result.to_json())
    assert set(data) >= {
        "scenario",
        "location",
        "people",
        "quarantined",
        "runs",
        "watermarks",
        "summary",
        "expectations",
    }
    assert [run["run_id"] for run in data["runs"]] == ["run-1", "run-2", "run-3", "run-4"]
    assert [run["status"] for run in data["runs"]] == [
        "succeeded",
        "failed",
        "succeeded",
        "succeeded",
    ]
    # The sync ran on the scenario's clock: run times are the steps' times, not wall time.
    assert {run["started_at"] for run in data["runs"]} == {
        "2026-11-20T03:00:00Z",
        "2026-11-20T18:00:00Z",
        "2026-11-20T23:00:00Z",
        "2026-11-21T03:00:00Z",
    }
    assert data["watermarks"] == {"members": "2026-11-20T21:00:00-06:00"}
    people = {person["person_id"]: person for person in data["people"]}
    assert [
        a["agreement_number"] for a in people["abc-d4000000000000000000000000000004"]["agreements"]
    ] == [
        "10004",
        "10044",
    ]
    assert data["people"] == sorted(data["people"], key=lambda person: person["person_id"])


def test_replaying_the_same_scenario_twice_gives_identical_json() -> None:
    path = EXAMPLES / "member-lifecycle.json"
    first = replay(path).to_json()
    second = run_scenario(load_scenario(path)).to_json()
    assert first == second


# Sync window bounds reach back by rule (a full sync reads inactive members modified in the last
# 90 days), so they are the only times a result may hold from before the timeline.
WINDOW_BOUNDS = frozenset({"window_start", "window_end"})
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def timestamps(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, text) of every date-and-time string in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from timestamps(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from timestamps(item, f"{path}[{index}]")
    elif isinstance(value, str) and _TIMESTAMP.match(value):
        yield path, value


def test_a_prospect_push_replay_is_repeatable_and_stays_on_the_scenarios_clock() -> None:
    path = EXAMPLES / "prospect-push.json"
    first = replay(path).to_json()
    assert run_scenario(load_scenario(path)).to_json() == first

    scenario = load_scenario(path)
    begin = local_to_aware(scenario.billing.start, scenario.zone)
    end = local_to_aware(scenario.steps[-1].at, scenario.zone)
    found = list(timestamps(json.loads(first)))
    assert any(p.endswith("push.last_attempt_at") for p, _ in found)  # the push recorded one

    def instant(text: str) -> datetime:
        moment = datetime.fromisoformat(text)
        # Step times are club-local wall times, as written in the file.
        return moment if moment.tzinfo else local_to_aware(text, scenario.zone)

    outside = [
        (p, text)
        for p, text in found
        if p.rsplit(".", 1)[-1] not in WINDOW_BOUNDS and not begin <= instant(text) <= end
    ]
    assert outside == []


def test_generated_members_replay_identically() -> None:
    scenario = parse_scenario(copy.deepcopy(SMALL))
    first, second = run_scenario(scenario), run_scenario(scenario)
    assert first.to_json() == second.to_json()
    assert first.ok
    assert first.summary["members"] >= 1
    assert first.summary["prospects"] == 1


def test_an_unexpected_sync_failure_is_recorded_and_fails_the_scenario() -> None:
    data = copy.deepcopy(SMALL)
    data["billing"].pop("generate")
    data["steps"].insert(2, {"at": "2026-11-20T11:00", "fault": {"kind": "500", "count": 5}})
    data["steps"].append({"at": "2026-11-20T17:00", "sync": "partial"})
    data["expect"] = {}
    result = run_scenario(parse_scenario(data))
    assert [step.status for step in result.steps if step.action == "sync"] == [
        "succeeded",
        "failed",
        "succeeded",
    ]
    (failed,) = result.failed_expectations
    assert failed.name == "steps[3] at 2026-11-20T12:00: partial sync status"
    assert (failed.expected, failed.actual) == ("succeeded", "failed")
    assert result.runs[1]["message"].endswith("HTTP 500")
    # The run after the failure caught the change anyway.
    (ada,) = [p for p in result.people if p["contact"]["first_name"] == "Ada"]
    assert ada["contact"]["city"] == "Dayton"


def test_a_change_to_a_member_billing_does_not_have_is_refused_naming_the_step() -> None:
    data = copy.deepcopy(SMALL)
    data["billing"].pop("generate")
    data["steps"][1]["billing"]["modify"][0]["member_id"] = "nobody"
    with pytest.raises(
        ScenarioError,
        match=r"steps\[1\]\.billing\.modify\[0\]\.member_id: billing has no member 'nobody'",
    ):
        run_scenario(parse_scenario(data))


# -- the command ---------------------------------------------------------------------------------


def _write(tmp_path: Path, data: dict[str, Any], name: str = "scenario.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2))
    return path


def test_cli_run_writes_the_result_and_exits_zero(tmp_path: Path) -> None:
    path = EXAMPLES / "quarantine.json"
    out = tmp_path / "out" / "result.json"
    outcome = CliRunner().invoke(scenario_app, ["run", str(path), "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    assert "All " in outcome.output and "expectations hold" in outcome.output
    assert "quarantined" in outcome.output
    assert out.read_text() == replay(path).to_json()


def test_cli_exits_one_when_an_expectation_fails(tmp_path: Path) -> None:
    data = copy.deepcopy(SMALL)
    data["billing"].pop("generate")
    data["expect"] = {"people": 99}
    outcome = CliRunner().invoke(scenario_app, ["run", str(_write(tmp_path, data))])
    assert outcome.exit_code == EXIT_EXPECTATION_FAILED, outcome.output
    assert "FAIL end: people: expected 99, got 2" in outcome.output


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            lambda d: d["steps"][0].update(synk="full"),
            "steps[0].synk: Extra inputs are not permitted",
        ),
        (
            lambda d: d["steps"][2].update(at="2026-11-19T20:00"),
            "steps[2].at 2026-11-19T20:00 is earlier than steps[1].at",
        ),
        (
            lambda d: d["location"].update(time_zone="Mars/Olympus"),
            "location.time_zone: unknown time zone",
        ),
    ],
    ids=["typo", "out-of-order", "bad-zone"],
)
def test_cli_refuses_an_invalid_file_naming_the_field(
    tmp_path: Path, change: Any, named: str
) -> None:
    data = copy.deepcopy(SMALL)
    change(data)
    outcome = CliRunner().invoke(scenario_app, ["run", str(_write(tmp_path, data))])
    assert outcome.exit_code == EXIT_INVALID
    assert named in " ".join(outcome.output.split()), outcome.output


def test_cli_refuses_a_missing_file(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(scenario_app, ["run", str(tmp_path / "nope.json")])
    assert outcome.exit_code == EXIT_INVALID
    assert "no such file" in outcome.output


def test_cli_check_and_examples() -> None:
    runner = CliRunner()
    checked = runner.invoke(scenario_app, ["check", str(EXAMPLES / "member-lifecycle.json")])
    assert checked.exit_code == 0 and "OK" in checked.output
    listed = runner.invoke(scenario_app, ["examples"])
    assert listed.exit_code == 0
    assert "quarantine.json" in listed.output


def test_scenario_model_round_trips_through_json() -> None:
    scenario = load_scenario(EXAMPLES / "member-lifecycle.json")
    again = Scenario.model_validate_json(scenario.model_dump_json())
    assert again == scenario
