"""The volume parameters of the sandbox's activity generator: they give the counts and date
ranges asked for, extra employees pass the employee sync's rules, and the defaults give the
very records the generator gave before the parameters existed."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clubsync.domain.employees import employee_skip_reason
from clubsync.domain.settings import DEFAULT_DEPARTMENTS
from clubsync.providers.abc.employees import employee_source
from clubsync.sandbox import BillingSandbox
from clubsync.sandbox.abc.activity import generate_activity

CLUB = "0451"
NOW_LOCAL = datetime(2026, 11, 20, 21, 0)
TODAY = NOW_LOCAL.date()
MEMBERS = [{"memberId": f"m{i:04d}"} for i in range(60)]
# sha256 of the default output for MEMBERS with seed 5 (3 days of check-ins, events 35 days
# either side, 40 days of POS, the fixed list of 8 employees). Scenarios and tests depend on
# these records. Issue 12 changed it on purpose: event attendees are now an array
# (`members: [{...}]`, as ABC's clients read them) instead of `members: {member: {...}}`.
DEFAULT_OUTPUT_SHA256 = "1928456286f8c7ac4c07cf198ac8354ae89370cf31446244cc841970f8d419b7"
# The hash before issue 12, taken from the generator as it was before the volume parameters
# were added: with event_members="nested" the generator still gives exactly those records, so
# only the attendee shape changed (same people, same events, same random draws).
PRE_ISSUE_12_OUTPUT_SHA256 = "1d6f5a881254ae784b1434a87bc2d7829df8ecd3478f8f689a9350941868ee81"
DEFAULT_COUNTS = {
    "employees": 8,
    "eventTypes": 5,
    "events": 32,
    "checkins": 71,
    "transactions": 24,
    "recurringServices": 15,
}


def fingerprint(activity: dict[str, list[dict[str, Any]]]) -> str:
    text = json.dumps(activity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def day_of(timestamp: str) -> date:
    return datetime.strptime(timestamp, "%Y-%m-%d %H:%M:%S.%f").date()


def generate(members: list[dict[str, Any]] = MEMBERS, **volumes: Any) -> dict[str, Any]:
    return generate_activity(members, club_number=CLUB, now_local=NOW_LOCAL, seed=5, **volumes)


def test_defaults_give_the_records_of_before() -> None:
    activity = generate()
    assert {name: len(records) for name, records in activity.items()} == DEFAULT_COUNTS
    assert fingerprint(activity) == DEFAULT_OUTPUT_SHA256


def test_nested_attendees_give_the_records_of_before_issue_12() -> None:
    assert fingerprint(generate(event_members="nested")) == PRE_ISSUE_12_OUTPUT_SHA256


def test_attendee_shapes_differ_only_in_the_members_field() -> None:
    shapes = {shape: generate(event_members=shape) for shape in ("array", "bare", "nested")}
    for events in zip(*(activity["events"] for activity in shapes.values()), strict=True):
        attendee = events[0]["members"][0]
        assert [event["members"] for event in events] == [
            [attendee],
            attendee,
            {"member": attendee},
        ]
        assert len({json.dumps({**e, "members": None}, sort_keys=True) for e in events}) == 1
    with pytest.raises(ValueError, match="event_members"):
        generate(event_members="list")


def test_explicit_defaults_equal_no_arguments() -> None:
    explicit = generate(
        employees=None, checkin_days=3, event_days_back=35, event_days_forward=35, pos_days=40
    )
    assert fingerprint(explicit) == DEFAULT_OUTPUT_SHA256


def test_employees_count_and_the_fixed_list_first() -> None:
    default = generate()["employees"]
    many = generate(employees=200)["employees"]
    assert len(many) == 200
    assert len({e["employeeId"] for e in many}) == 200
    assert many[:8] == default
    assert [e["employeeId"] for e in generate(employees=5)["employees"]] == [
        e["employeeId"] for e in default[:5]
    ]


def test_extra_employees_pass_the_employee_rules_but_commission_level_zero() -> None:
    source = employee_source(None, ZoneInfo("America/Chicago"))
    extra = generate(employees=200)["employees"][8:]
    reasons = [
        employee_skip_reason(source.translate(record), DEFAULT_DEPARTMENTS) for record in extra
    ]
    skipped = [reason for reason in reasons if reason]
    assert skipped == ["employee with commission level 0"] * len(skipped)
    assert 0 < len(skipped) <= len(extra) // 10
    contacts = {(e["personal"]["firstName"], e["contact"]["email"]) for e in extra}
    assert len(contacts) == len(extra)  # one CRM employee per account


def test_extra_trainers_own_events() -> None:
    members = [{"memberId": f"m{i:05d}"} for i in range(2000)]
    activity = generate(members, employees=60)
    owners = {event["employeeId"] for event in activity["events"]}
    extra_ids = {e["employeeId"] for e in activity["employees"][8:]}
    assert owners & extra_ids


@pytest.mark.parametrize("days", [1, 6, 60])
def test_checkin_days(days: int) -> None:
    members = [{"memberId": f"m{i:05d}"} for i in range(300)]
    checkins = generate(members, checkin_days=days)["checkins"]
    seen = {day_of(c["checkInTimestamp"]) for c in checkins}
    assert seen <= {TODAY - timedelta(days=back) for back in range(days)}
    assert TODAY - timedelta(days=days - 1) in seen
    # Each member checks in on a day with probability 0.4 (today: only before now).
    assert 0.3 * 300 * days < len(checkins) < 0.5 * 300 * days


def test_no_checkin_days_no_checkins() -> None:
    assert generate(checkin_days=0)["checkins"] == []


def test_event_days_back_and_forward() -> None:
    members = [{"memberId": f"m{i:05d}"} for i in range(3000)]
    events = generate(members, event_days_back=50, event_days_forward=41)["events"]
    offsets = {(day_of(e["eventTimestamp"]) - TODAY).days for e in events}
    assert min(offsets) == -50
    assert max(offsets) == 41
    assert 0.4 * 3000 < len(events) < 0.6 * 3000


def test_pos_days() -> None:
    members = [{"memberId": f"m{i:05d}"} for i in range(3000)]
    transactions = generate(members, pos_days=30)["transactions"]
    offsets = {(TODAY - day_of(t["transactionTimestamp"])).days for t in transactions}
    assert offsets == set(range(31))


def test_other_volumes_leave_employees_and_services_alone() -> None:
    default = generate()
    other = generate(checkin_days=10, event_days_back=5, event_days_forward=5, pos_days=7)
    assert other["employees"] == default["employees"]
    assert len(other["recurringServices"]) == len(default["recurringServices"])


@pytest.mark.parametrize(
    "volumes",
    [
        {"checkin_days": -1},
        {"event_days_back": -1},
        {"event_days_forward": -2},
        {"pos_days": -1},
        {"employees": 3},
        {"employees": 999},
    ],
)
def test_invalid_volumes_are_refused(volumes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(volumes))):
        generate(**volumes)


def test_sandbox_passes_the_volumes_through() -> None:
    billing = BillingSandbox(now=datetime(2026, 11, 20, 21, 0, tzinfo=ZoneInfo("America/Chicago")))
    billing.add_club(CLUB, "America/Chicago")
    billing.generate_members(CLUB, 50, seed=7)
    default_checkins = billing.activity(CLUB, "checkins")
    billing.generate_activity(CLUB, seed=7, employees=25, checkin_days=10, pos_days=30)
    assert len(billing.activity(CLUB, "employees")) == 25
    checkins = billing.activity(CLUB, "checkins")
    assert len(checkins) > len(default_checkins)
    assert min(day_of(c["checkInTimestamp"]) for c in checkins) == TODAY - timedelta(days=9)
    billing.generate_activity(CLUB, seed=7)
    assert billing.activity(CLUB, "checkins") == default_checkins
