"""The check-in sync type (spec: "Check-ins"): from midnight of the most recent day the
location was synced; a check-in confirms attendance of the member's calendar events that day.
Runs in partial syncs too (docs/decisions.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from clubsync.domain.activity import BillingCheckIn, CalendarEvent, CheckIn, confirms_attendance
from clubsync.domain.runs import SyncKind, SyncType
from clubsync.engine.sync_engine import Accepted, PageMerge
from clubsync.resources.events import apply_follow_up, events_by_member_day
from clubsync.resources.member_windows import checkin_window_start
from clubsync.resources.record_job import PtFollowUpBook, RecordJob
from clubsync.store.entities import location_pk
from clubsync.store.records import CHECKIN_PREFIX, EVENT_PREFIX, record_item


@dataclass
class CheckInJob(RecordJob):
    _people: dict[str, str] = field(default_factory=dict, init=False)
    _events: dict[str, CalendarEvent] = field(default_factory=dict, init=False)
    _event_hashes: dict[str, str] = field(default_factory=dict, init=False)
    _book: PtFollowUpBook | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.sync_type = SyncType.CHECKINS
        self.prefix = CHECKIN_PREFIX

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]:
        start = checkin_window_start(now=now, zone=self.settings.zone, last_success=last_success)
        return [self.window("since-last-synced-day", start=start)]

    def begin(self) -> None:
        super().begin()
        self._people = self.people_by_billing_id()
        self._events = self.records.load(self.location_id, EVENT_PREFIX, CalendarEvent)
        self._event_hashes = self.records.hashes(self.location_id, EVENT_PREFIX)
        self._book = PtFollowUpBook(self.settings, self.records)

    def merge_page(self, accepted: list[Accepted], now: datetime) -> PageMerge:
        assert self._book is not None
        merged = PageMerge()
        by_day = events_by_member_day(self._events)
        for record in accepted:
            billing: BillingCheckIn = record.value
            member = billing.billing_member_id
            checkin = CheckIn(
                location_id=self.location_id,
                person_id=self._people.get(member) if member else None,
                **billing.model_dump(),
            )
            merged.count("created")
            if checkin.person_id is None:
                merged.reasons["check-in of a member not found"] += 1
            merged.commits.append(
                self.item(checkin.checkin_id, "checkin", checkin, record.content_hash)
            )
            for key in by_day.get((member or "", checkin.local_day.isoformat()), []):
                event = self._events[key]
                if not confirms_attendance(event, member, checkin.local_day):
                    continue
                event = event.model_copy(
                    update={"attended": True, "attendance_confirmed_by": checkin.checkin_id}
                )
                self._events[key] = event
                merged.reasons["event attendance confirmed by check-in"] += 1
                # The event keeps the hash of the billing record it came from.
                merged.puts.append(
                    record_item(
                        location_pk(self.location_id),
                        EVENT_PREFIX,
                        key,
                        "event",
                        event,
                        source_hash=self._event_hashes.get(key),
                    )
                )
                apply_follow_up(self._book, event, now)
        merged.puts.extend(self._book.drain())
        return merged
