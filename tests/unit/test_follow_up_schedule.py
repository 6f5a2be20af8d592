"""Follow-up schedules: stage arithmetic, validation and totals (spec: "The Follow-Up
Schedules"; docs/followups.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate, pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from clubsync.domain.follow_up_rules import CurrentStatus
from clubsync.domain.follow_up_schedule import (
    DEFAULT_ROWS,
    DEFAULT_SCHEDULE,
    MEMBERSHIP_STATUSES,
    PT_STATUSES,
    Channel,
    FollowUpSchedule,
    FollowUpTrack,
    ScheduleKind,
    advance_track,
    preferred_channel,
)
from clubsync.domain.people import ContactData, FollowUpStatus, OptIns
from clubsync.domain.settings import LocationSettings
from clubsync.features.follow_ups import local_today

S = FollowUpStatus
TEN = (0, 1, 2, 3, 4, 5, 6, 7, 8, 5)  # ten stages: the last (5 days) repeats


def schedule(**rows: list[int]) -> FollowUpSchedule:
    return DEFAULT_SCHEDULE.with_rows({name.replace("_", " "): r for name, r in rows.items()})


# -- stage arithmetic ---------------------------------------------------------------------------
def test_a_zero_first_stage_is_due_the_day_the_status_is_entered() -> None:
    due = DEFAULT_SCHEDULE.next_due(S.WEB_LEAD, date(2026, 11, 23))
    assert due is not None
    assert (due.on, due.stage) == (date(2026, 11, 23), 1)
    assert due.reason() == "Web Lead stage 1: 0 days after entering the status on 2026-11-23"


def test_later_stages_wait_after_the_previous_contact_not_after_the_due_date() -> None:
    # Web Lead: 0, 1, 2, 4, ... The stage 2 contact came a day late (11-25, due 11-24):
    # stage 3 is 2 days after that contact.
    entered = date(2026, 11, 23)
    second = DEFAULT_SCHEDULE.next_due(S.WEB_LEAD, entered, [date(2026, 11, 23)])
    assert second is not None and (second.on, second.stage) == (date(2026, 11, 24), 2)
    third = DEFAULT_SCHEDULE.next_due(S.WEB_LEAD, entered, [date(2026, 11, 23), date(2026, 11, 25)])
    assert third is not None and (third.on, third.stage) == (date(2026, 11, 27), 3)
    assert third.reason() == "Web Lead stage 3: 2 days after the contact on 2026-11-25"


def test_a_row_without_a_tenth_stage_ends() -> None:
    row = DEFAULT_ROWS[S.REFERRAL]
    contacts = [date(2026, 11, 1) + timedelta(days=i) for i in range(len(row))]
    assert DEFAULT_SCHEDULE.next_due(S.REFERRAL, date(2026, 11, 1), contacts) is None
    assert not DEFAULT_SCHEDULE.repeats(S.REFERRAL)


def test_a_number_in_the_tenth_stage_repeats_indefinitely() -> None:
    sched = schedule(Lead=list(TEN))
    entered = date(2026, 1, 1)
    contacts: list[date] = []
    for _ in range(25):
        due = sched.next_due(S.LEAD, entered, contacts)
        assert due is not None
        contacts.append(due.on)
    # Stages 10..25 are all 5 days apart.
    gaps = [(b - a).days for a, b in pairwise(contacts[9:])]
    assert gaps == [5] * 15
    due = sched.next_due(S.LEAD, entered, contacts)
    assert due is not None and due.stage == 26 and due.repeating
    assert due.reason().endswith("(tenth stage, repeats)")
    assert sched.repeats(S.LEAD)


def test_appt_booked_is_counted_back_from_the_appointment() -> None:
    appointment = date(2026, 11, 27)
    day_before = DEFAULT_SCHEDULE.next_due(S.APPT_BOOKED, date(2026, 11, 20), [], appointment)
    assert day_before is not None
    assert (day_before.on, day_before.stage) == (date(2026, 11, 26), 1)
    assert day_before.reason() == "Appt Booked: 1 day before the appointment on 2026-11-27"
    same_day = schedule(Appt_Booked=[0]).next_due(
        S.APPT_BOOKED, date(2026, 11, 20), [], appointment
    )
    assert same_day is not None and same_day.on == appointment
    assert same_day.reason() == "Appt Booked: on the day of the appointment on 2026-11-27"


def test_fc_booked_runs_like_appt_booked() -> None:
    sched = schedule(FC_Booked=[2])
    due = sched.next_due(S.FC_BOOKED, date(2026, 11, 1), [], date(2026, 11, 10))
    assert due is not None and due.on == date(2026, 11, 8)


def test_appointment_point_is_never_before_the_booking_and_happens_once() -> None:
    sched = schedule(Appt_Booked=[3])
    # Booked on the 25th for the 26th, "3 days before" is already past: due the day it is booked.
    due = sched.next_due(S.APPT_BOOKED, date(2026, 11, 25), [], date(2026, 11, 26))
    assert due is not None and due.on == date(2026, 11, 25)
    assert sched.next_due(S.APPT_BOOKED, date(2026, 11, 25), [date(2026, 11, 25)], None) is None
    assert (
        sched.next_due(S.APPT_BOOKED, date(2026, 11, 25), [date(2026, 11, 25)], date(2026, 11, 26))
        is None
    )
    assert sched.next_due(S.APPT_BOOKED, date(2026, 11, 25), [], None) is None


def test_an_empty_row_means_no_follow_up() -> None:
    assert schedule(Lead=[]).next_due(S.LEAD, date(2026, 11, 1)) is None


@pytest.mark.parametrize(
    ("entered", "zone"),
    [
        (date(2026, 10, 31), "America/Chicago"),  # clocks go back on 2026-11-01
        (date(2026, 3, 7), "America/Chicago"),  # clocks go forward on 2026-03-08
        (date(2026, 3, 28), "Europe/Berlin"),  # clocks go forward on 2026-03-29
    ],
)
def test_dst_changes_never_move_a_follow_up_by_a_day(entered: date, zone: str) -> None:
    settings = LocationSettings(location_id="x", club_number="1", time_zone=zone)
    sched = schedule(Lead=[1, 1, 7])
    first = sched.next_due(S.LEAD, entered, [])
    assert first is not None and first.on == entered + timedelta(days=1)
    # The daily run at 00:00 local on that day (23 or 25 hours after the previous one) sees
    # that day as its local today, and the list of that date holds the follow-up.
    midnight = datetime.combine(first.on, datetime.min.time(), tzinfo=settings.zone)
    assert local_today(settings, midnight.astimezone(UTC)) == first.on
    before = midnight - timedelta(minutes=1)
    assert local_today(settings, before.astimezone(UTC)) == entered
    second = sched.next_due(S.LEAD, entered, [first.on])
    assert second is not None and second.on == entered + timedelta(days=2)


def test_a_status_change_in_the_middle_of_a_schedule_restarts_the_stages() -> None:
    track = FollowUpTrack(
        person_id="p1",
        location_id="springfield",
        schedule=ScheduleKind.MEMBERSHIP,
        status=S.WEB_LEAD,
        entered_on=date(2026, 11, 20),
    )
    track = track.with_contact(date(2026, 11, 20), Channel.CALL)
    track = track.with_contact(date(2026, 11, 21), Channel.TEXT)
    due = track.next_due(DEFAULT_SCHEDULE)
    assert due is not None and due.stage == 3
    # Same status on a later day: kept, contacts and all.
    same = advance_track(
        track,
        person_id="p1",
        location_id="springfield",
        current=CurrentStatus(S.WEB_LEAD, date(2026, 11, 20), "lead source"),
        follow_up_person_id="e1",
        today=date(2026, 11, 22),
    )
    assert same.contacts == track.contacts and same.follow_up_person_id == "e1"
    # The prospect missed an appointment: Missed Guest from the 22nd, stage one again.
    changed = advance_track(
        track,
        person_id="p1",
        location_id="springfield",
        current=CurrentStatus(S.MISSED_GUEST, date(2026, 11, 22), "missed the appointment"),
        follow_up_person_id="e1",
        today=date(2026, 11, 23),
    )
    assert (changed.status, changed.entered_on, changed.contacts) == (
        S.MISSED_GUEST,
        date(2026, 11, 22),
        (),
    )
    due = changed.next_due(DEFAULT_SCHEDULE)
    assert due is not None and (due.stage, due.on) == (1, date(2026, 11, 22))


def test_a_new_appointment_date_restarts_appt_booked_and_unknown_since_is_today() -> None:
    booked = CurrentStatus(S.APPT_BOOKED, None, "appointment booked", date(2026, 11, 27))
    track = advance_track(
        None,
        person_id="p1",
        location_id="l",
        current=booked,
        follow_up_person_id=None,
        today=date(2026, 11, 21),
    )
    assert track.entered_on == date(2026, 11, 21)
    track = track.with_contact(date(2026, 11, 26), Channel.TEXT)
    moved = CurrentStatus(S.APPT_BOOKED, None, "appointment booked", date(2026, 12, 2))
    again = advance_track(
        track,
        person_id="p1",
        location_id="l",
        current=moved,
        follow_up_person_id=None,
        today=date(2026, 11, 27),
    )
    assert again.contacts == () and again.appointment_on == date(2026, 12, 2)
    # A `since` in the future (a clock ahead of the club) is never used: today instead.
    ahead = CurrentStatus(S.LEAD, date(2026, 12, 1), "lead source")
    fresh = advance_track(
        None,
        person_id="p2",
        location_id="l",
        current=ahead,
        follow_up_person_id=None,
        today=date(2026, 11, 27),
    )
    assert fresh.entered_on == date(2026, 11, 27)


@pytest.mark.parametrize(
    ("status", "since", "listed"),
    [
        # New Member: 1 + 7 + 14 + 30 = 52 days, plus the 30-day grace.
        (S.NEW_MEMBER, date(2024, 3, 1), False),  # joined years before go-live: history
        (S.NEW_MEMBER, date(2026, 9, 10), True),  # row ended 82 days before go-live: overdue
        (S.NEW_MEMBER, date(2026, 9, 8), False),  # ... 84 days before: history
        (S.NEW_MEMBER, date(2026, 11, 20), True),  # a recent member: followed up
        (S.PT_ACTIVE, date(2020, 1, 1), True),  # a repeating row never ends
    ],
)
def test_statuses_whose_row_ended_long_before_tracking_began_are_history(
    status: FollowUpStatus, since: date, listed: bool
) -> None:
    go_live = date(2026, 11, 30)
    track = advance_track(
        None,
        person_id="m1",
        location_id="l",
        current=CurrentStatus(status, since, "membership sold"),
        follow_up_person_id=None,
        today=go_live,
    )
    assert track.tracked_from == go_live and track.entered_on == since
    assert track.ended_before_tracking(DEFAULT_SCHEDULE) is not listed


def test_a_status_entered_after_tracking_began_is_never_history() -> None:
    track = advance_track(
        None,
        person_id="p1",
        location_id="l",
        current=CurrentStatus(S.LEAD, date(2026, 11, 30), "lead source"),
        follow_up_person_id=None,
        today=date(2026, 11, 30),
    )
    assert not track.ended_before_tracking(DEFAULT_SCHEDULE)
    # Stored before tracked_from existed: no go-live date known, nothing is history.
    older = track.model_copy(update={"tracked_from": None, "entered_on": date(2020, 1, 1)})
    assert not older.ended_before_tracking(DEFAULT_SCHEDULE)


def test_recording_contacts_is_idempotent_per_day_and_in_order() -> None:
    track = FollowUpTrack(
        person_id="p1",
        location_id="l",
        schedule=ScheduleKind.PT,
        status=S.NEW_MEMBER,
        entered_on=date(2026, 11, 20),
    )
    once = track.with_contact(date(2026, 11, 21), Channel.EMAIL, by="e1")
    assert once.with_contact(date(2026, 11, 21), Channel.CALL) is once
    assert once.contacts[0].stage == 1
    with pytest.raises(ValueError, match="before New Member began on 2026-11-20"):
        track.with_contact(date(2026, 11, 19), Channel.CALL)
    later = once.with_contact(date(2026, 11, 25), Channel.CALL)
    with pytest.raises(ValueError, match="before the last recorded contact on 2026-11-25"):
        later.with_contact(date(2026, 11, 23), Channel.CALL)


@given(
    row=st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=9),
    entered=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 1, 1)),
)
def test_contacting_on_every_due_date_spans_the_row_total(row: list[int], entered: date) -> None:
    # The spec's total ("add together each number in the row") is the days from entering the
    # status to the last follow-up when every contact is made on its due date.
    sched = schedule(Lead=row)
    contacts: list[date] = []
    while (due := sched.next_due(S.LEAD, entered, contacts)) is not None:
        assert due.stage == len(contacts) + 1
        contacts.append(due.on)
    assert [(c - entered).days for c in contacts] == list(accumulate(row))
    assert (contacts[-1] - entered).days == sched.total_days(S.LEAD)


@given(
    row=st.lists(st.integers(min_value=0, max_value=30), min_size=10, max_size=10),
    extra=st.integers(min_value=1, max_value=30),
)
def test_with_ten_stages_the_follow_up_never_ends(row: list[int], extra: int) -> None:
    sched = schedule(Lead=row)
    entered = date(2026, 1, 1)
    contacts: list[date] = []
    for _ in range(10 + extra):
        due = sched.next_due(S.LEAD, entered, contacts)
        assert due is not None
        contacts.append(due.on)
    assert (contacts[-1] - entered).days == sum(row) + extra * row[-1]


# -- totals -------------------------------------------------------------------------------------
def test_total_days_is_the_row_sum() -> None:
    assert DEFAULT_SCHEDULE.total_days(S.WEB_LEAD) == 0 + 1 + 2 + 4 + 7 + 14 + 30
    assert DEFAULT_SCHEDULE.total_days(S.PT_ACTIVE) == 7 + 21 + 8 * 30
    assert DEFAULT_SCHEDULE.repeats(S.PT_ACTIVE)
    # The one point of Appt/FC Booked: days ahead of the appointment.
    assert schedule(Appt_Booked=[2]).total_days(S.APPT_BOOKED) == 2
    assert schedule(Lead=[]).total_days(S.LEAD) == 0


def test_the_default_schedule_has_every_status_in_its_own_schedule() -> None:
    assert set(DEFAULT_SCHEDULE.membership) == set(MEMBERSHIP_STATUSES)
    assert set(DEFAULT_SCHEDULE.pt) == set(PT_STATUSES)
    assert set(MEMBERSHIP_STATUSES) | set(PT_STATUSES) == set(FollowUpStatus)
    assert (
        LocationSettings(
            location_id="x", club_number="1", time_zone="America/Chicago"
        ).follow_up_schedule
        == DEFAULT_SCHEDULE
    )


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ({"Web Lead": list(range(11))}, "Web Lead: stage 11: at most ten stages"),
        ({"Lead": [0, -1]}, "Lead: stage 2: days must be 0 or more, got -1"),
        ({"Hot Lead": [1]}, "unknown status 'Hot Lead'; known: Lead, Web Lead, Referral"),
        ({"Lead": [0, "2"]}, "Lead: stage 2: days must be a whole number, got '2'"),
        ({"Lead": [True]}, "Lead: stage 1: days must be a whole number, got True"),
        (
            {"Appt Booked": [1, 0]},
            "Appt Booked: has one point (days before the appointment), got 2 stages",
        ),
        ({"FC Booked": [1, 2]}, "FC Booked: has one point"),
        ({"Lead": "0,1"}, "Lead: stages must be a list of days, got '0,1'"),
    ],
)
def test_bad_rows_are_refused_with_the_reason(rows: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        DEFAULT_SCHEDULE.with_rows(rows)  # type: ignore[arg-type]
    assert reason in str(refused.value)


def test_every_problem_is_named_and_a_status_must_be_in_its_schedule() -> None:
    with pytest.raises(ValueError) as refused:
        FollowUpSchedule.parse(
            {
                "membership": {"PT Active": [1], "Lead": [-2]},
                "pt": {"Lead": [1]},
                "sales": {},
            }
        )
    message = str(refused.value)
    assert "unknown schedule 'sales'; use 'membership' or 'pt'" in message
    assert "PT Active: belongs to the PT schedule, not the membership schedule" in message
    assert "Lead: stage 1: days must be 0 or more, got -2" in message
    assert "Lead: belongs to the membership schedule, not the PT schedule" in message


def test_days_read_back_from_a_dynamodb_stream_image_as_decimals_are_accepted() -> None:
    # The registry function reads settings from stream images, where numbers are Decimal.
    parsed = FollowUpSchedule.parse({"membership": {"Lead": [Decimal("0"), Decimal("3"), 7.0]}})
    assert parsed.row(S.LEAD) == (0, 3, 7)
    assert all(type(days) is int for days in parsed.row(S.LEAD))
    with pytest.raises(ValueError, match="Lead: stage 2: days must be a whole number"):
        FollowUpSchedule.parse({"membership": {"Lead": [0, Decimal("1.5")]}})


def test_location_settings_refuse_a_bad_schedule_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="Referral: stage 3: days must be 0 or more"):
        LocationSettings.model_validate(
            {
                "location_id": "x",
                "club_number": "1",
                "time_zone": "America/Chicago",
                "follow_up_schedule": {"membership": {"Referral": [0, 1, -5]}},
            }
        )


def test_settings_keep_a_changed_schedule_through_json_and_stay_hashable() -> None:
    settings = LocationSettings(location_id="x", club_number="1", time_zone="America/Chicago")
    changed = settings.model_copy(
        update={"follow_up_schedule": settings.follow_up_schedule.with_rows({"Lead": [0, 3]})}
    )
    again = LocationSettings.model_validate(changed.model_dump(mode="json"))
    assert again == changed and again.follow_up_schedule.row(S.LEAD) == (0, 3)
    assert again.follow_up_schedule.row(S.WEB_LEAD) == DEFAULT_ROWS[S.WEB_LEAD]
    assert hash(again) == hash(changed) != hash(settings)


# -- channel -----------------------------------------------------------------------------------
def test_channel_text_then_email_then_call() -> None:
    both = ContactData(mobile_phone="5555550100", email="a@example.org")
    assert preferred_channel(both, OptIns(sms=True, email=True)) is Channel.TEXT
    assert preferred_channel(both, OptIns(email=True)) is Channel.EMAIL
    assert preferred_channel(both, OptIns()) is Channel.CALL
    # An SMS opt-in without a mobile number cannot be texted.
    home_only = ContactData(home_phone="5555550100", email="a@example.org")
    assert preferred_channel(home_only, OptIns(sms=True, email=True)) is Channel.EMAIL
