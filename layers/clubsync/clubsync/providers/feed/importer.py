"""A delivered file through the engine: every location of the club it covers, once.

A file is a snapshot, not a change list. Each location's rows run as an engine run of its sync
type (members or employees) over a stream of the file's rows, so the engine compares each row
with what the CRM holds (content hashes) and writes only differences; a member missing from the
file is not touched (nothing is ever deleted); a bad row is quarantined with its reason.

The ledger (state table, keyed by the file's content hash) makes a delivery import once however
often it arrives, and makes an interrupted import (a crash, Lambda's time) continue where it
stopped: the locations already done are skipped, the one in progress resumes from its engine
checkpoint (file and page of rows), the rest run.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from clubsync.domain.runs import RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.domain.windows import ActiveStatus, MemberQuery
from clubsync.engine.sync_engine import SyncEngine, SyncFailed, utc_now
from clubsync.providers.feed.mapping import FeedMap, FeedValues, FileKind
from clubsync.providers.feed.reader import FeedFileError, FileSummary, check_file, decode, kind_of
from clubsync.providers.feed.source import FeedEmployeeSource, FeedMemberSource
from clubsync.providers.feed.translate import RowTranslator
from clubsync.resources.employees import EmployeeJob
from clubsync.resources.members import MemberJob
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository

SYNC_TYPE_OF = {FileKind.MEMBERS: SyncType.MEMBERS, FileKind.EMPLOYEES: SyncType.EMPLOYEES}


class ImportStatus(StrEnum):
    IMPORTED = "imported"
    # This content was imported before (the same file delivered again): nothing ran.
    ALREADY_IMPORTED = "already_imported"
    # Out of time: the next invocation with the same file continues it.
    CONTINUED = "continued"


class FeedLocation(BaseModel):
    """A registered location a club's deliveries cover: its settings and the code its rows
    carry in the file's location column."""

    settings: LocationSettings
    location_code: str


class LedgerEntry(BaseModel):
    """What the state table remembers of one delivered content."""

    file_name: str
    kind: FileKind
    status: str = "in_progress"
    # location id -> the run that imported (or is importing) its rows.
    runs: dict[str, str] = {}
    done: list[str] = []
    first_seen: datetime
    finished_at: datetime | None = None


@dataclass
class FeedImport:
    """What one import did."""

    status: ImportStatus
    file_hash: str
    kind: FileKind | None = None
    runs: list[RunRecord] = field(default_factory=list)
    # Location codes in the file that no registered location of the club carries.
    unrouted: Counter[str] = field(default_factory=Counter)

    def counts(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for run in self.runs:
            total.update({k: v for k, v in run.counts.model_dump().items() if isinstance(v, int)})
        return dict(total)


class FeedBusy(Exception):
    """Another writer holds a location's lease; the delivery must be retried."""


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def map_fingerprint(feed_map: FeedMap, values: FeedValues) -> bytes:
    """What besides a row decides its translation: a changed map or club value re-merges."""
    return json.dumps(
        [feed_map.model_dump(mode="json"), values.model_dump(mode="json")], sort_keys=True
    ).encode()


@dataclass
class FeedMemberJob(MemberJob):
    """Members of one file: one query naming the file, every row of it active or not."""

    file_label: str = ""
    extra_fingerprint: bytes = b""

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]:
        return [MemberQuery(name=self.file_label, active_status=ActiveStatus.ALL)]

    def fingerprint(self) -> bytes:
        return super().fingerprint() + b"\0" + self.extra_fingerprint


@dataclass
class FeedEmployeeJob(EmployeeJob):
    file_label: str = ""
    extra_fingerprint: bytes = b""

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]:
        return [self.window(self.file_label)]

    def fingerprint(self) -> bytes:
        return super().fingerprint() + b"\0" + self.extra_fingerprint


@dataclass(frozen=True)
class CheckedFile:
    """A delivered file that matches its map: its text and what checking it found."""

    name: str
    content_hash: str
    text: str
    summary: FileSummary

    @property
    def kind(self) -> FileKind:
        return self.summary.file_map.kind


def checked_file(data: bytes, file_name: str, feed_map: FeedMap) -> CheckedFile:
    """Raises FeedFileError when the file cannot be imported with `feed_map`."""
    file_map = kind_of(file_name, feed_map)
    text = decode(data, feed_map, file_name)
    summary = check_file(text, feed_map, file_map, file_name)
    return CheckedFile(file_name, file_hash(data), text, summary)


def translator_of(
    checked: CheckedFile, feed_map: FeedMap, zone: ZoneInfo, values: FeedValues | None
) -> RowTranslator:
    return RowTranslator.of(feed_map, checked.summary.file_map, zone, values)


def interrupted_run(
    state: StateRepository, location_id: str, sync_type: SyncType, file_label: str
) -> str | None:
    """The run that was importing this file's rows for the location when it died (a crash,
    Lambda's hard timeout: the ledger never heard its run id), found by its checkpoint, whose
    one query names the file. Continuing it by its id skips the pages already merged and takes
    back its lease at once, instead of waiting for the lease to expire."""
    stored = state.checkpoint(location_id, sync_type)
    if stored is None:
        return None
    queries = stored.get("queries") or [{}]
    return str(stored["run_id"]) if queries[0].get("name") == file_label else None


def import_file(
    data: bytes,
    file_name: str,
    *,
    scope: str,
    feed_map: FeedMap,
    locations: Sequence[FeedLocation],
    entities: EntityRepository,
    state: StateRepository,
    values: FeedValues | None = None,
    clock: Callable[[], datetime] = utc_now,
    should_pause: Callable[[], bool] = lambda: False,
) -> FeedImport:
    """Imports one delivered file of the club `scope` names (provider#club) into each of its
    `locations`. Raises FeedFileError (nothing imported) for a file its map refuses, SyncFailed
    when a location's run fails (its ledger entry stays in progress: a redelivery, or a retry,
    continues it), FeedBusy when another writer holds a location's lease."""
    content_hash = file_hash(data)
    stored = state.feed_file(scope, content_hash)
    entry = LedgerEntry.model_validate(stored) if stored else None
    if entry is not None and entry.status == ImportStatus.IMPORTED.value:
        return FeedImport(ImportStatus.ALREADY_IMPORTED, content_hash, entry.kind)
    checked = checked_file(data, file_name, feed_map)
    result = FeedImport(ImportStatus.IMPORTED, content_hash, checked.kind)
    codes = {location.location_code for location in locations}
    result.unrouted = Counter(
        {code: n for code, n in checked.summary.by_location.items() if code not in codes}
    )
    if entry is None:
        entry = LedgerEntry(file_name=file_name, kind=checked.kind, first_seen=clock())
        state.put_feed_file(scope, content_hash, entry.model_dump(mode="json"))
    resolved_values = feed_map.values.merged(values)
    label = f"file {content_hash[:16]} ({checked.kind.value})"
    for location in sorted(locations, key=lambda found: found.settings.location_id):
        settings = location.settings
        if settings.location_id in entry.done:
            continue
        translator = translator_of(checked, feed_map, settings.zone, values)
        parts = (checked.text, feed_map, checked.summary, location.location_code, translator)
        extra = map_fingerprint(feed_map, resolved_values)
        job: MemberJob | EmployeeJob
        if checked.kind is FileKind.MEMBERS:
            job = FeedMemberJob(
                settings,
                FeedMemberSource(*parts),
                entities,
                state=state,
                file_label=label,
                extra_fingerprint=extra,
            )
        else:
            job = FeedEmployeeJob(
                settings,
                FeedEmployeeSource(*parts),
                entities,
                file_label=label,
                extra_fingerprint=extra,
            )
        engine = SyncEngine(
            settings=settings,
            job=job,
            entities=entities,
            state=state,
            clock=clock,
            should_pause=should_pause,
            checkpoint_each_page=True,
        )
        resume = entry.runs.get(settings.location_id) or interrupted_run(
            state, settings.location_id, SYNC_TYPE_OF[checked.kind], label
        )
        run = engine.run(SyncKind.FULL, clock(), resume_run_id=resume)
        result.runs.append(run)
        if run.status is RunStatus.SKIPPED_LOCKED:
            raise FeedBusy(f"location {settings.location_id!r}: {run.message}")
        entry.runs[settings.location_id] = run.run_id
        if run.status is RunStatus.CONTINUED:
            state.put_feed_file(scope, content_hash, entry.model_dump(mode="json"))
            result.status = ImportStatus.CONTINUED
            return result
        entry.done.append(settings.location_id)
        state.put_feed_file(scope, content_hash, entry.model_dump(mode="json"))
    entry.status = ImportStatus.IMPORTED.value
    entry.finished_at = clock()
    state.put_feed_file(scope, content_hash, entry.model_dump(mode="json"))
    return result


__all__ = [
    "FeedBusy",
    "FeedFileError",
    "FeedImport",
    "FeedLocation",
    "ImportStatus",
    "SyncFailed",
    "checked_file",
    "import_file",
]
