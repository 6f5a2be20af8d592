"""The sync engine every sync type runs on: window -> pages -> translate -> merge -> write.

One writer per location and sync type (a lease, renewed as pages go by), nothing missed (the
watermark moves only after every page is stored), nothing lost (bad records are quarantined with
their reason and released once a valid version arrives), nothing written twice (content hashes
and deterministic keys), and resumable (a checkpoint when a run pauses, or after every page
where asked, continued by run id).

What differs between sync types sits behind `SyncJob`: which queries a run makes, how a raw
record is identified, hashed and translated, and how a page of translated records merges into
items of the entities table. The engine owns everything else.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.runs import RunCounts, RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.providers.base import InvalidRecord, RawRecord, SourceError, SourcePage
from clubsync.store.entities import EntityRepository
from clubsync.store.items import Item, Key
from clubsync.store.state import LeaseHeld, QuarantinedRecord, StateRepository

LEASE_TTL = timedelta(minutes=15)
# A record without an id is quarantined under this prefix and its content hash.
UNIDENTIFIED_PREFIX = "unidentified-"


def utc_now() -> datetime:
    return datetime.now(UTC)


def content_hash(fingerprint: bytes, record_content: bytes) -> str:
    """The hash stored with what a record produced; equal hash, nothing to merge."""
    return hashlib.sha256(fingerprint + b"\0" + record_content).hexdigest()[:32]


class SyncFailed(Exception):
    """The sync stopped without finishing; its run record says why. The watermark did not move."""

    def __init__(self, run: RunRecord) -> None:
        super().__init__(run.message)
        self.run = run


@dataclass(frozen=True)
class Accepted:
    """A record of a page that translated and needs merging."""

    record_id: str
    content_hash: str
    value: Any
    raw: RawRecord


@dataclass
class PageMerge:
    """What a page merge decided: items to put in the entities table, counts and reasons.

    `commits` are the items that say a billing record is merged: they carry its content hash,
    the one `SyncJob.known_hash` reads to skip the record next time. The engine writes them
    only after every item of `puts` is stored, so a crash in between (a kill, Lambda's timeout,
    a DynamoDB error past its retries) leaves the record unmerged, and the next run merges it
    again instead of skipping it as unchanged with its dependants missing.

    `intents` are written before everything else: they make what the page is about to write
    reachable from the items that will own it (a person learns the keys of the agreements the
    page creates for it), so a crash can leave nothing that no later merge would find."""

    intents: list[Item] = field(default_factory=list)
    puts: list[Item] = field(default_factory=list)
    # Items the page replaces under another key (an event moved to another day), deleted
    # with `puts`: before the commit, so a crash leaves the record to merge again.
    deletes: list[Key] = field(default_factory=list)
    commits: list[Item] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    def count(self, outcome: str, reason: str = "") -> None:
        self.counts[outcome] += 1
        if reason:
            self.reasons[reason] += 1


class SyncJob(Protocol):
    """One sync type on the engine. An instance serves one run of one location."""

    sync_type: SyncType

    @property
    def request_count(self) -> int: ...

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]: ...

    def load_query(self, data: dict[str, Any]) -> BaseModel:
        """A query saved in a checkpoint, read back."""
        ...

    def window_start(self, queries: Sequence[BaseModel]) -> datetime | None: ...

    def pages(self, query: BaseModel, start_page: int) -> Iterator[SourcePage]: ...

    def fingerprint(self) -> bytes:
        """What besides the record decides the merge (a version, relevant settings)."""
        ...

    def begin(self) -> None:
        """Reads the indexes a run needs, once per run (and once per continuation)."""
        ...

    def prepare_page(self, records: Sequence[RawRecord]) -> None:
        """Reads what checking this page's records needs that `begin` did not read (a partial
        member sync looks its people up by billing id). Most jobs need nothing here."""
        ...

    def record_id(self, record: RawRecord) -> str | None: ...

    def record_hash(self, fingerprint: bytes, record: RawRecord) -> str:
        """The content hash of a record (`content_hash` of the fingerprint and what of the
        record decides its merge): equal to `known_hash`, the record is skipped."""
        ...

    def known_hash(self, record_id: str) -> str | None:
        """The content hash last merged for this record id, if any."""
        ...

    def translate(self, record: RawRecord) -> Any:
        """Raises InvalidRecord with a reason a person can act on."""
        ...

    def merge_page(self, accepted: list[Accepted], now: datetime) -> PageMerge: ...


class Checkpoint(BaseModel):
    """Where an unfinished sync continues: the same queries, from the next page."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    kind: SyncKind
    scheduled_time: datetime
    started_at: datetime
    queries: list[dict[str, Any]]
    query_index: int = 0
    next_page: int = 1
    counts: RunCounts = Field(default_factory=RunCounts)
    billing_requests: int = 0
    skip_reasons: dict[str, int] = Field(default_factory=dict)
    # Quarantine ids of the records without an id this run received (see _release_unseen).
    unidentified_seen: list[str] = Field(default_factory=list)


@dataclass
class SyncEngine:
    settings: LocationSettings
    job: SyncJob
    entities: EntityRepository
    state: StateRepository
    clock: Callable[[], datetime] = utc_now
    # Asked after each page; True makes the job save a checkpoint and stop (Lambda time).
    should_pause: Callable[[], bool] = lambda: False
    lease_ttl: timedelta = LEASE_TTL
    on_page: Callable[[RunCounts], None] | None = None
    # Saves the checkpoint after every page, not only on a pause, so a run killed between
    # pages (a crash, Lambda's hard timeout) is continued by its run id instead of starting
    # over: one state write per page, worth it where a page is cheap to fetch again but the
    # whole source is large (a delivered file).
    checkpoint_each_page: bool = False
    _requests_at_start: int = field(default=0, init=False)
    _lease_renewed_at: datetime | None = field(default=None, init=False)
    _had_checkpoint: bool = field(default=False, init=False)
    _queries: list[BaseModel] = field(default_factory=list, init=False)
    _quarantine: dict[str, str] = field(default_factory=dict, init=False)

    @property
    def location_id(self) -> str:
        return self.settings.location_id

    @property
    def sync_type(self) -> SyncType:
        return self.job.sync_type

    def run(
        self, kind: SyncKind, scheduled_time: datetime, *, resume_run_id: str | None = None
    ) -> RunRecord:
        """Runs (or, with `resume_run_id`, continues) one sync; returns its run record.

        Raises SyncFailed after recording a failed run (billing unreadable, silent rejection,
        lease lost), so a scheduler can retry."""
        checkpoint = self._checkpoint_to_resume(resume_run_id)
        self._had_checkpoint = checkpoint is not None
        now = self.clock()
        if checkpoint is None:
            queries = self.job.queries(
                kind,
                now=scheduled_time,
                last_success=self.state.watermark(self.location_id, self.sync_type),
            )
            checkpoint = Checkpoint(
                run_id=uuid.uuid4().hex,
                kind=kind,
                scheduled_time=scheduled_time,
                started_at=now,
                queries=[query.model_dump(mode="json") for query in queries],
            )
        self._queries = [self.job.load_query(query) for query in checkpoint.queries]
        try:
            self.state.acquire_lease(
                self.location_id, self.sync_type, checkpoint.run_id, now, self.lease_ttl
            )
            self._lease_renewed_at = now
        except LeaseHeld as held:
            run = self._run_record(checkpoint, RunStatus.SKIPPED_LOCKED, message=str(held))
            self.state.put_run(run)
            return run
        self._requests_at_start = self.job.request_count
        try:
            return self._run_pages(checkpoint)
        except (SourceError, LeaseHeld) as error:
            raise SyncFailed(self._fail(checkpoint, str(error))) from error
        except Exception as error:
            # Anything else (a DynamoDB error past its retries, a bug) is recorded the same
            # way and raised as it is, so its traceback reaches the logs and the alarm.
            self._fail(checkpoint, f"{type(error).__name__}: {error}")
            raise

    def ingest(
        self, records: Sequence[RawRecord], received_at: datetime, *, message: str = ""
    ) -> RunRecord:
        """Runs a batch of pushed records (a webhook delivery) through the same path as a pulled
        page: translate -> quarantine -> merge -> write, under the lease, with a run record of
        kind `push` (`message`: what was delivered, ids only). Returns the run record.

        A push is not a window: the watermark and the checkpoint are left alone (only a pull
        moves them), and quarantined records without an id are released by full pulls only.
        Another writer holding the lease answers SKIPPED_LOCKED with nothing written: the
        caller asks the sender to redeliver. Applying is replay-safe (deterministic keys,
        content hashes), so a caller that remembers delivery ids records one after this
        returns: a crash in between makes the redelivery apply again and write nothing.

        Raises SyncFailed (or the error itself, as `run` does) after recording a failed run."""
        now = self.clock()
        checkpoint = Checkpoint(
            run_id=uuid.uuid4().hex,
            kind=SyncKind.PUSH,
            scheduled_time=received_at,
            started_at=now,
            queries=[],
        )
        self._queries = []
        try:
            self.state.acquire_lease(
                self.location_id, self.sync_type, checkpoint.run_id, now, self.lease_ttl
            )
        except LeaseHeld as held:
            run = self._run_record(checkpoint, RunStatus.SKIPPED_LOCKED, message=str(held))
            self.state.put_run(run)
            return run
        self._requests_at_start = self.job.request_count
        try:
            self.job.begin()
            self._quarantine = self.state.quarantine_index(self.location_id, self.sync_type)
            page = SourcePage(number=1, next_page=None, records=list(records))
            counts, reasons = self._process_page(page, self._quarantine, checkpoint)
            checkpoint.counts = counts
            checkpoint.skip_reasons = dict(reasons)
            checkpoint.billing_requests += self.job.request_count - self._requests_at_start
            # Counted: a failure storing the run record must not count them again in _fail.
            self._requests_at_start = self.job.request_count
            run = self._run_record(checkpoint, RunStatus.SUCCEEDED, message=message)
            self.state.put_run(run)
        except (SourceError, LeaseHeld) as error:
            raise SyncFailed(self._fail(checkpoint, str(error))) from error
        except Exception as error:
            self._fail(checkpoint, f"{type(error).__name__}: {error}")
            raise
        self.state.release_lease(self.location_id, self.sync_type, checkpoint.run_id)
        return run

    def _fail(self, checkpoint: Checkpoint, reason: str) -> RunRecord:
        """Records a failed run and releases the lease; the watermark stays where it was, and
        the checkpoint too (a continuation of this run may still finish it)."""
        checkpoint.billing_requests += self.job.request_count - self._requests_at_start
        run = self._run_record(checkpoint, RunStatus.FAILED, message=reason)
        run.errors.append(reason)
        try:
            self.state.put_run(run)
        finally:
            # The store that failed the run may fail this too: the lease then expires by itself.
            with contextlib.suppress(Exception):
                self.state.release_lease(self.location_id, self.sync_type, checkpoint.run_id)
        return run

    def _checkpoint_to_resume(self, resume_run_id: str | None) -> Checkpoint | None:
        if resume_run_id is None:
            return None
        stored = self.state.checkpoint(self.location_id, self.sync_type)
        if stored is None:
            return None
        checkpoint = Checkpoint.model_validate(stored)
        return checkpoint if checkpoint.run_id == resume_run_id else None

    def _run_pages(self, checkpoint: Checkpoint) -> RunRecord:
        self.job.begin()
        quarantine = self.state.quarantine_index(self.location_id, self.sync_type)
        self._quarantine = quarantine
        while checkpoint.query_index < len(self._queries):
            current = checkpoint.query_index
            pages = self.job.pages(self._queries[current], checkpoint.next_page)
            # Nothing to say (no page at all) ends the query too.
            checkpoint.query_index, checkpoint.next_page = current + 1, 1
            for page in pages:
                self._renew_lease(checkpoint)
                page_counts, reasons = self._process_page(page, quarantine, checkpoint)
                checkpoint.counts = checkpoint.counts.add(page_counts)
                checkpoint.skip_reasons = dict(Counter(checkpoint.skip_reasons) + Counter(reasons))
                if page.next_page is None:
                    checkpoint.query_index, checkpoint.next_page = current + 1, 1
                else:
                    checkpoint.query_index, checkpoint.next_page = current, page.next_page
                if self.on_page:
                    self.on_page(checkpoint.counts)
                finished = checkpoint.query_index >= len(self._queries)
                if not finished and self.should_pause():
                    return self._pause(checkpoint)
                if not finished and self.checkpoint_each_page:
                    requests = self.job.request_count - self._requests_at_start
                    self._save_checkpoint(
                        checkpoint.model_copy(
                            update={"billing_requests": checkpoint.billing_requests + requests}
                        )
                    )
        return self._finish(checkpoint)

    def _renew_lease(self, checkpoint: Checkpoint) -> None:
        """Renews the lease once a third of its time has passed, so a slow sync keeps it and
        a sync that lost it (expired and taken over) stops before writing another page."""
        now = self.clock()
        if self._lease_renewed_at is not None and now - self._lease_renewed_at < self.lease_ttl / 3:
            return
        self.state.acquire_lease(
            self.location_id, self.sync_type, checkpoint.run_id, now, self.lease_ttl
        )
        self._lease_renewed_at = now

    def _release_unseen_unidentified(self, checkpoint: Checkpoint) -> int:
        """A record without an id can never arrive again as a valid version of itself (a fixed
        record comes with an id, and so with a key of its own). Its quarantine entry is kept
        while billing keeps sending it, and released by the first full sync that does not
        receive it, so the quarantine count can return to zero."""
        seen = set(checkpoint.unidentified_seen)
        gone = [
            record_id
            for record_id in self._quarantine
            if record_id.startswith(UNIDENTIFIED_PREFIX) and record_id not in seen
        ]
        if gone:
            self.state.save_quarantine(
                [], [(self.location_id, self.sync_type.value, record_id) for record_id in gone]
            )
            for record_id in gone:
                del self._quarantine[record_id]
        return len(gone)

    def _save_checkpoint(self, checkpoint: Checkpoint) -> None:
        self._had_checkpoint = True
        self.state.save_checkpoint(
            self.location_id, self.sync_type, checkpoint.model_dump(mode="json")
        )

    def _pause(self, checkpoint: Checkpoint) -> RunRecord:
        checkpoint.billing_requests += self.job.request_count - self._requests_at_start
        self._save_checkpoint(checkpoint)
        query_name = getattr(self._queries[checkpoint.query_index], "name", "")
        run = self._run_record(
            checkpoint,
            RunStatus.CONTINUED,
            message=f"paused before page {checkpoint.next_page} of query "
            f"{query_name}; continues in a new invocation",
        )
        self.state.put_run(run)
        # The lease stays with this run id until the continuation finishes or it expires.
        return run

    def _finish(self, checkpoint: Checkpoint) -> RunRecord:
        checkpoint.billing_requests += self.job.request_count - self._requests_at_start
        released = (
            self._release_unseen_unidentified(checkpoint) if checkpoint.kind is SyncKind.FULL else 0
        )
        # Everything before the sync began is stored: the next sync may start there.
        self.state.set_watermark(
            self.location_id,
            self.sync_type,
            min(checkpoint.scheduled_time, checkpoint.started_at),
        )
        if self._had_checkpoint:
            self.state.clear_checkpoint(self.location_id, self.sync_type)
        run = self._run_record(
            checkpoint,
            RunStatus.SUCCEEDED,
            message=f"released {released} quarantined record(s) without an id that billing "
            "no longer sends"
            if released
            else "",
        )
        self.state.put_run(run)
        self.state.release_lease(self.location_id, self.sync_type, checkpoint.run_id)
        return run

    def _run_record(
        self, checkpoint: Checkpoint, status: RunStatus, message: str = ""
    ) -> RunRecord:
        return RunRecord(
            run_id=checkpoint.run_id,
            location_id=self.location_id,
            sync_type=self.sync_type,
            kind=checkpoint.kind,
            status=status,
            scheduled_time=checkpoint.scheduled_time,
            started_at=checkpoint.started_at,
            finished_at=self.clock(),
            window_start=self.job.window_start(self._queries),
            counts=checkpoint.counts,
            billing_requests=checkpoint.billing_requests,
            skip_reasons=checkpoint.skip_reasons,
            message=message,
        )

    # -- one page ----------------------------------------------------------------------------
    def _process_page(
        self, page: SourcePage, quarantine: dict[str, str], checkpoint: Checkpoint
    ) -> tuple[RunCounts, Counter[str]]:
        counts: Counter[str] = Counter(fetched=len(page.records), pages=1)
        now = self.clock()
        quarantined: list[QuarantinedRecord] = []
        released: list[tuple[str, str, str]] = []
        fingerprint = self.job.fingerprint()
        accepted: list[Accepted] = []
        self.job.prepare_page(page.records)
        for raw in page.records:
            record_id = self.job.record_id(raw)
            record_hash = self.job.record_hash(fingerprint, raw)
            if (
                record_id is not None
                and record_id not in quarantine
                and self.job.known_hash(record_id) == record_hash
            ):
                # The common case on every full sync: nothing changed, nothing to translate.
                counts["unchanged"] += 1
                continue
            if record_id is None:
                record_id = f"{UNIDENTIFIED_PREFIX}{record_hash[:16]}"
                if record_id not in checkpoint.unidentified_seen:
                    checkpoint.unidentified_seen.append(record_id)
            try:
                value = self.job.translate(raw)
            except InvalidRecord as invalid:
                counts["quarantined"] += 1
                if quarantine.get(record_id) != record_hash:
                    quarantined.append(
                        self._quarantined(record_id, invalid.reason, raw, record_hash, now)
                    )
                    quarantine[record_id] = record_hash
                continue
            if record_id in quarantine:
                released.append((self.location_id, self.sync_type.value, record_id))
                del quarantine[record_id]
            accepted.append(Accepted(record_id, record_hash, value, raw))
        merged = self.job.merge_page(accepted, now) if accepted else PageMerge()
        counts.update(merged.counts)
        # Separate calls: a batch request applies its items in no particular order.
        self.entities.table.batch_write(merged.intents)
        self.entities.table.batch_write(merged.puts, merged.deletes)
        self.entities.table.batch_write(merged.commits)
        if quarantined or released:
            self.state.save_quarantine(quarantined, released)
        return RunCounts(**counts), merged.reasons

    def _quarantined(
        self, record_id: str, reason: str, raw: RawRecord, record_hash: str, now: datetime
    ) -> QuarantinedRecord:
        return QuarantinedRecord(
            location_id=self.location_id,
            sync_type=self.sync_type.value,
            record_id=record_id,
            reason=reason,
            payload=raw,
            content_hash=record_hash,
            first_seen=now,
            last_seen=now,
        )
