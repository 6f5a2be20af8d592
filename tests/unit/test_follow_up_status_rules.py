"""Follow-up status transitions: the rules of domain/follow_up_rules.py, then each transition
driven end to end by what the syncs store (member, event, check-in, POS, service agreement
syncs over memory tables), as the follow-up tracks see it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from clubsync.domain.follow_up_rules import (
    STARTING_STATUS_BY_SOURCE,
    Appointment,
    CurrentStatus,
    membership_status,
    pt_status,
    starting_status,
    status_after_membership_sale,
    status_after_visit,
)
from clubsync.domain.follow_up_schedule import FollowUpTrack, ScheduleKind
from clubsync.domain.people import ContactData, FollowUpStatus, Person, PersonKind
from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.features.follow_ups import FollowUps, follow_up_person
from clubsync.features.prospect_intake import _FOLLOW_UP_BY_SOURCE
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository
from tests.unit.sync_type_helpers import (
    NOW,
    checkin,
    employee,
    event,
    pos,
    pos_item,
    run_type,
    service,
    sync_members,
)

S = FollowUpStatus
TODAY = date(2026, 11, 21)  # NOW is 21:00 on 2026-11-21 in Chicago


# -- the rules ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "status"),
    [
        ("web_lead", S.WEB_LEAD),
        ("referral", S.REFERRAL),
        ("dgw", S.ACTIVE_GUEST),
        ("staff", S.LEAD),
    ],
)
def test_how_the_lead_was_acquired_sets_the_starting_status(
    source: str, status: FollowUpStatus
) -> None:
    assert starting_status(source) is status


def test_intake_uses_the_one_rule_and_unknown_sources_are_refused() -> None:
    assert _FOLLOW_UP_BY_SOURCE is STARTING_STATUS_BY_SOURCE
    with pytest.raises(ValueError, match="unknown lead source 'flyer'; known: web_lead"):
        starting_status("flyer")


def test_visit_outcome_and_membership_sale() -> None:
    assert status_after_visit(True) is S.ACTIVE_GUEST
    assert status_after_visit(False) is S.MISSED_GUEST
    assert status_after_membership_sale(S.APPT_BOOKED) is S.NEW_MEMBER
    assert status_after_membership_sale(None) is S.NEW_MEMBER
    assert status_after_membership_sale(S.PT_ACTIVE) is S.PT_ACTIVE


def status_of(current: CurrentStatus | None) -> FollowUpStatus | None:
    return current.status if current else None


def test_membership_status_from_appointments() -> None:
    since = date(2026, 11, 10)
    assert membership_status(S.WEB_LEAD, since, [], TODAY) == CurrentStatus(
        S.WEB_LEAD, since, "lead source"
    )
    ahead = Appointment(date(2026, 11, 25), attended=False)
    assert membership_status(S.WEB_LEAD, since, [ahead], TODAY) == CurrentStatus(
        S.APPT_BOOKED, None, "appointment booked", date(2026, 11, 25)
    )
    today = Appointment(TODAY, attended=False)
    assert status_of(membership_status(S.WEB_LEAD, since, [today], TODAY)) is S.APPT_BOOKED
    missed = membership_status(S.WEB_LEAD, since, [today], TODAY + timedelta(days=1))
    assert missed == CurrentStatus(
        S.MISSED_GUEST, TODAY + timedelta(days=1), "missed the appointment"
    )
    attended = Appointment(TODAY, attended=True)
    assert membership_status(S.MISSED_GUEST, since, [attended], TODAY) == CurrentStatus(
        S.ACTIVE_GUEST, TODAY, "attended the appointment"
    )
    # An appointment older than the stored status does not override it.
    old = Appointment(date(2026, 11, 1), attended=False)
    assert status_of(membership_status(S.REFERRAL, since, [old], TODAY)) is S.REFERRAL
    # A prospect without a membership status is not on the membership schedule.
    assert membership_status(None, since, [], TODAY) is None
    assert membership_status(S.NEW_MEMBER, since, [], TODAY) is None


def test_pt_status_from_the_pt_record() -> None:
    joined = date(2026, 11, 1)
    assert pt_status(S.NEW_MEMBER, joined, None, None, None) == CurrentStatus(
        S.NEW_MEMBER, joined, "membership sold"
    )
    active = pt_status(S.NEW_MEMBER, joined, S.PT_ACTIVE, TODAY, "PT purchased")
    assert active == CurrentStatus(S.PT_ACTIVE, TODAY, "PT purchased")
    orientations = [
        Appointment(date(2026, 11, 20), attended=False, orientation=True),
        Appointment(date(2026, 11, 24), attended=False, orientation=True),
        Appointment(date(2026, 11, 23), attended=False, orientation=False),  # a PT session
    ]
    booked = pt_status(S.NEW_MEMBER, joined, S.FC_BOOKED, TODAY, "booked", orientations)
    assert booked.appointment_on == date(2026, 11, 24)


# -- transitions from synced data ---------------------------------------------------------------
@pytest.fixture
def follow_ups(entities: EntityRepository, state: StateRepository) -> FollowUps:
    return FollowUps(entities, state)


def tracks(
    follow_ups: FollowUps, settings: LocationSettings, today: date = TODAY
) -> dict[str, FollowUpTrack]:
    return follow_ups.refresh(settings, today).tracks


def add_prospect(
    entities: EntityRepository, person_id: str, status: FollowUpStatus, billing_id: str | None
) -> None:
    entities.save(
        [
            Person(
                person_id=person_id,
                location_id="springfield",
                kind=PersonKind.PROSPECT,
                follow_up_status=status,
                contact=ContactData(first_name="Pat", last_name="Prospect"),
                billing_member_id=billing_id,
                follow_up_person_id="e-sales",
                created_at=datetime(2026, 11, 18, 15, 0, tzinfo=UTC),
            )
        ]
    )


def test_a_prospect_starts_in_its_lead_status_then_appt_booked_then_active_guest(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    follow_ups: FollowUps,
) -> None:
    add_prospect(entities, "p1", S.WEB_LEAD, "b-p1")
    run_type(SyncType.EMPLOYEES, settings, entities, state, [employee("e1")])
    track = tracks(follow_ups, settings)["p1"]
    assert (track.schedule, track.status, track.entered_on) == (
        ScheduleKind.MEMBERSHIP,
        S.WEB_LEAD,
        date(2026, 11, 18),
    )
    assert track.follow_up_person_id == "e-sales"
    # The event sync stores an appointment on the 24th: Appt Booked, counted back from it.
    booked = event("v1", name="Orientation", member_id="b-p1", when="2026-11-24 10:00:00")
    run_type(SyncType.EVENTS, settings, entities, state, [booked])
    track = tracks(follow_ups, settings)["p1"]
    assert (track.status, track.appointment_on, track.contacts) == (
        S.APPT_BOOKED,
        date(2026, 11, 24),
        (),
    )
    # A check-in on the day confirms attendance: Active Guest from that day.
    later = NOW + timedelta(days=3)
    visit = checkin("c1", member_id="b-p1", when="2026-11-24 09:50:00")
    run_type(SyncType.CHECKINS, settings, entities, state, [visit], now=later)
    track = tracks(follow_ups, settings, date(2026, 11, 24))["p1"]
    assert (track.status, track.entered_on) == (S.ACTIVE_GUEST, date(2026, 11, 24))


def test_an_appointment_that_passes_unattended_makes_a_missed_guest(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    follow_ups: FollowUps,
) -> None:
    add_prospect(entities, "p1", S.REFERRAL, "b-p1")
    run_type(SyncType.EMPLOYEES, settings, entities, state, [employee("e1")])
    booked = event("v1", name="PT Session", member_id="b-p1", when="2026-11-22 10:00:00")
    run_type(SyncType.EVENTS, settings, entities, state, [booked])
    assert tracks(follow_ups, settings)["p1"].status is S.APPT_BOOKED
    assert tracks(follow_ups, settings, date(2026, 11, 22))["p1"].status is S.APPT_BOOKED
    track = tracks(follow_ups, settings, date(2026, 11, 23))["p1"]
    assert (track.status, track.entered_on) == (S.MISSED_GUEST, date(2026, 11, 23))


def test_a_membership_sale_converts_the_prospect_to_the_pt_schedule(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    follow_ups: FollowUps,
) -> None:
    add_prospect(entities, "p1", S.ACTIVE_GUEST, "m1")
    assert tracks(follow_ups, settings)["p1"].schedule is ScheduleKind.MEMBERSHIP
    sync_members(settings, entities, state, ("m1",))
    (person,) = entities.people("springfield")
    assert (person.kind, person.follow_up_status) == (PersonKind.MEMBER, S.NEW_MEMBER)
    track = tracks(follow_ups, settings)[person.person_id]
    assert (track.schedule, track.status, track.entered_on) == (
        ScheduleKind.PT,
        S.NEW_MEMBER,
        TODAY,  # converted at NOW, 21:00 club time
    )


def test_pt_events_purchases_and_balances_move_members_between_pt_statuses(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    follow_ups: FollowUps,
) -> None:
    sync_members(settings, entities, state, ("m1",))
    run_type(SyncType.EMPLOYEES, settings, entities, state, [employee("e1")])
    (member,) = entities.people("springfield")
    pid = member.person_id
    assert tracks(follow_ups, settings)[pid].status is S.NEW_MEMBER

    # Orientation booked for the 25th: FC Booked with its date.
    run_type(
        SyncType.EVENTS,
        settings,
        entities,
        state,
        [event("o1", name="Orientation", when="2026-11-25 10:00:00")],
    )
    track = tracks(follow_ups, settings)[pid]
    assert (track.status, track.appointment_on) == (S.FC_BOOKED, date(2026, 11, 25))
    # Attended: PT Opportunity.
    run_type(
        SyncType.EVENTS,
        settings,
        entities,
        state,
        [event("o1", name="Orientation", when="2026-11-25 10:00:00", attended="Attended")],
    )
    assert tracks(follow_ups, settings)[pid].status is S.PT_OPPORTUNITY
    # A PT pack bought at the POS (a PT agreement is active): PT Active.
    run_type(SyncType.SERVICE_AGREEMENTS, settings, entities, state, [service("s1")])
    pack = pos_item("i1", "PT 2 Pack", "Personal Training", packageQuantity="2")
    run_type(SyncType.POS, settings, entities, state, [pos("t1", [pack])])
    track = tracks(follow_ups, settings)[pid]
    assert (track.status, track.status_reason) == (S.PT_ACTIVE, "PT purchased")
    # A session attended takes the balance below the threshold (2): PT Opportunity again,
    # a new status, so its stages restart.
    run_type(SyncType.EVENTS, settings, entities, state, [event("v1", attended="Attended")])
    track = tracks(follow_ups, settings)[pid]
    assert (track.status, track.contacts) == (S.PT_OPPORTUNITY, ())
    assert track.status_reason == "session balance below threshold"


def test_a_pt_agreement_ending_with_no_sessions_lapses_to_pt_inactive(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    follow_ups: FollowUps,
) -> None:
    sync_members(settings, entities, state, ("m1",))
    run_type(SyncType.SERVICE_AGREEMENTS, settings, entities, state, [service("s1")])
    (member,) = entities.people("springfield")
    assert tracks(follow_ups, settings)[member.person_id].status is S.PT_ACTIVE
    ended = [service("s1", status="Inactive")]
    run_type(SyncType.SERVICE_AGREEMENTS, settings, entities, state, ended, now=NOW + timedelta(1))
    track = tracks(follow_ups, settings, TODAY + timedelta(days=1))[member.person_id]
    assert (track.status, track.entered_on) == (S.PT_INACTIVE, TODAY + timedelta(days=1))


def test_members_are_followed_by_their_pt_follow_up_person() -> None:
    from clubsync.domain.activity import PtFollowUp

    member = Person(
        person_id="m",
        location_id="l",
        kind=PersonKind.MEMBER,
        follow_up_person_id="sales",
    )
    assert follow_up_person(member, None) == "sales"
    record = PtFollowUp(person_id="m", location_id="l", follow_up_person_id="coach")
    assert follow_up_person(member, record) == "coach"
    prospect = member.model_copy(update={"kind": PersonKind.PROSPECT})
    assert follow_up_person(prospect, record) == "sales"
