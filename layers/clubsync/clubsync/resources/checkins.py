"""The check-in sync type (spec: "Check-ins"): from midnight of the most recent day the
location was synced; a check-in confirms attendance of the member's calendar events that day.
Runs in partial syncs too (docs/decisions.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel

from clubsync.domain.activity import BillingCheckIn, CalendarEvent, CheckIn, confirms_attendance
from clubsync.domain.runs import SyncKind, SyncType
from clubsync.engine.sync_engine import Accepted, PageMerge
from clubsync.resources.events import apply_follow_up, events_by_member_day
from clubsync.resources.member_windows import checkin_window_start
from clubsync.resources.record_job import PtFollowUpBook, RecordJob
from clubsync.store.items import Item
from clubsync.store.records import (
    CHECKIN_DAY_PREFIX,
    CHECKIN_PREFIX,
    EVENT_DAY_PREFIX,
    day_record_item,
    model_of,
)


@dataclass
class CheckInJob(RecordJob):
    # The events of each club-local day a changed check-in fell on, read when first needed.
    _events: dict[str, CalendarEvent] = field(default_factory=dict, init=False)
    _event_hashes: dict[str, str] = field(default_factory=dict, init=False)
    _event_days: set[date] = field(default_factory=set, init=False)
    _book: PtFollowUpBook | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.sync_type = SyncType.CHECKINS
        self.prefix = CHECKIN_DAY_PREFIX
        self.legacy_prefix = CHECKIN_PREFIX
        self.retention_days = self.settings.retention_days.checkins

    def day_of_item(self, item: Item) -> date:
        return date.fromisoformat(item["local_day"])

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]:
        start = checkin_window_start(now=now, zone=self.settings.zone, last_success=last_success)
        return [self.window("since-last-synced-day", start=start)]

    def begin(self) -> None:
        super().begin()
        self._events, self._event_hashes, self._event_days = {}, {}, set()
        self._book = PtFollowUpBook(self.settings, self.records)

    def _read_events_of(self, days: set[date]) -> None:
        for day in sorted(days - self._event_days):
            found = self.records.items_between(self.location_id, EVENT_DAY_PREFIX, day, day)
            for record_id, item in found.items():
                self._events[record_id] = model_of(item, CalendarEvent)
                self._event_hashes[record_id] = item.get("source_hash", "")
            self._event_days.add(day)

    def merge_page(self, accepted: list[Accepted], now: datetime) -> PageMerge:
        assert self._book is not None
        merged = PageMerge()
        checkins: list[BillingCheckIn] = [record.value for record in accepted]
        people = self.people_by_billing_id(c.billing_member_id for c in checkins)
        self._read_events_of({checkin.local_day for checkin in checkins})
        by_day = events_by_member_day(self._events)
        for record in accepted:
            billing: BillingCheckIn = record.value
            member = billing.billing_member_id
            checkin = CheckIn(
                location_id=self.location_id,
                person_id=people.get(member) if member else None,
                **billing.model_dump(),
            )
            merged.count("created")
            if checkin.person_id is None:
                merged.reasons["check-in of a member not found"] += 1
            merged.commits.append(
                self.item(
                    checkin.checkin_id, "checkin", checkin, record.content_hash, checkin.local_day
                )
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
                    day_record_item(
                        self.location_id,
                        EVENT_DAY_PREFIX,
                        event.local_day,
                        key,
                        "event",
                        event,
                        retention_days=self.settings.retention_days.events,
                        source_hash=self._event_hashes.get(key),
                    )
                )
                apply_follow_up(self._book, event, now)
        merged.puts.extend(self._book.drain())
        return merged
