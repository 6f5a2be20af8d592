"""The part every non-member sync type shares on the engine: windows, the content-hash
index of its stored records, the billing-id -> person lookup, and the PT follow-up book."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from clubsync.domain.activity import PtFollowUp
from clubsync.domain.follow_up_rules import (
    PtSignal,
    status_after_agreement_ended,
    status_after_session_used,
    status_after_signal,
)
from clubsync.domain.runs import SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.domain.windows import Sweep, Window
from clubsync.engine.sync_engine import Accepted, PageMerge, content_hash
from clubsync.providers.base import RawRecord, RecordSource, SourcePage
from clubsync.store.entities import EntityRepository, location_pk
from clubsync.store.items import Item
from clubsync.store.records import (
    EXPIRES_AT,
    PT_FOLLOW_UP_PREFIX,
    RecordRepository,
    day_record_item,
    day_sort_key,
    expiry_epoch,
    record_item,
)

# Bump when a merge of these types changes meaning, so stored hashes are re-evaluated once.
RECORD_MERGE_VERSION = 1


@dataclass
class RecordJob:
    """Base of the non-member sync types. Subclasses set `sync_type`, `prefix`, the settings
    that shape the merge, and implement `queries` and `merge_page`.

    A day-keyed type (check-ins, events, POS) also sets `legacy_prefix` (where its records
    were kept by id alone), `retention_days` and `day_of_item`: it reads the hashes of its
    window's days only, and moves what it finds under the legacy prefix to day keys."""

    settings: LocationSettings
    source: RecordSource
    entities: EntityRepository
    sync_type: SyncType = field(init=False)
    prefix: str = field(init=False, default="")
    merge_settings: tuple[str, ...] = field(init=False, default=())
    legacy_prefix: str = field(init=False, default="")
    retention_days: int = field(init=False, default=0)
    _hashes: dict[str, str] = field(default_factory=dict, init=False)
    _people: dict[str, str | None] = field(default_factory=dict, init=False)
    # The club-local days each of the run's windows covers (None: up to the newest).
    _window_days: list[tuple[date, date | None]] = field(default_factory=list, init=False)

    @property
    def location_id(self) -> str:
        return self.settings.location_id

    @property
    def records(self) -> RecordRepository:
        return RecordRepository(self.entities.table)

    @property
    def request_count(self) -> int:
        return self.source.request_count

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]:
        raise NotImplementedError

    def window(
        self,
        name: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        sweep: Sweep = Sweep.OCCURRED,
    ) -> Window:
        """A window of this location (its zone); the provider's source makes it a request."""
        return Window(name=name, sweep=sweep, start=start, end=end, zone=self.settings.time_zone)

    def load_query(self, data: dict[str, Any]) -> BaseModel:
        """Every run's queries pass here (fresh or from a checkpoint), so the days its windows
        cover are known before `begin` reads the stored records."""
        if "range_param" in data:
            data = legacy_window(data, self.settings.time_zone)
        window = Window.model_validate(data)
        zone = self.settings.zone
        first = window.start.astimezone(zone).date() if window.start else date.min
        last = window.end.astimezone(zone).date() if window.end else None
        self._window_days.append((first, last))
        return window

    def window_days(self) -> tuple[date, date | None]:
        """The first and last club-local day of the run's windows (None: up to the newest)."""
        if not self._window_days:
            return date.min, None
        lasts = [last for _, last in self._window_days]
        first = min(first for first, _ in self._window_days)
        return first, None if None in lasts else max(last for last in lasts if last)

    def window_start(self, queries: Sequence[BaseModel]) -> datetime | None:
        starts = [q.start for q in queries if isinstance(q, Window) and q.start is not None]
        return min(starts) if starts else None

    def pages(self, query: BaseModel, start_page: int) -> Iterator[SourcePage]:
        assert isinstance(query, Window)
        return self.source.pages(query, start_page)

    def fingerprint(self) -> bytes:
        relevant = self.settings.model_dump(mode="json", include=set(self.merge_settings))
        return json.dumps(
            [self.sync_type.value, RECORD_MERGE_VERSION, relevant], sort_keys=True
        ).encode()

    def begin(self) -> None:
        if self.legacy_prefix:
            self.move_to_day_keys()
            first, last = self.window_days()
            self._hashes = self.records.hashes_between(self.location_id, self.prefix, first, last)
        else:
            self._hashes = self.records.hashes(self.location_id, self.prefix) if self.prefix else {}

    def day_of_item(self, item: Item) -> date:
        """The club-local day a stored record of this type belongs to (day-keyed types)."""
        raise NotImplementedError

    def day_item(
        self, record_id: str, day: date, entity: str, model: BaseModel, **extra: Any
    ) -> Item:
        return day_record_item(
            self.location_id,
            self.prefix,
            day,
            record_id,
            entity,
            model,
            retention_days=self.retention_days,
            **extra,
        )

    def move_to_day_keys(self) -> None:
        """Records stored before they were day-keyed move to their day key, once: the query of
        the legacy prefix finds nothing afterwards (one request a run). Replay-safe: the new
        item is written before the old one is deleted."""
        legacy = self.records.items(location_pk(self.location_id), self.legacy_prefix)
        if not legacy:
            return
        moved = []
        for item in legacy:
            record_id = item["sk"].removeprefix(self.legacy_prefix)
            day = self.day_of_item(item)
            moved.append(
                {
                    **item,
                    "sk": day_sort_key(self.prefix, day, record_id),
                    EXPIRES_AT: expiry_epoch(day, self.retention_days),
                }
            )
        self.entities.table.batch_write(moved)
        self.entities.table.batch_write(deletes=[(item["pk"], item["sk"]) for item in legacy])

    def prepare_page(self, records: Sequence[RawRecord]) -> None:
        """People are looked up for the records that changed, in `merge_page`."""

    def record_id(self, record: RawRecord) -> str | None:
        return self.source.record_id(record)

    def record_hash(self, fingerprint: bytes, record: RawRecord) -> str:
        return content_hash(fingerprint, self.source.content(record))

    def known_hash(self, record_id: str) -> str | None:
        return self._hashes.get(record_id)

    def translate(self, record: RawRecord) -> Any:
        return self.source.translate(record)

    def merge_page(self, accepted: list[Accepted], now: datetime) -> PageMerge:
        raise NotImplementedError

    def item(
        self,
        record_id: str,
        entity: str,
        model: BaseModel,
        source_hash: str,
        day: date | None = None,
    ) -> Item:
        """The item of a merged record; `day`: its club-local day, for day-keyed types."""
        self._hashes[record_id] = source_hash
        if self.legacy_prefix:
            assert day is not None, "a day-keyed record needs its day"
            return self.day_item(record_id, day, entity, model, source_hash=source_hash)
        return record_item(
            location_pk(self.location_id),
            self.prefix,
            record_id,
            entity,
            model,
            source_hash=source_hash,
        )

    def people_by_billing_id(self, billing_ids: Iterable[str | None]) -> dict[str, str]:
        """billing member id -> person id, for these ids: each looked up once per run in the
        by-billing-id index (half a read unit), so a run reads people for the records that
        changed only, never the location's whole person index."""
        for billing_id in sorted({b for b in billing_ids if b} - self._people.keys()):
            self._people[billing_id] = self.entities.person_of_billing_id(
                self.location_id, billing_id
            )
        return {billing_id: pid for billing_id, pid in self._people.items() if pid}


def legacy_window(data: dict[str, Any], zone: str) -> dict[str, Any]:
    """A checkpoint saved before windows held `RangeQuery(name, range_param, start, end)` with
    an ABC parameter name. A checkpoint lives one night at most, but a deploy during a paused
    run must not fail it: the only ABC range of a modification date was
    `lastModifiedTimestampRange` (service agreements' second sweep), every other range bounded
    when the record happened."""
    range_param = data.get("range_param") or ""
    sweep = Sweep.MODIFIED if range_param.startswith("lastModified") else Sweep.OCCURRED
    return {
        "name": data["name"],
        "sweep": sweep,
        "start": data.get("start"),
        "end": data.get("end"),
        "zone": zone,
    }


@dataclass
class PtFollowUpBook:
    """Members' PT follow-up records of one location, read once per run; every change goes
    through the rules in domain/follow_up_rules.py and is written with the page that made it."""

    settings: LocationSettings
    records: RecordRepository
    _book: dict[str, PtFollowUp] = field(default_factory=dict, init=False)
    _dirty: set[str] = field(default_factory=set, init=False)
    _loaded: bool = field(default=False, init=False)

    def _get(self, person_id: str) -> PtFollowUp:
        if not self._loaded:
            self._book = self.records.load(
                self.settings.location_id, PT_FOLLOW_UP_PREFIX, PtFollowUp
            )
            self._loaded = True
        found = self._book.get(person_id)
        if found is None:
            found = PtFollowUp(person_id=person_id, location_id=self.settings.location_id)
            self._book[person_id] = found
        return found

    def follow_up_person(self, person_id: str) -> str | None:
        return self._get(person_id).follow_up_person_id

    def _set(self, record: PtFollowUp, changed: PtFollowUp, now: datetime) -> None:
        if changed != record:
            changed = changed.model_copy(update={"updated_at": now})
            self._book[record.person_id] = changed
            self._dirty.add(record.person_id)

    def signal(self, person_id: str, signal: PtSignal, now: datetime) -> None:
        record = self._get(person_id)
        status = status_after_signal(record.status, signal)
        update: dict[str, Any] = {"status": status}
        if status != record.status:
            update["status_reason"] = signal.value
        self._set(record, record.model_copy(update=update), now)

    def credit_sessions(self, person_id: str, source_id: str, sessions: int, now: datetime) -> None:
        record = self._get(person_id)
        if record.session_credits.get(source_id) == sessions:
            return
        credits = {**record.session_credits, source_id: sessions}
        self._set(record, record.model_copy(update={"session_credits": credits}), now)

    def session_used(self, person_id: str, event_id: str, local_day: str, now: datetime) -> None:
        record = self._get(person_id)
        if event_id in record.session_debits:
            return
        before = record.session_balance
        changed = record.model_copy(
            update={"session_debits": {**record.session_debits, event_id: local_day}}
        )
        status = status_after_session_used(
            changed.status,
            has_active_agreement=bool(changed.active_agreements),
            balance_before=before,
            balance_after=changed.session_balance,
            opportunity_threshold=self.settings.pt_opportunity_session_threshold,
        )
        if status != changed.status:
            changed = changed.model_copy(
                update={"status": status, "status_reason": "session balance below threshold"}
            )
        self._set(record, changed, now)

    def agreement_state(
        self, person_id: str, agreement_id: str, active: bool, now: datetime
    ) -> None:
        record = self._get(person_id)
        held = set(record.active_agreements)
        if active:
            held.add(agreement_id)
        else:
            held.discard(agreement_id)
        changed = record.model_copy(update={"active_agreements": sorted(held)})
        if not active and agreement_id in record.active_agreements:
            status = status_after_agreement_ended(
                changed.status,
                has_active_agreement=bool(held),
                balance=changed.session_balance,
                last_session_day=changed.last_session_day,
                today=now.astimezone(self.settings.zone).date(),
                inactive_after_days=self.settings.pt_inactive_after_days,
            )
            if status != changed.status:
                changed = changed.model_copy(
                    update={"status": status, "status_reason": "PT agreement ended"}
                )
        self._set(record, changed, now)

    def drain(self) -> list[Item]:
        items = [
            record_item(
                location_pk(self.settings.location_id),
                PT_FOLLOW_UP_PREFIX,
                person_id,
                "pt_follow_up",
                self._book[person_id],
            )
            for person_id in sorted(self._dirty)
        ]
        self._dirty.clear()
        return items
