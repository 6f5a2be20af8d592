"""The member sync job: window -> pages -> translate -> match -> merge -> write.

One writer per location (a lease), nothing missed (the watermark moves only after every page
is stored), nothing lost (bad records are quarantined with their reason), nothing written twice
(content hashes and deterministic keys), and resumable (a checkpoint after each page).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.billing import BillingMember
from clubsync.domain.people import MembershipAgreement, Person
from clubsync.domain.rules import agreement_key
from clubsync.domain.runs import RunCounts, RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.providers.base import (
    InvalidRecord,
    MemberQuery,
    MemberSource,
    RawRecord,
    SourceError,
    SourcePage,
)
from clubsync.store.entities import EntityRepository, PersonIndexEntry
from clubsync.store.state import LeaseHeld, QuarantinedRecord, StateRepository
from clubsync.sync.matching import MatchIndex
from clubsync.sync.member_merge import content_hash, merge_fingerprint, merge_member
from clubsync.sync.windows import member_queries

LEASE_TTL = timedelta(minutes=15)
SYNC_TYPE = SyncType.MEMBERS


class SyncFailed(Exception):
    """The sync stopped without finishing; its run record says why. The watermark did not move."""

    def __init__(self, run: RunRecord) -> None:
        super().__init__(run.message)
        self.run = run


class MemberCheckpoint(BaseModel):
    """Where an unfinished sync continues: the same queries, from the next page."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    kind: SyncKind
    scheduled_time: datetime
    started_at: datetime
    queries: list[MemberQuery]
    query_index: int = 0
    next_page: int = 1
    counts: RunCounts = Field(default_factory=RunCounts)
    billing_requests: int = 0
    skip_reasons: dict[str, int] = Field(default_factory=dict)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class MemberSync:
    settings: LocationSettings
    source: MemberSource
    entities: EntityRepository
    state: StateRepository
    clock: Callable[[], datetime] = utc_now
    # Asked after each page; True makes the job save a checkpoint and stop (Lambda time).
    should_pause: Callable[[], bool] = lambda: False
    lease_ttl: timedelta = LEASE_TTL
    on_page: Callable[[RunCounts], None] | None = None
    _requests_at_start: int = field(default=0, init=False)
    _lease_renewed_at: datetime | None = field(default=None, init=False)
    _had_checkpoint: bool = field(default=False, init=False)

    @property
    def location_id(self) -> str:
        return self.settings.location_id

    def run(
        self, kind: SyncKind, scheduled_time: datetime, *, resume_run_id: str | None = None
    ) -> RunRecord:
        """Runs (or, with `resume_run_id`, continues) one member sync; returns its run record.

        Raises SyncFailed after recording a failed run (billing unreadable, silent rejection,
        lease lost), so a scheduler can retry."""
        checkpoint = self._checkpoint_to_resume(resume_run_id)
        self._had_checkpoint = checkpoint is not None
        now = self.clock()
        if checkpoint is None:
            checkpoint = MemberCheckpoint(
                run_id=uuid.uuid4().hex,
                kind=kind,
                scheduled_time=scheduled_time,
                started_at=now,
                queries=member_queries(
                    kind,
                    now=scheduled_time,
                    zone=self.settings.zone,
                    last_success=self.state.watermark(self.location_id, SYNC_TYPE),
                ),
            )
        try:
            self.state.acquire_lease(
                self.location_id, SYNC_TYPE, checkpoint.run_id, now, self.lease_ttl
            )
            self._lease_renewed_at = now
        except LeaseHeld as held:
            run = self._run_record(checkpoint, RunStatus.SKIPPED_LOCKED, message=str(held))
            self.state.put_run(run)
            return run
        self._requests_at_start = self.source.request_count
        try:
            return self._run_pages(checkpoint)
        except (SourceError, LeaseHeld) as error:
            checkpoint.billing_requests += self.source.request_count - self._requests_at_start
            run = self._run_record(checkpoint, RunStatus.FAILED, message=str(error))
            run.errors.append(str(error))
            self.state.put_run(run)
            self.state.release_lease(self.location_id, SYNC_TYPE, checkpoint.run_id)
            raise SyncFailed(run) from error

    def _checkpoint_to_resume(self, resume_run_id: str | None) -> MemberCheckpoint | None:
        if resume_run_id is None:
            return None
        stored = self.state.checkpoint(self.location_id, SYNC_TYPE)
        if stored is None:
            return None
        checkpoint = MemberCheckpoint.model_validate(stored)
        return checkpoint if checkpoint.run_id == resume_run_id else None

    def _run_pages(self, checkpoint: MemberCheckpoint) -> RunRecord:
        index = MatchIndex(self.entities.person_index(self.location_id))
        quarantine = self.state.quarantine_index(self.location_id, SYNC_TYPE)
        while checkpoint.query_index < len(checkpoint.queries):
            current = checkpoint.query_index
            pages = self.source.pages(checkpoint.queries[current], checkpoint.next_page)
            # Nothing to say (no page at all) ends the query too.
            checkpoint.query_index, checkpoint.next_page = current + 1, 1
            for page in pages:
                self._renew_lease(checkpoint)
                page_counts, reasons = self._process_page(page, index, quarantine)
                checkpoint.counts = checkpoint.counts.add(page_counts)
                checkpoint.skip_reasons = dict(Counter(checkpoint.skip_reasons) + Counter(reasons))
                if page.next_page is None:
                    checkpoint.query_index, checkpoint.next_page = current + 1, 1
                else:
                    checkpoint.query_index, checkpoint.next_page = current, page.next_page
                if self.on_page:
                    self.on_page(checkpoint.counts)
                finished = checkpoint.query_index >= len(checkpoint.queries)
                if not finished and self.should_pause():
                    return self._pause(checkpoint)
        return self._finish(checkpoint)

    def _renew_lease(self, checkpoint: MemberCheckpoint) -> None:
        """Renews the lease once a third of its time has passed, so a slow sync keeps it and
        a sync that lost it (expired and taken over) stops before writing another page."""
        now = self.clock()
        if self._lease_renewed_at is not None and now - self._lease_renewed_at < self.lease_ttl / 3:
            return
        self.state.acquire_lease(
            self.location_id, SYNC_TYPE, checkpoint.run_id, now, self.lease_ttl
        )
        self._lease_renewed_at = now

    def _pause(self, checkpoint: MemberCheckpoint) -> RunRecord:
        checkpoint.billing_requests += self.source.request_count - self._requests_at_start
        self._had_checkpoint = True
        self.state.save_checkpoint(self.location_id, SYNC_TYPE, checkpoint.model_dump(mode="json"))
        run = self._run_record(
            checkpoint,
            RunStatus.CONTINUED,
            message=f"paused before page {checkpoint.next_page} of query "
            f"{checkpoint.queries[checkpoint.query_index].name}; continues in a new invocation",
        )
        self.state.put_run(run)
        # The lease stays with this run id until the continuation finishes or it expires.
        return run

    def _finish(self, checkpoint: MemberCheckpoint) -> RunRecord:
        checkpoint.billing_requests += self.source.request_count - self._requests_at_start
        # Everything modified before the sync began is stored: the next partial sync may start
        # there (minus the safety margin).
        self.state.set_watermark(
            self.location_id,
            SYNC_TYPE,
            min(checkpoint.scheduled_time, checkpoint.started_at),
        )
        if self._had_checkpoint:
            self.state.clear_checkpoint(self.location_id, SYNC_TYPE)
        run = self._run_record(checkpoint, RunStatus.SUCCEEDED)
        self.state.put_run(run)
        self.state.release_lease(self.location_id, SYNC_TYPE, checkpoint.run_id)
        return run

    def _run_record(
        self, checkpoint: MemberCheckpoint, status: RunStatus, message: str = ""
    ) -> RunRecord:
        windows = [q.modified_since for q in checkpoint.queries if q.modified_since]
        return RunRecord(
            run_id=checkpoint.run_id,
            location_id=self.location_id,
            sync_type=SYNC_TYPE,
            kind=checkpoint.kind,
            status=status,
            scheduled_time=checkpoint.scheduled_time,
            started_at=checkpoint.started_at,
            finished_at=self.clock(),
            window_start=min(windows) if windows else None,
            counts=checkpoint.counts,
            billing_requests=checkpoint.billing_requests,
            skip_reasons=checkpoint.skip_reasons,
            message=message,
        )

    # -- one page ----------------------------------------------------------------------------
    def _process_page(
        self, page: SourcePage, index: MatchIndex, quarantine: dict[str, str]
    ) -> tuple[RunCounts, Counter[str]]:
        counts: Counter[str] = Counter(fetched=len(page.records), pages=1)
        reasons: Counter[str] = Counter()
        now = self.clock()
        quarantined: list[QuarantinedRecord] = []
        released: list[tuple[str, str, str]] = []
        fingerprint = merge_fingerprint(self.settings)
        planned: list[tuple[BillingMember, str | None, str]] = []
        to_read: set[str] = set()
        for raw in page.records:
            record_id = self.source.record_id(raw)
            record_hash = content_hash(fingerprint, self.source.content(raw))
            known = index.person_with_billing_id(record_id) if record_id else None
            if (
                known is not None
                and known.source_hash == record_hash
                and record_id not in quarantine
            ):
                # The common case on every full sync: nothing changed, nothing to translate.
                counts["unchanged"] += 1
                continue
            record_id = record_id or f"unidentified-{record_hash[:16]}"
            try:
                member = self.source.translate(raw)
            except InvalidRecord as invalid:
                counts["quarantined"] += 1
                if quarantine.get(record_id) != record_hash:
                    quarantined.append(
                        self._quarantined(record_id, invalid.reason, raw, record_hash, now)
                    )
                    quarantine[record_id] = record_hash
                continue
            if record_id in quarantine:
                released.append((self.location_id, SYNC_TYPE.value, record_id))
                del quarantine[record_id]
            match = index.find(member.billing_member_id, member.contact)
            entry = index.entry(match.person_id) if match else None
            if entry is not None and entry.source_hash == record_hash:
                counts["unchanged"] += 1
                continue
            planned.append((member, match.person_id if match else None, record_hash))
            if match:
                to_read.add(match.person_id)

        # Read the matched people and their agreements in two batches.
        people = self.entities.get_people(self.location_id, to_read) if to_read else {}
        agreement_keys = {key for person in people.values() for key in person.agreement_keys}
        agreement_keys |= {
            agreement_key(member.agreement.system_id, member.agreement.sign_date)
            for member, _, _ in planned
            if member.agreement is not None
        }
        agreements = (
            self.entities.get_agreements(self.location_id, agreement_keys) if agreement_keys else {}
        )

        people_out: dict[str, Person] = {}
        agreements_out: dict[str, MembershipAgreement] = {}
        for member, person_id, record_hash in planned:
            existing = people.get(person_id) if person_id else None
            result = merge_member(
                member,
                existing=existing,
                existing_agreements={
                    key: agreements[key]
                    for key in (existing.agreement_keys if existing else [])
                    if key in agreements
                },
                settings=self.settings,
                provider=self.source.provider,
                now=now,
                content_hash=record_hash,
                agreement_owner=_owner(agreements, member),
            )
            counts[result.outcome.value] += 1
            if result.reason:
                reasons[result.reason] += 1
            if result.person is None:
                continue
            if result.writes_person:
                people_out[result.person.person_id] = result.person
            # Later records of this page and sync see this result, not the stored one.
            people[result.person.person_id] = result.person
            for agreement in result.agreements:
                agreements_out[agreement.agreement_key] = agreement
                agreements[agreement.agreement_key] = agreement
            index.put(PersonIndexEntry.of(result.person))
        self.entities.save(list(people_out.values()), list(agreements_out.values()))
        if quarantined or released:
            self.state.save_quarantine(quarantined, released)
        return RunCounts(**counts), reasons

    def _quarantined(
        self, record_id: str, reason: str, raw: RawRecord, content_hash: str, now: datetime
    ) -> QuarantinedRecord:
        return QuarantinedRecord(
            location_id=self.location_id,
            sync_type=SYNC_TYPE.value,
            record_id=record_id,
            reason=reason,
            payload=raw,
            content_hash=content_hash,
            first_seen=now,
            last_seen=now,
        )


def _owner(agreements: dict[str, MembershipAgreement], member: BillingMember) -> str | None:
    if member.agreement is None:
        return None
    held = agreements.get(agreement_key(member.agreement.system_id, member.agreement.sign_date))
    return held.person_id if held else None
