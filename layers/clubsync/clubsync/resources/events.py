"""The calendar event sync type (spec: "Calendar Events", "PT Follow-up and Opportunity Data").

PT and orientation (ORT/FA/FC) events of the previous, current and next month. An ABC event
name becomes a CRM event type through the location's mapping; an event is added only when both
its owner (an employee) and its attending member are found, each skip counted with its reason
in the run record. The creator is the member's PT follow-up person, else the owner. Events
created in the CRM are never sent to ABC (nothing here writes to billing).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel

from clubsync.domain.activity import BillingEvent, CalendarEvent, confirms_attendance
from clubsync.domain.follow_up_rules import PtSignal
from clubsync.domain.runs import SyncKind, SyncType
from clubsync.engine.sync_engine import Accepted, PageMerge
from clubsync.resources.employees import employee_refs
from clubsync.resources.member_windows import event_window
from clubsync.resources.record_job import PtFollowUpBook, RecordJob
from clubsync.store.entities import location_pk
from clubsync.store.items import Item
from clubsync.store.records import (
    CHECKIN_DAY_PREFIX,
    EVENT_DAY_PREFIX,
    EVENT_PREFIX,
    day_sort_key,
)

# What the event sync reads of a check-in: who checked in, under which id.
_CHECKIN_FIELDS = ("sk", "billing_member_id")

SKIP_NOT_MAPPED = "event type not mapped"
SKIP_DISABLED = "event type disabled"
SKIP_NO_OWNER = "event owner (employee) not found"
SKIP_NO_MEMBER = "event member not found"


def event_id_for(location_id: str, billing_event_id: str) -> str:
    return hashlib.sha256(f"abc|{location_id}|{billing_event_id}".encode()).hexdigest()[:24]


def apply_follow_up(book: PtFollowUpBook, event: CalendarEvent, now: datetime) -> None:
    """What an event means for the member's PT follow-up (rules: domain/follow_up_rules.py)."""
    if event.kind.is_orientation:
        signal = PtSignal.ORIENTATION_ATTENDED if event.attended else PtSignal.ORIENTATION_BOOKED
        book.signal(event.person_id, signal, now)
    elif event.attended:
        book.session_used(event.person_id, event.event_id, event.local_day.isoformat(), now)


@dataclass
class EventJob(RecordJob):
    _owners: dict[str, str] = field(default_factory=dict, init=False)
    _events: dict[str, CalendarEvent] = field(default_factory=dict, init=False)
    # (billing member id, club-local day) -> check-in id, for the days of changed events.
    _checkins: dict[tuple[str, str], str] = field(default_factory=dict, init=False)
    _checkin_days: set[date] = field(default_factory=set, init=False)
    _book: PtFollowUpBook | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.sync_type = SyncType.EVENTS
        self.prefix = EVENT_DAY_PREFIX
        self.legacy_prefix = EVENT_PREFIX
        self.retention_days = self.settings.retention_days.events
        self.merge_settings = ("event_types",)

    def day_of_item(self, item: Item) -> date:
        return date.fromisoformat(item["local_day"])

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]:
        start, end = event_window(now=now, zone=self.settings.zone)
        return [self.window("previous-current-next-month", start=start, end=end)]

    def begin(self) -> None:
        super().begin()
        self._owners = employee_refs(self.records, self.location_id)
        first, last = self.window_days()
        self._events = self.records.load_between(
            self.location_id, EVENT_DAY_PREFIX, first, last, CalendarEvent
        )
        self._checkins, self._checkin_days = {}, set()
        self._book = PtFollowUpBook(self.settings, self.records)

    def _mapped_with_owner(self, billing: BillingEvent) -> bool:
        mapping = self.settings.event_type_mapping(billing.event_name)
        return (
            mapping is not None
            and mapping.enabled
            and billing.billing_employee_id is not None
            and billing.billing_employee_id in self._owners
        )

    def _read_checkins_of(self, days: set[date]) -> None:
        for day in sorted(days - self._checkin_days):
            found = self.records.items_between(
                self.location_id, CHECKIN_DAY_PREFIX, day, day, _CHECKIN_FIELDS
            )
            for checkin_id, item in found.items():
                if item.get("billing_member_id"):
                    self._checkins[(item["billing_member_id"], day.isoformat())] = checkin_id
            self._checkin_days.add(day)

    @property
    def book(self) -> PtFollowUpBook:
        assert self._book is not None
        return self._book

    def merge_page(self, accepted: list[Accepted], now: datetime) -> PageMerge:
        merged = PageMerge()
        # Looked up for the events that pass the mapping and owner checks only: a skipped
        # event comes again every run (it is not stored), and must not cost reads each time.
        people = self.people_by_billing_id(
            attendee.billing_member_id
            for record in accepted
            if self._mapped_with_owner(record.value)
            for attendee in record.value.attendees
        )
        for record in accepted:
            billing: BillingEvent = record.value
            mapping = self.settings.event_type_mapping(billing.event_name)
            if mapping is None:
                merged.count("skipped", SKIP_NOT_MAPPED)
                continue
            if not mapping.enabled:
                merged.count("skipped", SKIP_DISABLED)
                continue
            owner = self._owners.get(billing.billing_employee_id or "")
            if owner is None:
                merged.count("skipped", SKIP_NO_OWNER)
                continue
            attendee = next((a for a in billing.attendees if a.billing_member_id in people), None)
            if attendee is None:
                merged.count("skipped", SKIP_NO_MEMBER)
                continue
            person_id = people[attendee.billing_member_id]
            existing = self._events.get(billing.billing_event_id)
            confirmed_by = existing.attendance_confirmed_by if existing else None
            event = CalendarEvent(
                event_id=event_id_for(self.location_id, billing.billing_event_id),
                location_id=self.location_id,
                billing_event_id=billing.billing_event_id,
                event_type=mapping.event_type,
                kind=mapping.kind,
                starts_at=billing.starts_at,
                local_day=billing.local_day,
                duration_minutes=billing.duration_minutes or mapping.default_duration_minutes,
                attendee_reminder_minutes=mapping.attendee_reminder_minutes,
                missed_event_status=mapping.missed_event_status,
                status=billing.status,
                owner_employee_id=owner,
                # Created by the member's PT follow-up person, else by the owner (spec).
                creator_employee_id=(
                    existing.creator_employee_id
                    if existing
                    else self.book.follow_up_person(person_id) or owner
                ),
                person_id=person_id,
                billing_member_id=attendee.billing_member_id,
                attended=bool(attendee.attended) or confirmed_by is not None,
                attendance_confirmed_by=confirmed_by,
            )
            self._read_checkins_of({billing.local_day})
            checkin = self._checkins.get(
                (attendee.billing_member_id, billing.local_day.isoformat())
            )
            if checkin and confirms_attendance(
                event, attendee.billing_member_id, billing.local_day
            ):
                event = event.model_copy(
                    update={"attended": True, "attendance_confirmed_by": checkin}
                )
            if existing == event:
                merged.count("unchanged")
            else:
                merged.count("updated" if existing else "created")
            if existing is not None and existing.local_day != event.local_day:
                # Moved to another day: its old item goes, or the day would keep a copy.
                merged.deletes.append(
                    (
                        location_pk(self.location_id),
                        day_sort_key(
                            EVENT_DAY_PREFIX, existing.local_day, billing.billing_event_id
                        ),
                    )
                )
            self._events[billing.billing_event_id] = event
            merged.commits.append(
                self.item(
                    billing.billing_event_id, "event", event, record.content_hash, event.local_day
                )
            )
            apply_follow_up(self.book, event, now)
        merged.puts.extend(self.book.drain())
        return merged


def events_by_member_day(events: dict[str, CalendarEvent]) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key, event in events.items():
        found[(event.billing_member_id, event.local_day.isoformat())].append(key)
    return found
