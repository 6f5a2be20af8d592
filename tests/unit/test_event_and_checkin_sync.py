"""Calendar events and check-ins (spec: "Calendar Events", "Check-ins"), over memory tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from clubsync.domain.activity import CalendarEvent, CheckIn, PtFollowUp
from clubsync.domain.people import FollowUpStatus
from clubsync.domain.runs import SyncKind, SyncType
from clubsync.domain.settings import EventKind, EventTypeMapping, LocationSettings, RetentionDays
from clubsync.resources.events import SKIP_DISABLED, SKIP_NO_MEMBER, SKIP_NO_OWNER, SKIP_NOT_MAPPED
from clubsync.store.entities import EntityRepository, location_pk
from clubsync.store.items import MemoryItemTable
from clubsync.store.records import (
    CHECKIN_DAY_PREFIX,
    EVENT_DAY_PREFIX,
    EVENT_PREFIX,
    PT_FOLLOW_UP_PREFIX,
    RecordRepository,
    record_item,
)
from clubsync.store.state import StateRepository
from tests.unit.sync_type_helpers import (
    NOW,
    checkin,
    employee,
    event,
    run_type,
    source_for,
    sync_members,
)


def prepare(settings: LocationSettings, entities: EntityRepository, state: StateRepository) -> None:
    sync_members(settings, entities, state, ("m1", "m2"))
    run_type(SyncType.EMPLOYEES, settings, entities, state, [employee("e1")])


def events_of(
    entities: EntityRepository, location: str = "springfield"
) -> dict[str, CalendarEvent]:
    return RecordRepository(entities.table).load_between(
        location, EVENT_DAY_PREFIX, date.min, None, CalendarEvent
    )


def follow_up(entities: EntityRepository) -> dict[str, PtFollowUp]:
    return RecordRepository(entities.table).load("springfield", PT_FOLLOW_UP_PREFIX, PtFollowUp)


def test_event_added_with_mapping_owner_and_member(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    prepare(settings, entities, state)
    run = run_type(SyncType.EVENTS, settings, entities, state, [event("v1")])
    assert run.counts.created == 1
    stored = events_of(entities)["v1"]
    assert stored.event_type == "PT Session"
    assert stored.kind is EventKind.PT
    assert stored.duration_minutes == 45
    assert stored.starts_at == datetime(2026, 11, 21, 16, 0, tzinfo=UTC)  # 10:00 Chicago


def test_event_whose_owner_or_member_is_missing_is_skipped_with_reason_in_run_record(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    prepare(settings, entities, state)
    run = run_type(
        SyncType.EVENTS,
        settings,
        entities,
        state,
        [event("v1", employee_id="nobody"), event("v2", member_id="stranger")],
    )
    assert run.counts.skipped == 2
    assert run.skip_reasons == {SKIP_NO_OWNER: 1, SKIP_NO_MEMBER: 1}
    assert state.runs("springfield", "events")[0].skip_reasons == run.skip_reasons
    assert events_of(entities) == {}


def test_event_type_not_mapped_or_disabled_is_skipped(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    settings = settings.model_copy(
        update={
            "event_types": (
                EventTypeMapping(
                    abc_event_name="PT Session", event_type="PT", kind=EventKind.PT, enabled=False
                ),
            )
        }
    )
    state.put_location(settings)
    prepare(settings, entities, state)
    run = run_type(
        SyncType.EVENTS,
        settings,
        entities,
        state,
        [event("v1"), event("v2", name="Group Cycling")],
    )
    assert run.skip_reasons == {SKIP_DISABLED: 1, SKIP_NOT_MAPPED: 1}


def test_event_mapping_is_exact_on_the_abc_event_name(settings: LocationSettings) -> None:
    assert settings.event_type_mapping("Orientation") is not None
    assert settings.event_type_mapping("orientation") is None


def test_event_creator_is_pt_follow_up_person_else_owner(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    prepare(settings, entities, state)
    people = {p.billing_member_id: p.person_id for p in entities.people("springfield")}
    entities.table.put(
        record_item(
            location_pk("springfield"),
            PT_FOLLOW_UP_PREFIX,
            people["m2"],
            "pt_follow_up",
            PtFollowUp(
                person_id=people["m2"], location_id="springfield", follow_up_person_id="coach"
            ),
        )
    )
    run_type(SyncType.EVENTS, settings, entities, state, [event("v1"), event("v2", member_id="m2")])
    stored = events_of(entities)
    assert stored["v1"].creator_employee_id == stored["v1"].owner_employee_id
    assert stored["v2"].creator_employee_id == "coach"


def test_booking_then_attending_an_orientation_updates_follow_up_status(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    prepare(settings, entities, state)
    run_type(SyncType.EVENTS, settings, entities, state, [event("v1", name="Orientation")])
    (record,) = follow_up(entities).values()
    assert record.status is FollowUpStatus.FC_BOOKED
    attended = event("v1", name="Orientation", attended="Attended")
    run_type(SyncType.EVENTS, settings, entities, state, [attended])
    (record,) = follow_up(entities).values()
    assert record.status is FollowUpStatus.PT_OPPORTUNITY


def test_checkin_confirms_attendance_of_the_members_event_that_day(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    prepare(settings, entities, state)
    run_type(SyncType.EVENTS, settings, entities, state, [event("v1", name="Orientation")])
    run = run_type(
        SyncType.CHECKINS,
        settings,
        entities,
        state,
        [checkin("c1"), checkin("c2", member_id="m2")],
    )
    assert run.skip_reasons == {"event attendance confirmed by check-in": 1}
    stored = events_of(entities)["v1"]
    assert stored.attended and stored.attendance_confirmed_by == "c1"
    (record,) = follow_up(entities).values()
    assert record.status is FollowUpStatus.PT_OPPORTUNITY
    # An event arriving after the check-in is confirmed by it too.
    run_type(SyncType.EVENTS, settings, entities, state, [event("v2", member_id="m2")])
    assert events_of(entities)["v2"].attendance_confirmed_by == "c2"


def test_checkin_window_starts_at_midnight_of_the_last_synced_day_in_club_time(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    # Never synced: midnight of the current day in Chicago (NOW is 21:00 on 11-21 there).
    source = source_for(SyncType.CHECKINS, settings, [])
    run_type(SyncType.CHECKINS, settings, entities, state, source)
    assert source.queries[0].start == datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    # Synced last at 21:00 on 11-21 (03:00 UTC 11-22): two days later the window still starts
    # at midnight of 11-21 in Chicago, not of the UTC day.
    later = NOW + timedelta(days=2)
    source = source_for(SyncType.CHECKINS, settings, [])
    run_type(SyncType.CHECKINS, settings, entities, state, source, now=later)
    assert source.queries[0].start == datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


def test_checkins_run_in_partial_syncs_and_are_stored_in_utc(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    sync_members(settings, entities, state, ("m1",))
    run = run_type(
        SyncType.CHECKINS, settings, entities, state, [checkin("c1")], kind=SyncKind.PARTIAL
    )
    assert run.counts.created == 1
    stored = RecordRepository(entities.table).load_between(
        "springfield", CHECKIN_DAY_PREFIX, date.min, None, CheckIn
    )["c1"]
    assert stored.checked_in_at == datetime(2026, 11, 21, 15, 55, tzinfo=UTC)
    assert stored.person_id is not None


def test_event_window_is_previous_current_and_next_month_in_club_time(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    source = source_for(SyncType.EVENTS, settings, [])
    run_type(SyncType.EVENTS, settings, entities, state, source)
    (query,) = source.queries
    assert query.start == datetime(2026, 10, 1, 5, 0, tzinfo=UTC)  # CDT
    assert query.end == datetime(2027, 1, 1, 6, 0, tzinfo=UTC) - timedelta(seconds=1)  # CST


def test_events_and_checkins_replay_writes_nothing(
    settings: LocationSettings,
    entities: EntityRepository,
    entity_table: MemoryItemTable,
    state: StateRepository,
) -> None:
    prepare(settings, entities, state)
    events = [event("v1", name="Orientation"), event("v2", attended="Attended")]
    checkins = [checkin("c1")]
    run_type(SyncType.EVENTS, settings, entities, state, events)
    run_type(SyncType.CHECKINS, settings, entities, state, checkins)
    entity_table.usage.reset()
    assert run_type(SyncType.EVENTS, settings, entities, state, events).counts.unchanged == 2
    assert run_type(SyncType.CHECKINS, settings, entities, state, checkins).counts.unchanged == 1
    assert entity_table.usage.items_written == 0


def test_a_checkin_sync_reads_the_days_of_its_window_not_the_history(
    settings: LocationSettings,
    entities: EntityRepository,
    entity_table: MemoryItemTable,
    state: StateRepository,
) -> None:
    prepare(settings, entities, state)
    # A year of stored check-ins before the window (11-21 in Chicago).
    history = [
        checkin(
            f"old{day}", when=f"{(date(2026, 11, 20) - timedelta(days=day)).isoformat()} 08:00:00"
        )
        for day in range(365)
    ]
    run_type(SyncType.CHECKINS, settings, entities, state, history, now=NOW - timedelta(days=1))
    entity_table.usage.reset()
    run = run_type(SyncType.CHECKINS, settings, entities, state, [checkin("c1")])
    assert run.counts.created == 1
    # The window's check-ins (none stored yet), the events of the check-in's day, the legacy
    # prefix (empty), the member's person by billing id: never the 365 stored check-ins.
    assert entity_table.usage.items_read <= 5


def test_checkins_expire_after_the_locations_retention(
    settings: LocationSettings,
    entities: EntityRepository,
    entity_table: MemoryItemTable,
    state: StateRepository,
) -> None:
    settings = settings.model_copy(update={"retention_days": RetentionDays(checkins=30)})
    sync_members(settings, entities, state, ("m1",))
    run_type(SyncType.CHECKINS, settings, entities, state, [checkin("c1")])
    (item,) = [i for i in entity_table.all_items() if i["sk"].startswith(CHECKIN_DAY_PREFIX)]
    assert item["sk"] == "CHECKINDAY#2026-11-21#c1"
    assert item["expires_at"] == int(datetime(2026, 12, 21, tzinfo=UTC).timestamp())


def test_records_kept_by_id_alone_move_to_day_keys_once(
    settings: LocationSettings,
    entities: EntityRepository,
    entity_table: MemoryItemTable,
    state: StateRepository,
) -> None:
    prepare(settings, entities, state)
    run_type(SyncType.EVENTS, settings, entities, state, [event("v1")])
    (stored,) = [i for i in entity_table.all_items() if i["sk"].startswith(EVENT_DAY_PREFIX)]
    # As an earlier version stored it.
    legacy = {k: v for k, v in stored.items() if k != "expires_at"} | {"sk": f"{EVENT_PREFIX}v1"}
    entity_table.batch_write([legacy], [(stored["pk"], stored["sk"])])
    entity_table.usage.reset()
    run = run_type(SyncType.EVENTS, settings, entities, state, [event("v1")])
    assert run.counts.unchanged == 1  # its hash moved with it
    keys = [i["sk"] for i in entity_table.all_items() if i["sk"].startswith(("EVENT", "EVENTDAY"))]
    assert keys == [stored["sk"]]
    assert entity_table.usage.items_written == 1 and entity_table.usage.items_deleted == 1


def test_an_event_moved_to_another_day_leaves_no_copy_on_the_old_day(
    settings: LocationSettings,
    entities: EntityRepository,
    entity_table: MemoryItemTable,
    state: StateRepository,
) -> None:
    prepare(settings, entities, state)
    run_type(SyncType.EVENTS, settings, entities, state, [event("v1")])
    run_type(SyncType.EVENTS, settings, entities, state, [event("v1", when="2026-11-24 10:00:00")])
    keys = [i["sk"] for i in entity_table.all_items() if i["sk"].startswith(EVENT_DAY_PREFIX)]
    assert keys == ["EVENTDAY#2026-11-24#v1"]
    assert events_of(entities)["v1"].local_day == date(2026, 11, 24)
