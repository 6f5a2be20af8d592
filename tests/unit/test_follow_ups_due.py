"""The daily due list of a small club over several simulated days (memory tables)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from clubsync.domain.activity import CalendarEvent, PtFollowUp
from clubsync.domain.employees import Employee, EmployeeRole
from clubsync.domain.follow_up_schedule import Channel
from clubsync.domain.people import ContactData, FollowUpStatus, OptIns, Person, PersonKind
from clubsync.domain.settings import EventKind, LocationSettings
from clubsync.features.follow_ups import DueList, FollowUpError, FollowUps
from clubsync.store.entities import EntityRepository, location_pk
from clubsync.store.follow_ups import FOLLOW_UP_PREFIX
from clubsync.store.items import MemoryItemTable
from clubsync.store.records import (
    EMPLOYEE_PREFIX,
    EMPLOYEES_PK,
    EVENT_PREFIX,
    PT_FOLLOW_UP_PREFIX,
    record_item,
)
from clubsync.store.state import StateRepository

S = FollowUpStatus
LOC = "springfield"


def at_local(day: date, settings: LocationSettings, hour: int = 0) -> datetime:
    """An instant of that club-local day, in UTC as the Lambda's clock gives it."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=settings.zone).astimezone(UTC)


def person(
    person_id: str,
    status: FollowUpStatus,
    kind: PersonKind = PersonKind.PROSPECT,
    *,
    first: str,
    created: datetime,
    follow_up_person: str | None = None,
    contact: dict[str, Any] | None = None,
    opt_ins: OptIns | None = None,
    converted: datetime | None = None,
) -> Person:
    return Person(
        person_id=person_id,
        location_id=LOC,
        kind=kind,
        follow_up_status=status,
        contact=ContactData(first_name=first, last_name="Doe", **(contact or {})),
        opt_ins=opt_ins or OptIns(),
        follow_up_person_id=follow_up_person,
        created_at=created,
        converted_at=converted,
    )


def staff(employee_id: str, first: str, last: str) -> dict[str, Any]:
    employee = Employee(
        employee_id=employee_id,
        contact=ContactData(first_name=first, last_name=last),
        role=EmployeeRole.SALESPERSON,
    )
    return record_item(EMPLOYEES_PK, EMPLOYEE_PREFIX, employee_id, "employee", employee)


@pytest.fixture
def club(
    settings: LocationSettings, entities: EntityRepository, entity_table: MemoryItemTable
) -> None:
    monday = at_local(date(2026, 11, 23), settings, 9)
    entities.save(
        [
            person(
                "p-web",
                S.WEB_LEAD,
                first="Wendy",
                created=monday,
                follow_up_person="e1",
                contact={"mobile_phone": "5555550101"},
                opt_ins=OptIns(sms=True),
            ),
            person(
                "p-ref",
                S.REFERRAL,
                first="Rory",
                created=monday,
                follow_up_person="e2",
                contact={"email": "rory@example.org"},
                opt_ins=OptIns(email=True),
            ),
            person(
                "m1",
                S.NEW_MEMBER,
                PersonKind.MEMBER,
                first="Max",
                created=monday - timedelta(days=400),
                converted=monday,
                follow_up_person="e1",
                contact={"home_phone": "5555550199"},
            ),
        ]
    )
    entity_table.batch_write([staff("e1", "Avery", "Stone"), staff("e2", "Blake", "Young")])


def add_tuesday_lead(settings: LocationSettings, entities: EntityRepository) -> None:
    tuesday = at_local(date(2026, 11, 24), settings, 9)
    entities.save([person("p-lead", S.LEAD, first="Lee", created=tuesday)])


def summary(due: DueList) -> dict[str | None, dict[str, tuple[Any, ...]]]:
    """follow-up person -> person id -> (status, stage, channel, overdue, done)."""
    return {
        group.follow_up_person_name or group.follow_up_person_id: {
            e.person_id: (e.status, e.stage, e.channel, e.overdue, e.done) for e in group.entries
        }
        for group in due.groups
    }


def test_a_small_club_over_a_week(
    club: None,
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    entity_table: MemoryItemTable,
) -> None:
    follow_ups = FollowUps(entities, state)

    def due(day: date) -> DueList:
        return follow_ups.due_list(settings, day, today=day)

    def contact(person_id: str, day: date, channel: Channel | None = None) -> None:
        follow_ups.record_contact(LOC, person_id, at_local(day, settings, 15), channel=channel)

    # Monday 11-23: both new leads are due the same day (stage one: 0 days).
    monday = due(date(2026, 11, 23))
    assert summary(monday) == {
        "Avery Stone": {"p-web": (S.WEB_LEAD, 1, Channel.TEXT, False, False)},
        "Blake Young": {"p-ref": (S.REFERRAL, 1, Channel.EMAIL, False, False)},
    }
    (web,) = monday.groups[0].entries
    assert web.name == "Wendy Doe"
    assert web.reason == "Web Lead stage 1: 0 days after entering the status on 2026-11-23"
    contact("p-web", date(2026, 11, 23))
    # The day's list stays the same all day; the contact marks the entry done.
    assert summary(due(date(2026, 11, 23)))["Avery Stone"]["p-web"][-1] is True

    add_tuesday_lead(settings, entities)  # entered by staff on Tuesday morning
    # Tuesday: Web Lead stage 2 (1 day after the contact), the referral nobody called is
    # overdue, the new member's stage one (1 day), and a lead with nobody assigned and no
    # phone number.
    tuesday = due(date(2026, 11, 24))
    assert summary(tuesday) == {
        "Avery Stone": {
            "p-web": (S.WEB_LEAD, 2, Channel.TEXT, False, False),
            "m1": (S.NEW_MEMBER, 1, Channel.CALL, False, False),
        },
        "Blake Young": {"p-ref": (S.REFERRAL, 1, Channel.EMAIL, True, False)},
        None: {"p-lead": (S.LEAD, 1, Channel.CALL, False, False)},
    }
    reasons = {e.person_id: e.reason for e in tuesday.entries}
    assert reasons["p-web"] == "Web Lead stage 2: 1 day after the contact on 2026-11-23"
    assert reasons["p-ref"].endswith("; overdue since 2026-11-23")
    assert reasons["p-lead"].endswith("; no phone number on file: ask for one")
    for person_id in ("p-web", "p-ref", "m1"):
        contact(person_id, date(2026, 11, 24))

    # Wednesday: stage 3 of the web lead (2 days) and stage 2 of the referral (2 days) are for
    # Thursday; only the lead nobody called is left, overdue.
    assert summary(due(date(2026, 11, 25))) == {
        None: {"p-lead": (S.LEAD, 1, Channel.CALL, True, False)}
    }

    # The member books a fitness consultation for Saturday 11-28 (what the event sync stores).
    booked = at_local(date(2026, 11, 25), settings, 11)
    entity_table.batch_write(
        [
            record_item(
                location_pk(LOC),
                PT_FOLLOW_UP_PREFIX,
                "m1",
                "pt_follow_up",
                PtFollowUp(
                    person_id="m1",
                    location_id=LOC,
                    status=S.FC_BOOKED,
                    status_reason="orientation booked",
                    updated_at=booked,
                ),
            ),
            record_item(
                location_pk(LOC),
                EVENT_PREFIX,
                "ev1",
                "event",
                CalendarEvent(
                    event_id="ev1",
                    location_id=LOC,
                    billing_event_id="b-ev1",
                    event_type="Fitness Consultation",
                    kind=EventKind.FC,
                    starts_at=at_local(date(2026, 11, 28), settings, 10),
                    local_day=date(2026, 11, 28),
                    duration_minutes=60,
                    owner_employee_id="e1",
                    creator_employee_id="e1",
                    person_id="m1",
                    billing_member_id="b-m1",
                ),
            ),
        ]
    )
    thursday = summary(due(date(2026, 11, 26)))
    assert thursday["Avery Stone"] == {"p-web": (S.WEB_LEAD, 3, Channel.TEXT, False, False)}
    assert thursday["Blake Young"] == {"p-ref": (S.REFERRAL, 2, Channel.EMAIL, False, False)}
    # Friday: the day before the consultation.
    friday = due(date(2026, 11, 27))
    (fc,) = [e for e in friday.entries if e.person_id == "m1"]
    assert (fc.status, fc.stage) == (S.FC_BOOKED, 1)
    assert fc.reason == "FC Booked: 1 day before the appointment on 2026-11-28"
    # Sunday: the consultation is past, so its follow-up leaves the list.
    assert "m1" not in {e.person_id for e in due(date(2026, 11, 29)).entries}

    # Nothing changed since: recomputing writes nothing.
    before = entity_table.usage.items_written
    due(date(2026, 11, 29))
    assert entity_table.usage.items_written == before


def test_the_daily_run_stores_the_local_day_once(
    club: None,
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    state_table: MemoryItemTable,
) -> None:
    add_tuesday_lead(settings, entities)
    follow_ups = FollowUps(entities, state)
    # 00:00 in Chicago on 11-24 is 06:00 UTC: the UTC date is the same here, but at 23:00
    # local on the 23rd it is already the 24th in UTC, and the list is still the 23rd's.
    due, written = follow_ups.store_due_list(
        LOC, None, at_local(date(2026, 11, 24), settings).astimezone(UTC)
    )
    assert (due.date, written, len(due.entries)) == (date(2026, 11, 24), True, 4)
    late = at_local(date(2026, 11, 23), settings, 23)
    assert late.date() == date(2026, 11, 24)
    assert follow_ups.store_due_list(LOC, None, late)[0].date == date(2026, 11, 23)
    writes = state_table.usage.items_written
    again, written = follow_ups.store_due_list(LOC, date(2026, 11, 24), late)
    assert (again, written) == (due, False)
    assert state_table.usage.items_written == writes
    stored = follow_ups.due_lists.get(LOC, date(2026, 11, 24))
    assert stored is not None and DueList.model_validate(stored) == due


def test_the_hourly_run_stores_each_location_once_after_its_own_midnight(
    club: None,
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    state_table: MemoryItemTable,
) -> None:
    berlin = LocationSettings(location_id="berlin", club_number="0777", time_zone="Europe/Berlin")
    state.put_location(berlin)
    follow_ups = FollowUps(entities, state)
    # 23:05 UTC on the 23rd: already 00:05 on the 24th in Berlin, 17:05 on the 23rd in Chicago.
    first = datetime(2026, 11, 23, 23, 5, tzinfo=UTC)
    stored = follow_ups.store_new_day_lists(first).stored
    assert {loc: due.date for loc, due in stored.items()} == {
        "berlin": date(2026, 11, 24),
        LOC: date(2026, 11, 23),
    }
    writes = state_table.usage.items_written
    # The next hours store nothing until Chicago's midnight (06:00 UTC).
    for hours in range(1, 7):
        assert follow_ups.store_new_day_lists(first + timedelta(hours=hours)).stored == {}
    assert state_table.usage.items_written == writes
    chicago_morning = follow_ups.store_new_day_lists(first + timedelta(hours=7)).stored
    assert {loc: due.date for loc, due in chicago_morning.items()} == {LOC: date(2026, 11, 24)}


def test_an_hourly_run_should_stop_leaves_the_rest_for_the_next(
    club: None, settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    state.put_location(
        LocationSettings(location_id="berlin", club_number="0777", time_zone="Europe/Berlin")
    )
    follow_ups = FollowUps(entities, state)
    morning = datetime(2026, 11, 24, 7, 5, tzinfo=UTC)  # after midnight in both clubs
    asked: list[int] = []

    def should_stop() -> bool:  # time for one location only
        asked.append(1)
        return len(asked) > 1

    first = follow_ups.store_new_day_lists(morning, should_stop=should_stop)
    assert len(first.stored) == 1 and len(first.pending) == 1
    later = follow_ups.store_new_day_lists(morning + timedelta(hours=1))
    assert list(later.stored) == first.pending and later.pending == []


def test_recording_a_contact_twice_writes_once_and_bad_requests_are_refused(
    club: None,
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    entity_table: MemoryItemTable,
) -> None:
    follow_ups = FollowUps(entities, state)
    now = at_local(date(2026, 11, 24), settings, 10)
    track, written = follow_ups.record_contact(LOC, "p-ref", now)
    assert written and track.contacts[0].channel is Channel.EMAIL  # the preferred channel
    writes = entity_table.usage.items_written
    same, written = follow_ups.record_contact(LOC, "p-ref", now, channel=Channel.CALL)
    assert (same, written) == (track, False)
    assert entity_table.usage.items_written == writes
    tracked = {item["sk"] for item in entity_table.all_items()}
    assert f"{FOLLOW_UP_PREFIX}p-ref" in tracked
    with pytest.raises(FollowUpError, match="is after today"):
        follow_ups.record_contact(LOC, "p-ref", now, on=date(2026, 11, 25))
    with pytest.raises(FollowUpError, match="not on a follow-up schedule"):
        follow_ups.record_contact(LOC, "nobody", now)
    with pytest.raises(FollowUpError, match="before Referral began on 2026-11-23"):
        follow_ups.record_contact(LOC, "p-ref", now, on=date(2026, 11, 20))
    with pytest.raises(FollowUpError, match="unknown location 'shelbyville'"):
        follow_ups.record_contact("shelbyville", "p-ref", now)


def test_a_changed_schedule_changes_the_list(
    club: None, settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    slower = settings.model_copy(
        update={
            "follow_up_schedule": settings.follow_up_schedule.with_rows(
                {"Web Lead": [2], "Referral": [], "New Member": [0]}
            )
        }
    )
    state.put_location(slower)
    follow_ups = FollowUps(entities, state)
    day = date(2026, 11, 23)
    assert {e.person_id for e in follow_ups.due_list(slower, day, today=day).entries} == {"m1"}
    add_tuesday_lead(settings, entities)
    day = date(2026, 11, 25)
    assert {e.person_id for e in follow_ups.due_list(slower, day, today=day).entries} == {
        "p-web",
        "p-lead",
        "m1",
    }
