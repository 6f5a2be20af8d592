"""The daily follow-ups Lambda and `clubsync followups` on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from clubsync.cli.followups import followups_app
from clubsync.domain.people import ContactData, FollowUpStatus, OptIns, Person, PersonKind
from clubsync.domain.settings import LocationSettings
from clubsync.features.follow_ups import DueList, FollowUps
from clubsync.runtime.local import Repositories
from clubsync.runtime.local_streams import LocalLambdaContext, load_function
from clubsync.store.tables import ENTITIES, STATE

DAY = date(2026, 11, 24)


@pytest.fixture
def club(repos: Repositories) -> Repositories:
    created = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 09:00 in Chicago
    repos.entities.save(
        [
            Person(
                person_id="p-web",
                location_id="springfield",
                kind=PersonKind.PROSPECT,
                follow_up_status=FollowUpStatus.WEB_LEAD,
                contact=ContactData(first_name="Wendy", last_name="Web", mobile_phone="5555550101"),
                opt_ins=OptIns(sms=True),
                follow_up_person_id="e1",
                created_at=created,
            ),
            Person(
                person_id="p-ref",
                location_id="springfield",
                kind=PersonKind.PROSPECT,
                follow_up_status=FollowUpStatus.REFERRAL,
                contact=ContactData(first_name="Rory", last_name="Ref", email="r@example.org"),
                opt_ins=OptIns(email=True),
                created_at=created,
            ),
        ]
    )
    return repos


@pytest.fixture
def handler(club: Repositories, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv(ENTITIES.env_var, ENTITIES.default_name)
    monkeypatch.setenv(STATE.env_var, STATE.default_name)
    module = load_function("followups_due")
    module.reset()
    yield module
    module.reset()


def test_the_daily_function_stores_the_days_list_once(
    handler: ModuleType, club: Repositories, location: LocationSettings
) -> None:
    event = {"location_id": "springfield", "date": DAY.isoformat()}
    first = handler.lambda_handler(event, LocalLambdaContext())
    assert first == {
        "location_id": "springfield",
        "date": "2026-11-24",
        "due": 2,
        "per_follow_up_person": {"e1": 1, "unassigned": 1},
        "written": True,
    }
    assert handler.lambda_handler(event, LocalLambdaContext())["written"] is False
    stored = FollowUps(club.entities, club.state).due_lists.get("springfield", DAY)
    assert stored is not None
    due = DueList.model_validate(stored)
    assert {(e.person_id, e.channel.value, e.stage) for e in due.entries} == {
        ("p-web", "text", 1),
        ("p-ref", "email", 1),
    }
    # Without a date: the club-local date at invocation.
    today = handler.lambda_handler({"location_id": "springfield"}, LocalLambdaContext())
    assert today["date"] == datetime.now(UTC).astimezone(location.zone).date().isoformat()


def test_the_hourly_event_stores_every_location_whose_day_began_once(
    handler: ModuleType, club: Repositories, location: LocationSettings
) -> None:
    first = handler.lambda_handler({}, LocalLambdaContext())
    today = datetime.now(UTC).astimezone(location.zone).date().isoformat()
    assert first == {
        "stored": {"springfield": {"date": today, "due": first["stored"]["springfield"]["due"]}},
        "pending": [],
    }
    assert FollowUps(club.entities, club.state).due_lists.get(
        "springfield", date.fromisoformat(today)
    )
    assert handler.lambda_handler({}, LocalLambdaContext()) == {"stored": {}, "pending": []}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"date": "2026-11-24"}, 'a "date" needs a "location_id"'),
        ({"location_id": "springfield", "date": "tomorrow"}, "date: Input should be a valid date"),
        ({"location": "springfield"}, "location: Extra inputs are not permitted"),
        ({"location_id": "Spring Field"}, "location_id: String should match pattern"),
        (["springfield"], "the event must be a JSON object"),
        ({"location_id": "shelbyville"}, "unknown location 'shelbyville'"),
    ],
)
def test_a_bad_event_is_refused_with_what_to_fix(
    handler: ModuleType, event: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        handler.lambda_handler(event, LocalLambdaContext())


def test_the_cli_sets_shows_lists_and_records(club: Repositories, tmp_path: Path) -> None:
    runner = CliRunner()
    loc = ["--location", "springfield"]

    refused = runner.invoke(followups_app, ["schedule", *loc, "--stages", "Web Lead=0,-3"])
    assert refused.exit_code == 2
    assert "Web Lead: stage 2: days must be 0 or more, got -3" in refused.output
    assert club.state.get_location("springfield").follow_up_schedule.row(  # type: ignore[union-attr]
        FollowUpStatus.WEB_LEAD
    ) == (0, 1, 2, 4, 7, 14, 30)

    changed = runner.invoke(followups_app, ["schedule", *loc, "--stages", "Web Lead=0,3"])
    assert changed.exit_code == 0, changed.output
    assert "Follow-up schedule of springfield changed." in changed.output
    schedule_file = tmp_path / "schedule.json"
    schedule_file.write_text(json.dumps({"pt": {"FC Booked": [0]}, "membership": {"Lead": [1]}}))
    shown = runner.invoke(followups_app, ["schedule", *loc, "--file", str(schedule_file), "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output[shown.output.index("{") :])
    assert data["membership"]["Web Lead"] == [0, 3]
    assert (data["membership"]["Lead"], data["pt"]["FC Booked"]) == ([1], [0])
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps({"Hot Lead": [1], "Lead": list(range(12))}))
    refused = runner.invoke(followups_app, ["schedule", *loc, "--file", str(bad_file)])
    assert refused.exit_code == 2
    assert "unknown status 'Hot Lead'" in refused.output
    assert "Lead: stage 11: at most ten stages" in refused.output

    due = runner.invoke(followups_app, ["due", *loc, "--date", DAY.isoformat()])
    assert due.exit_code == 0, due.output
    assert "2 follow-ups due at springfield on 2026-11-24" in due.output
    assert "e1: 1 due" in due.output and "Nobody assigned: 1 due" in due.output
    assert "Wendy" in due.output and "p-web" in due.output

    recorded = runner.invoke(
        followups_app, ["contact", *loc, "--person", "p-web", "--date", DAY.isoformat()]
    )
    assert recorded.exit_code == 0, recorded.output
    assert "Recorded: Web Lead stage 1 by text on 2026-11-24." in recorded.output
    assert "Next: stage 2 on 2026-11-27." in recorded.output  # the changed row: 0, 3
    again = runner.invoke(
        followups_app, ["contact", *loc, "--person", "p-web", "--date", DAY.isoformat()]
    )
    assert "Already recorded" in again.output

    missing = runner.invoke(followups_app, ["due", *loc, "--date", "2026-01-01", "--stored"])
    assert missing.exit_code == 2 and "no stored due list" in missing.output
