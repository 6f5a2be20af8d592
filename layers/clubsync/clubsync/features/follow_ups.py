"""Follow-ups: who is due for a call, email or text on a club-local day (docs/followups.md).

Each person's status is derived from what the syncs store (the person's status and kind, their
PT follow-up record, their calendar events) by the rules in domain/follow_up_rules.py; a track
per person (store/follow_ups.py) remembers when that status began and the contacts made in it.
`refresh` brings the tracks up to date (writing only the changed ones), `due_list` lists what is
due on a date, `store_due_list` keeps a day's list in the state table (the daily function), and
`record_contact` records a completed contact, which advances the stage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from clubsync.domain.activity import CalendarEvent, PtFollowUp
from clubsync.domain.follow_up_rules import (
    Appointment,
    CurrentStatus,
    membership_status,
    pt_status,
)
from clubsync.domain.follow_up_schedule import (
    APPOINTMENT_STATUSES,
    Channel,
    FollowUpTrack,
    ScheduleKind,
    advance_track,
    has_phone,
    preferred_channel,
)
from clubsync.domain.people import FollowUpStatus, Person, PersonKind
from clubsync.domain.settings import LocationSettings
from clubsync.store.entities import EntityRepository
from clubsync.store.follow_ups import DueListRepository, FollowUpRepository
from clubsync.store.records import (
    EVENT_DAY_PREFIX,
    EVENT_PREFIX,
    PT_FOLLOW_UP_PREFIX,
    RecordRepository,
)
from clubsync.store.state import StateRepository


class FollowUpError(ValueError):
    """A request that cannot be carried out as asked; the message says what to change."""


class DueEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: str
    name: str
    kind: PersonKind
    schedule: ScheduleKind
    status: FollowUpStatus
    stage: int
    due_on: date
    channel: Channel
    reason: str
    overdue: bool = False
    done: bool = False


class DueGroup(BaseModel):
    """The follow-ups of one follow-up person (None: nobody assigned)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    follow_up_person_id: str | None
    follow_up_person_name: str | None
    entries: tuple[DueEntry, ...]


class DueList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    location_id: str
    date: date
    groups: tuple[DueGroup, ...] = ()

    @property
    def entries(self) -> list[DueEntry]:
        return [entry for group in self.groups for entry in group.entries]


@dataclass(frozen=True)
class RefreshResult:
    tracks: dict[str, FollowUpTrack]
    people: dict[str, Person]
    written: int
    removed: int


def _local_day(moment: datetime | None, zone: ZoneInfo) -> date | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).date()


def local_today(settings: LocationSettings, now: datetime) -> date:
    return now.astimezone(settings.zone).date()


def current_status(
    person: Person,
    pt_record: PtFollowUp | None,
    appointments: Iterable[Appointment],
    zone: ZoneInfo,
    today: date,
) -> CurrentStatus | None:
    """The person's status now, by the rules in domain/follow_up_rules.py: prospects on the
    membership schedule, members (a sale made them one) on the PT schedule."""
    if person.kind is PersonKind.PROSPECT:
        since = _local_day(person.created_at, zone)
        return membership_status(person.follow_up_status, since, appointments, today)
    member_since = _local_day(person.converted_at, zone) or person.join_date
    return pt_status(
        person.follow_up_status,
        member_since or _local_day(person.created_at, zone),
        pt_record.status if pt_record else None,
        _local_day(pt_record.updated_at, zone) if pt_record else None,
        pt_record.status_reason if pt_record else None,
        appointments,
    )


def follow_up_person(person: Person, pt_record: PtFollowUp | None) -> str | None:
    """Prospects: their membership follow-up person. Members: their PT follow-up person, else
    the membership one (whoever sold the membership knows them)."""
    if person.kind is PersonKind.MEMBER and pt_record and pt_record.follow_up_person_id:
        return pt_record.follow_up_person_id
    return person.follow_up_person_id


def _name(person: Person | None) -> str:
    if person is None:
        return ""
    parts = (person.contact.first_name, person.contact.last_name)
    return " ".join(part for part in parts if part)


@dataclass
class NewDayLists:
    """What an hourly run did: the lists it stored, and the locations it left for the next
    run because its time ran out."""

    stored: dict[str, DueList] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)


@dataclass
class FollowUps:
    entities: EntityRepository
    state: StateRepository

    @property
    def tracks(self) -> FollowUpRepository:
        return FollowUpRepository(self.entities.table)

    @property
    def due_lists(self) -> DueListRepository:
        return DueListRepository(self.state.table)

    def location(self, location_id: str) -> LocationSettings:
        settings = self.state.get_location(location_id)
        if settings is None:
            raise FollowUpError(
                f"unknown location {location_id!r}: register it with `clubsync locations apply`"
            )
        return settings

    # -- tracks ------------------------------------------------------------------------------
    def refresh(self, settings: LocationSettings, today: date) -> RefreshResult:
        """Brings every track of the location up to date with the synced data as of the
        club-local `today`; writes only tracks that changed (a second run writes nothing)."""
        location_id = settings.location_id
        records = RecordRepository(self.entities.table)
        people = {p.person_id: p for p in self.entities.people(location_id)}
        pt_records = records.load(location_id, PT_FOLLOW_UP_PREFIX, PtFollowUp)
        appointments: dict[str, list[Appointment]] = defaultdict(list)
        # Events kept by day, and any the event sync has not moved from the old keys yet.
        events = [
            *records.load(location_id, EVENT_DAY_PREFIX, CalendarEvent).values(),
            *records.load(location_id, EVENT_PREFIX, CalendarEvent).values(),
        ]
        for event in events:
            appointments[event.person_id].append(
                Appointment(event.local_day, event.attended, event.kind.is_orientation)
            )
        existing = self.tracks.tracks(location_id)
        tracks: dict[str, FollowUpTrack] = {}
        changed: list[FollowUpTrack] = []
        for person_id, person in people.items():
            pt_record = pt_records.get(person_id)
            status = current_status(
                person, pt_record, appointments.get(person_id, ()), settings.zone, today
            )
            if status is None:
                continue
            track = advance_track(
                existing.get(person_id),
                person_id=person_id,
                location_id=location_id,
                current=status,
                follow_up_person_id=follow_up_person(person, pt_record),
                today=today,
            )
            tracks[person_id] = track
            if track != existing.get(person_id):
                changed.append(track)
        removed = [(location_id, person_id) for person_id in existing if person_id not in tracks]
        self.tracks.save(changed, removed)
        return RefreshResult(tracks, people, len(changed), len(removed))

    # -- the due list --------------------------------------------------------------------------
    def due_list(self, settings: LocationSettings, on: date, *, today: date) -> DueList:
        """What is due on the club-local date `on`: every follow-up whose date is `on` or
        earlier and not made yet (earlier ones are marked overdue: a later stage waits for the
        contact, so a missed one stays on the list). A contact recorded on `on` marks its entry
        done instead of removing it, so the day's list stays the same all day. Appt/FC Booked
        entries leave the list once the appointment day has passed."""
        refreshed = self.refresh(settings, today)
        schedule = settings.follow_up_schedule
        entries: dict[str | None, list[DueEntry]] = defaultdict(list)
        for track in refreshed.tracks.values():
            if track.ended_before_tracking(schedule):
                continue
            due = track.next_due(schedule, before=on)
            if due is None or due.on > on:
                continue
            past_appointment = track.appointment_on is not None and on > track.appointment_on
            if track.status in APPOINTMENT_STATUSES and past_appointment:
                continue
            person = refreshed.people[track.person_id]
            channel = preferred_channel(person.contact, person.opt_ins)
            reason = due.reason()
            if due.on < on:
                reason += f"; overdue since {due.on.isoformat()}"
            if channel is Channel.CALL and not has_phone(person.contact):
                reason += "; no phone number on file: ask for one"
            entries[track.follow_up_person_id].append(
                DueEntry(
                    person_id=track.person_id,
                    name=_name(person),
                    kind=person.kind,
                    schedule=track.schedule,
                    status=track.status,
                    stage=due.stage,
                    due_on=due.on,
                    channel=channel,
                    reason=reason,
                    overdue=due.on < on,
                    done=track.contact_on(on) is not None,
                )
            )
        names = self._employee_names(key for key in entries if key is not None)
        groups = [
            DueGroup(
                follow_up_person_id=key,
                follow_up_person_name=names.get(key) if key else None,
                entries=tuple(sorted(found, key=lambda e: (e.due_on, e.name, e.person_id))),
            )
            for key, found in entries.items()
        ]
        # Named people first (by name), then ids without a name, then the unassigned.
        groups.sort(
            key=lambda g: (
                g.follow_up_person_id is None,
                g.follow_up_person_name is None,
                g.follow_up_person_name or "",
                g.follow_up_person_id or "",
            )
        )
        return DueList(location_id=settings.location_id, date=on, groups=tuple(groups))

    def _employee_names(self, employee_ids: Iterable[str]) -> dict[str, str]:
        wanted = set(employee_ids)
        if not wanted:
            return {}
        found = RecordRepository(self.entities.table).employees(sorted(wanted))
        names = {
            eid: " ".join(filter(None, (e.contact.first_name, e.contact.last_name)))
            for eid, e in found.items()
        }
        return {eid: name for eid, name in names.items() if name}

    def store_due_list(
        self, location_id: str, local_date: date | None, now: datetime
    ) -> tuple[DueList, bool]:
        """The daily run: the due list of `local_date` (default: the club-local date at `now`)
        stored under `FOLLOWUPS_DUE#{date}`. Returns the list and whether it was written (the
        same list again writes nothing)."""
        settings = self.location(location_id)
        today = local_today(settings, now)
        due = self.due_list(settings, local_date or today, today=today)
        written = self.due_lists.put(location_id, due.date, due.model_dump(mode="json"))
        return due, written

    def store_new_day_lists(
        self, now: datetime, *, should_stop: Callable[[], bool] = lambda: False
    ) -> NewDayLists:
        """The hourly run: stores today's list of every location whose club-local day has no
        stored list yet, so each location gets its list within the hour after its midnight
        whatever its time zone, and an hour that failed is caught up by the next. A location
        whose list is stored is not touched again that day (the list is the record of the
        morning; `store_due_list` recomputes one on request).

        `should_stop` is asked before each location: when it says so (the Lambda's time is
        nearly up), the rest are left `pending` for the next run, never half-written."""
        result = NewDayLists()
        for settings in self.state.locations():
            today = local_today(settings, now)
            if self.due_lists.get(settings.location_id, today) is not None:
                continue
            if should_stop():
                result.pending.append(settings.location_id)
                continue
            due = self.due_list(settings, today, today=today)
            self.due_lists.put(settings.location_id, due.date, due.model_dump(mode="json"))
            result.stored[settings.location_id] = due
        return result

    # -- contacts ------------------------------------------------------------------------------
    def record_contact(
        self,
        location_id: str,
        person_id: str,
        now: datetime,
        *,
        on: date | None = None,
        channel: Channel | None = None,
        by: str | None = None,
    ) -> tuple[FollowUpTrack, bool]:
        """Records a completed contact (default: today, the person's preferred channel); the
        next stage counts from it. Returns the track and whether anything was written:
        recording the same day's contact again writes nothing."""
        settings = self.location(location_id)
        today = local_today(settings, now)
        on = on or today
        if on > today:
            raise FollowUpError(f"contact date {on.isoformat()} is after today ({today})")
        # Up to date first: a status changed by the last sync restarts the stages, and the
        # contact belongs to the new status.
        refreshed = self.refresh(settings, today)
        track = refreshed.tracks.get(person_id)
        if track is None:
            raise FollowUpError(
                f"{person_id} is not on a follow-up schedule at {location_id}: no such person, "
                "or the person has no follow-up status"
            )
        person = refreshed.people[person_id]
        try:
            updated = track.with_contact(
                on, channel or preferred_channel(person.contact, person.opt_ins), by
            )
        except ValueError as error:
            raise FollowUpError(str(error)) from error
        if updated == track:
            return track, False
        self.tracks.save([updated])
        return updated, True
