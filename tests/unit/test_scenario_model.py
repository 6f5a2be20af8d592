"""The scenario file format: what it accepts, and how it names what it refuses (no sockets)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from clubsync.domain.people import MembershipAgreement, Person, PersonKind
from clubsync.scenario.model import (
    SUMMARY_COUNTS,
    exists_in_zone,
    local_to_aware,
)
from clubsync.scenario.runner import (
    ScenarioError,
    _resolve,
    _same_json,
    _Snapshot,
    load_scenario,
    parse_scenario,
)

EXAMPLES = Path(__file__).parents[2] / "layers/clubsync/clubsync/scenario/examples"

MINIMAL: dict[str, Any] = {
    "name": "minimal",
    "location": {
        "location_id": "springfield",
        "club_number": "0451",
        "time_zone": "America/Chicago",
    },
    "billing": {
        "start": "2026-11-19T08:00",
        "members": [{"memberId": "a1", "personal": {"firstName": "Dana", "lastName": "Reyes"}}],
    },
    "steps": [
        {"at": "2026-11-19T21:00", "sync": "full"},
        {
            "at": "2026-11-20T10:15",
            "billing": {"modify": [{"member_id": "a1", "changes": {"personal.city": "Dayton"}}]},
        },
        {"at": "2026-11-20T11:00", "fault": {"kind": "500", "count": 5}},
        {"at": "2026-11-20T12:00", "sync": "partial", "expect_failure": True},
        {"at": "2026-11-20T12:00", "expect": {"failed_runs": 1, "watermark": "2026-11-19T21:00"}},
    ],
    "expect": {"people": 1},
}


def scenario_with(**changes: Any) -> dict[str, Any]:
    """MINIMAL with dotted-path changes; `steps__1__at="..."` sets steps[1].at."""
    data = copy.deepcopy(MINIMAL)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target: Any = data
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(leaf)] = value
        else:
            target[leaf] = value
    return data


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data)
    return caught.value.problems


def test_minimal_scenario_is_accepted() -> None:
    scenario = parse_scenario(copy.deepcopy(MINIMAL))
    assert [step.action for step in scenario.steps] == [
        "sync",
        "billing",
        "fault",
        "sync",
        "expect",
    ]
    assert scenario.steps[3].expect_failure is True
    assert scenario.crm.prospects == []


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_shipped_examples_are_valid(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.description


def test_the_three_required_examples_ship() -> None:
    names = {path.stem for path in EXAMPLES.glob("*.json")}
    assert {"member-lifecycle", "ignored-membership-types", "quarantine"} <= names


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"nmae": "x"}, "nmae: Extra inputs are not permitted"),
        (
            {"location__time_zon": "America/Chicago"},
            "location.time_zon: Extra inputs are not permitted",
        ),
        (
            {"steps__0": {"at": "2026-11-19T21:00", "synk": "full"}},
            "steps[0].synk: Extra inputs are not permitted",
        ),
        (
            {
                "steps__1": {
                    "at": "2026-11-20T10:15",
                    "billing": {"modify": [{"member_id": "a1", "chnges": {}}]},
                }
            },
            "steps[1].billing.modify[0].chnges: Extra inputs are not permitted",
        ),
        ({"expect__peeple": 1}, "expect.peeple: Extra inputs are not permitted"),
        (
            {"crm": {"prospects": [{"person_id": "p-1", "frist_name": "Priya"}]}},
            "crm.prospects[0].frist_name: Extra inputs are not permitted",
        ),
        (
            {"billing__generate": {"members": 5, "sead": 1}},
            "billing.generate.sead: Extra inputs are not permitted",
        ),
    ],
)
def test_a_typo_is_refused_naming_the_field(changes: dict[str, Any], expected: str) -> None:
    assert expected in problems_of(scenario_with(**changes))


def test_steps_should_stop_order_are_refused_naming_the_step() -> None:
    problems = problems_of(scenario_with(steps__2__at="2026-11-20T09:00"))
    assert len(problems) == 1
    assert (
        "steps[2].at 2026-11-20T09:00 is earlier than steps[1].at 2026-11-20T10:15" in problems[0]
    )


def test_steps_at_the_same_time_keep_their_order() -> None:
    scenario = parse_scenario(scenario_with(steps__2__at="2026-11-20T10:15"))
    assert scenario.steps[1].at == scenario.steps[2].at


def test_a_step_before_billing_start_is_refused() -> None:
    problems = problems_of(scenario_with(billing__start="2026-11-19T22:00"))
    assert any("steps[0].at" in p and "billing.start" in p for p in problems)


@pytest.mark.parametrize(
    "value", ["2026-11-19T21:00+00:00", "2026-11-19T21:00Z", "tomorrow", "2026-13-01T00:00"]
)
def test_times_are_club_local_wall_times(value: str) -> None:
    problems = problems_of(scenario_with(steps__0__at=value))
    assert any(p.startswith("steps[0].at:") for p in problems), problems


def test_a_time_skipped_by_daylight_saving_is_refused() -> None:
    data = scenario_with(billing__start="2026-03-07T08:00")
    data["steps"] = [{"at": "2026-03-08T02:30", "sync": "partial"}]
    problems = problems_of(data)
    assert any(
        "steps[0].at: 2026-03-08T02:30 does not exist in America/Chicago" in p for p in problems
    )


def test_an_ambiguous_time_means_its_first_occurrence() -> None:
    zone = parse_scenario(copy.deepcopy(MINIMAL)).zone
    assert exists_in_zone("2026-11-01T01:30", zone)
    assert local_to_aware("2026-11-01T01:30", zone).astimezone(UTC) == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ({"at": "2026-11-19T21:00"}, "steps[0]: a step does exactly one of"),
        (
            {"at": "2026-11-19T21:00", "sync": "full", "clear_faults": True},
            "this one has: sync, clear_faults",
        ),
        (
            {"at": "2026-11-19T21:00", "clear_faults": True, "expect_failure": True},
            "expect_failure belongs to a sync step",
        ),
        (
            {"at": "2026-11-19T21:00", "sync": "hourly"},
            "steps[0].sync: Input should be 'full' or 'partial'",
        ),
        ({"at": "2026-11-19T21:00", "fault": {"kind": "503"}}, "steps[0].fault.kind"),
        ({"at": "2026-11-19T21:00", "billing": {}}, "steps[0].billing: give 'modify' and/or 'add'"),
        (
            {"at": "2026-11-19T21:00", "billing": {"add": [{"personal": {}}]}},
            "steps[0].billing.add[0]: a billing member record needs a non-empty string 'memberId'",
        ),
        (
            {
                "at": "2026-11-19T21:00",
                "billing": {"modify": [{"member_id": "a1", "changes": {"memberId": "b"}}]},
            },
            "memberId cannot be changed",
        ),
        (
            {"at": "2026-11-19T21:00", "settings": {"ignored_types": []}},
            "'ignored_types' is not a location setting",
        ),
        (
            {"at": "2026-11-19T21:00", "settings": {"club_number": "0452"}},
            "'club_number' identifies the location",
        ),
        (
            {"at": "2026-11-19T21:00", "settings": {"partial_sync_hours": [12, 21]}},
            "steps[0].settings: partial_sync_hours must not contain 21",
        ),
        (
            {"at": "2026-11-19T21:00", "expect": {"persons": [{"fields": {"kind": "member"}}]}},
            "exactly one of person_id",
        ),
        (
            {"at": "2026-11-19T21:00", "expect": {"last_run": {"creatd": 1}}},
            "'creatd' is not a run count",
        ),
    ],
)
def test_step_problems_are_named(step: dict[str, Any], expected: str) -> None:
    problems = problems_of(scenario_with(steps=[step]))
    assert any(expected in problem for problem in problems), problems


def test_duplicate_member_ids_in_initial_billing_are_refused() -> None:
    data = scenario_with()
    data["billing"]["members"].append(copy.deepcopy(data["billing"]["members"][0]))
    assert any("billing.members[1].memberId: 'a1' appears twice" in p for p in problems_of(data))


def test_settings_step_changes_only_named_settings() -> None:
    scenario = parse_scenario(
        scenario_with(
            steps=[
                {"at": "2026-11-19T21:00", "settings": {"ignored_membership_types": ["PT ONLY"]}}
            ]
        )
    )
    assert scenario.steps[0].settings == {"ignored_membership_types": ["PT ONLY"]}


def test_prospects_take_contact_fields_flat() -> None:
    data = scenario_with(
        crm={
            "prospects": [
                {
                    "person_id": "p-1",
                    "first_name": "Priya",
                    "city": "Dayton",
                    "follow_up_status": "Referral",
                }
            ]
        }
    )
    prospect = parse_scenario(data).crm.prospects[0]
    assert prospect.contact().city == "Dayton"
    assert prospect.contact().first_name == "Priya"
    assert prospect.follow_up_status.value == "Referral"


# -- loading files ---------------------------------------------------------------------------


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "absent.json")


def test_bad_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "name": "x",\n  "steps": [,]\n}\n')
    with pytest.raises(ScenarioError, match=r"not valid JSON: .* at line 3, column 13"):
        load_scenario(path)


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[]")
    with pytest.raises(ScenarioError, match="expected a JSON object"):
        load_scenario(path)


def test_validation_error_message_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "typos.json"
    path.write_text(json.dumps(scenario_with(nmae="x", steps__0__at="2026-11-19T21:00+01:00")))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert "invalid scenario" in text and "nmae" in text and "steps[0].at" in text


# -- the result's counts and checks ---------------------------------------------------------------


def _agreement(key: str, person_id: str, *, system_id: str = "045110001") -> MembershipAgreement:
    return MembershipAgreement(
        agreement_key=key,
        person_id=person_id,
        location_id="springfield",
        system_id=system_id,
        agreement_number="10001",
        sign_date=date(2025, 3, 14),
        is_active=True,
        is_current=True,
    )


def test_summary_names_are_the_expectation_names() -> None:
    assert set(_Snapshot([], [], [], [], None).summary()) == SUMMARY_COUNTS


def test_duplicate_agreements_count_copies_of_one_id_and_sign_date() -> None:
    people = [
        Person(person_id="m-1", location_id="springfield", kind=PersonKind.MEMBER, is_active=True),
        Person(person_id="m-2", location_id="springfield", kind=PersonKind.MEMBER),
        Person(person_id="p-1", location_id="springfield", kind=PersonKind.PROSPECT),
    ]
    agreements = [
        _agreement("k1", "m-1"),
        _agreement("k2", "m-2"),
        _agreement("k3", "m-2", system_id="x"),
    ]
    summary = _Snapshot(people, agreements, [], [], None).summary()
    assert summary["duplicate_agreements"] == 1
    assert (summary["people"], summary["members"], summary["prospects"]) == (3, 2, 1)
    assert summary["active_members"] == 1


def test_person_view_has_agreements_and_current_agreement() -> None:
    person = Person(
        person_id="m-1",
        location_id="springfield",
        kind=PersonKind.MEMBER,
        current_agreement_key="k2",
        agreement_keys=["k1", "k2"],
    )
    old = _agreement("k1", "m-1").model_copy(update={"is_current": False, "agreement_number": "1"})
    snapshot = _Snapshot([person], [old, _agreement("k2", "m-1")], [], [], None)
    (view,) = snapshot.person_views()
    assert view["agreement_count"] == 2
    assert _resolve(view, "current_agreement.agreement_number") == "10001"
    assert _resolve(view, "agreements.0.is_current") is False
    assert _resolve(view, "agreements.5.is_current") == "<missing>"
    assert _resolve(view, "contact.nothing") == "<missing>"


def test_json_equality_tells_true_from_one() -> None:
    assert _same_json(True, True)
    assert not _same_json(True, 1)
    assert not _same_json(0, False)
    assert _same_json({"a": [1, None]}, {"a": [1, None]})
