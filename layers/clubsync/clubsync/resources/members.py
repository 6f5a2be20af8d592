"""The member sync type: window -> pages -> translate -> match -> merge -> write.

Runs on the shared engine (`engine/sync_engine.py`: lease, checkpoint, quarantine, run record,
content-hash skip); this module holds what is particular to members: the queries, the match
index read once per run, and the merge of a page into people and agreements.

One job for every provider: what differs in how agreements land (ABC's one current agreement,
Club Hub's pending replaced by real) is the provider's `AgreementPolicy`
(domain/agreement_policy.py), given to the job; nothing here imports a provider.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from clubsync.domain.agreement_policy import (
    ONE_CURRENT_AGREEMENT,
    AgreementPolicy,
    DuplicateAccountsFinding,
)
from clubsync.domain.billing import BillingMember
from clubsync.domain.match_keys import name_key
from clubsync.domain.people import MembershipAgreement, Person
from clubsync.domain.rules import agreement_key, missing_member_names
from clubsync.domain.runs import RunCounts, RunRecord, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.domain.windows import MemberQuery
from clubsync.engine.sync_engine import (
    LEASE_TTL,
    Accepted,
    PageMerge,
    SyncEngine,
    SyncFailed,
    content_hash,
    utc_now,
)
from clubsync.providers.base import InvalidRecord, MemberSource, RawRecord, SourcePage
from clubsync.resources.matching import MatchIndex
from clubsync.resources.member_merge import (
    canonical_content,
    merge_fingerprint,
    merge_member,
    person_id_for_billing_member,
)
from clubsync.resources.member_windows import PARTIAL_QUERY_NAME, member_queries
from clubsync.store.audit import finding_item
from clubsync.store.entities import (
    EntityRepository,
    PersonIndexEntry,
    agreement_to_item,
    person_to_item,
)
from clubsync.store.state import StateRepository

SYNC_TYPE = SyncType.MEMBERS

__all__ = ["LEASE_TTL", "SYNC_TYPE", "MemberJob", "MemberSync", "SyncFailed", "utc_now"]


@dataclass
class MemberJob:
    """Members as a sync type on the engine."""

    settings: LocationSettings
    source: MemberSource
    entities: EntityRepository
    sync_type: SyncType = SYNC_TYPE
    policy: AgreementPolicy = ONE_CURRENT_AGREEMENT
    # Where the policy's findings go (the duplicate report reads them); None: not stored.
    state: StateRepository | None = None
    # record id -> what merging it did (the policy's name for it when it ran), for a webhook's
    # answer and the pull's summary; records skipped as unchanged by hash are not in it.
    outcomes: dict[str, str] = field(default_factory=dict, init=False)
    _index: MatchIndex | None = field(default=None, init=False)
    # A partial sync looks its people up by billing id and name (the by-billing-id index)
    # instead of reading the location's whole person index: see `prepare_page`.
    _partial: bool = field(default=False, init=False)
    _bounded: bool = field(default=False, init=False)
    _looked_up: set[str] = field(default_factory=set, init=False)
    _names_looked_up: set[str] = field(default_factory=set, init=False)
    # record id -> hash of the bytes billing sent, stored on the person the merge writes.
    _raw_hashes: dict[str, str] = field(default_factory=dict, init=False)
    # The last record translated and its translation (`record_hash` then `translate`).
    _translated: tuple[RawRecord, BillingMember] | None = field(default=None, init=False)
    # People read by `prepare_page`, used once by the page's merge.
    _read: dict[str, Person] = field(default_factory=dict, init=False)

    @property
    def location_id(self) -> str:
        return self.settings.location_id

    @property
    def request_count(self) -> int:
        return self.source.request_count

    @property
    def index(self) -> MatchIndex:
        if self._index is None:
            self.begin()
        assert self._index is not None
        return self._index

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]:
        return list(
            member_queries(kind, now=now, zone=self.settings.zone, last_success=last_success)
        )

    def load_query(self, data: dict[str, Any]) -> BaseModel:
        query = MemberQuery.model_validate(data)
        self._partial = query.name == PARTIAL_QUERY_NAME
        return query

    def window_start(self, queries: Sequence[BaseModel]) -> datetime | None:
        windows = [q.modified_since for q in queries if isinstance(q, MemberQuery)]
        present = [w for w in windows if w is not None]
        return min(present) if present else None

    def pages(self, query: BaseModel, start_page: int) -> Iterator[SourcePage]:
        assert isinstance(query, MemberQuery)
        return self.source.pages(query, start_page)

    def fingerprint(self) -> bytes:
        return merge_fingerprint(self.settings)

    def begin(self) -> None:
        region = self.settings.country
        self._bounded = (
            self._partial
            and self.policy.one_record_per_account
            and not self.policy.joins_duplicate_accounts
            and self.entities.name_index_ready(self.location_id)
        )
        if self._bounded:
            self._index = MatchIndex((), region)
            return
        self._index = MatchIndex(self.entities.person_index(self.location_id, region), region)
        if not self._partial and not self.entities.name_index_ready(self.location_id):
            self._add_name_entries()

    def _add_name_entries(self) -> None:
        """People stored before the index held the names of unlinked people get their entry
        (rewritten as they are), once per location; then partial syncs may use it."""
        missing = self.entities.people_missing_name_entry(self.location_id)
        people = self.entities.get_people(self.location_id, missing) if missing else {}
        self.entities.save(list(people.values()), default_region=self.settings.country)
        self.entities.mark_name_index_ready(self.location_id)

    def prepare_page(self, records: Sequence[RawRecord]) -> None:
        """A partial sync's people of this page, by billing id: first under the key a person
        created from billing has (`{provider}-{id}`), else through the index (a converted
        prospect keeps its own id). What is found joins the match index."""
        if not self._bounded:
            return
        ids = {rid for r in records if (rid := self.record_id(r))} - self._looked_up
        if not ids:
            return
        self._looked_up |= ids
        provider = self.source.provider
        by_key = self.entities.get_people(
            self.location_id, [person_id_for_billing_member(provider, i) for i in sorted(ids)]
        )
        found = {p.person_id: p for p in by_key.values() if p.billing_member_id in ids}
        missing = ids - {p.billing_member_id for p in found.values()}
        linked = [
            pid
            for billing_id in sorted(missing)
            if (pid := self.entities.person_of_billing_id(self.location_id, billing_id))
        ]
        if linked:
            found |= self.entities.get_people(self.location_id, linked)
        self._learn(found)

    def _learn(self, people: dict[str, Person]) -> None:
        for person in people.values():
            self._read[person.person_id] = person
            self.index.put(PersonIndexEntry.of(person, self.settings.country))

    def _look_up_names(self, members: Sequence[BillingMember]) -> None:
        """A partial sync's candidates by name for the records not linked to anyone yet."""
        names = {
            name
            for member in members
            if self.index.person_with_billing_id(member.billing_member_id) is None
            and (name := name_key(member.contact.first_name, member.contact.last_name))
        } - self._names_looked_up
        self._names_looked_up |= names
        ids = [
            pid
            for name in sorted(names)
            for pid in self.entities.unlinked_named(self.location_id, name)
        ]
        if ids:
            self._learn(self.entities.get_people(self.location_id, ids))

    def record_id(self, record: RawRecord) -> str | None:
        return self.source.record_id(record)

    def record_hash(self, fingerprint: bytes, record: RawRecord) -> str:
        """The hash of the canonical record (`canonical_content`), so fields the mapping does
        not carry change nothing. Its cost (a translation) is paid only when billing's bytes
        differ from those last merged (`raw_hash` on the person): then the translation
        is kept for `translate`. A record that does not translate is hashed as billing sent
        it, for its quarantine entry."""
        # Half the length of a content hash: it is only ever compared with the last one of the
        # same record, and every byte counts on an item near DynamoDB's 1 KB write unit.
        raw_hash = content_hash(fingerprint, self.source.content(record))[:16]
        record_id = self.record_id(record)
        if record_id is not None and self.policy.one_record_per_account:
            known = self.index.person_with_billing_id(record_id)
            if known is not None and known.raw_hash == raw_hash and known.source_hash:
                return known.source_hash
            self._raw_hashes[record_id] = raw_hash
        try:
            return content_hash(fingerprint, canonical_content(self.translate(record)))
        except InvalidRecord:
            return raw_hash

    def known_hash(self, record_id: str) -> str | None:
        if not self.policy.one_record_per_account:
            # Several records per person: no single hash on the person stands for one of them.
            return None
        known = self.index.person_with_billing_id(record_id)
        return known.source_hash if known is not None else None

    def translate(self, record: RawRecord) -> BillingMember:
        if self._translated is not None and self._translated[0] is record:
            return self._translated[1]
        member = self.source.translate(record)
        missing = missing_member_names(member.contact)
        if missing:
            raise InvalidRecord(missing)
        self._translated = (record, member)
        return member

    def merge_page(self, accepted: list[Accepted], now: datetime) -> PageMerge:
        index = self.index
        result_page = PageMerge()
        counts: Counter[str] = result_page.counts
        reasons: Counter[str] = result_page.reasons
        per_account = self.policy.one_record_per_account
        if self._bounded:
            self._look_up_names([record.value for record in accepted])
        planned: list[tuple[Accepted, str | None, bool]] = []
        to_read: set[str] = set()
        for record in accepted:
            member: BillingMember = record.value
            person_id, joined = self._match(member)
            entry = index.entry(person_id) if person_id else None
            if per_account and entry is not None and entry.source_hash == record.content_hash:
                counts["unchanged"] += 1
                continue
            planned.append((record, person_id, joined))
            if person_id:
                to_read.add(person_id)

        # Read the matched people and their agreements in two batches.
        people = {pid: self._read.pop(pid) for pid in list(to_read) if pid in self._read}
        to_read -= people.keys()
        if to_read:
            people |= self.entities.get_people(self.location_id, to_read)
        agreement_keys = {key for person in people.values() for key in person.agreement_keys}
        agreement_keys |= {
            agreement_key(record.value.agreement.system_id, record.value.agreement.sign_date)
            for record, _, _ in planned
            if record.value.agreement is not None
        }
        agreements = (
            self.entities.get_agreements(self.location_id, agreement_keys) if agreement_keys else {}
        )

        stored = dict(people)
        people_out: dict[str, Person] = {}
        agreements_out: dict[str, MembershipAgreement] = {}
        findings: list[DuplicateAccountsFinding] = []
        entries: dict[str, PersonIndexEntry] = {}
        for record, person_id, joined in planned:
            member = record.value
            if person_id is None and not per_account:
                # An earlier record of this page may have created this record's person (two
                # memberships, or two duplicate accounts, of one new member).
                person_id, joined = self._match(member)
            existing = people.get(person_id) if person_id else None
            holder = _held(agreements, member)
            if existing is not None:
                existing = _without_missing_agreements(existing, agreements)
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
                # A provider with several records per person stores no record hash on it.
                content_hash=record.content_hash
                if per_account
                else (existing.source_hash if existing else None),
                holder=holder,
                policy=self.policy,
                joined_account=joined,
            )
            counts[result.outcome.value] += 1
            if result.reason:
                reasons[result.reason] += 1
            self.outcomes[record.record_id] = result.detail or result.outcome.value
            findings.extend(result.findings)
            if result.person is None:
                continue
            raw_hash = self._raw_hashes.pop(record.record_id, None) if per_account else None
            if result.writes_person and raw_hash is not None:
                result = replace(
                    result, person=result.person.model_copy(update={"raw_hash": raw_hash})
                )
            assert result.person is not None
            if result.writes_person:
                people_out[result.person.person_id] = result.person
            # Later records of this page and sync see this result, not the stored one.
            people[result.person.person_id] = result.person
            for agreement in result.agreements:
                agreements_out[agreement.agreement_key] = agreement
                agreements[agreement.agreement_key] = agreement
            entry = PersonIndexEntry.of(result.person, self.settings.country)
            entries[result.person.person_id] = entry
            index.put(entry)
        if findings and self.state is not None:
            # State table items the engine's page write does not cover. Written first: each is
            # keyed by what it names and says nothing the merge depends on, so a crash before
            # the page is stored leaves a finding the next run writes again.
            self.state.table.batch_write(
                [
                    finding_item(self.location_id, self.source.provider, finding, now)
                    for finding in findings
                ]
            )
        region = self.settings.country
        result_page.intents = [
            person_to_item(intent, region)
            for person in people_out.values()
            if (intent := _announcing_new_agreements(person, stored.get(person.person_id)))
        ]
        result_page.puts = [agreement_to_item(a) for a in agreements_out.values()]
        # The person carries the record's hash: it is written after its agreements.
        result_page.commits = [
            person_to_item(p, region, entries.get(p.person_id)) for p in people_out.values()
        ]
        return result_page

    def _match(self, member: BillingMember) -> tuple[str | None, bool]:
        """The person of a billing record, and whether it joins them as a duplicate account."""
        match = self.index.find(member.billing_member_id, member.contact)
        if match is not None:
            return match.person_id, False
        if self.policy.joins_duplicate_accounts:
            linked = self.index.linked_to_another_account(member.billing_member_id, member.contact)
            if linked is not None:
                return linked, True
        return None, False


@dataclass
class MemberSync:
    """The member sync job (kept as the entry point the CLI, tests and handlers know)."""

    settings: LocationSettings
    source: MemberSource
    entities: EntityRepository
    state: StateRepository
    clock: Callable[[], datetime] = utc_now
    # Asked after each page; True makes the job save a checkpoint and stop (Lambda time).
    should_pause: Callable[[], bool] = lambda: False
    lease_ttl: timedelta = LEASE_TTL
    on_page: Callable[[RunCounts], None] | None = None

    @property
    def location_id(self) -> str:
        return self.settings.location_id

    def run(
        self, kind: SyncKind, scheduled_time: datetime, *, resume_run_id: str | None = None
    ) -> RunRecord:
        """Runs (or, with `resume_run_id`, continues) one member sync; returns its run record.

        Raises SyncFailed after recording a failed run (billing unreadable, silent rejection,
        lease lost), so a scheduler can retry."""
        engine = SyncEngine(
            settings=self.settings,
            job=MemberJob(self.settings, self.source, self.entities),
            entities=self.entities,
            state=self.state,
            clock=self.clock,
            should_pause=self.should_pause,
            lease_ttl=self.lease_ttl,
            on_page=self.on_page,
        )
        return engine.run(kind, scheduled_time, resume_run_id=resume_run_id)


def _announcing_new_agreements(merged: Person, stored: Person | None) -> Person | None:
    """The person as stored, pointing at the agreements this page creates for them (their
    keys, and the new current one), or None when it creates none. Written before those
    agreements: a crash after an agreement but before the person would otherwise leave the
    agreement unknown to its person, current, and never retired once billing moves on to the
    next one (two current agreements). Until the page's commit the person keeps its old hash
    (none, if new), so the next run merges it again; keys whose agreement never got stored are
    dropped then (`_without_missing_agreements`)."""
    known = set(stored.agreement_keys) if stored else set()
    new_keys = set(merged.agreement_keys) - known
    if not new_keys:
        return None
    base = stored if stored is not None else merged.model_copy(update={"source_hash": None})
    return base.model_copy(
        update={
            "agreement_keys": sorted(known | new_keys),
            "current_agreement_key": merged.current_agreement_key,
        }
    )


def _without_missing_agreements(
    person: Person, agreements: dict[str, MembershipAgreement]
) -> Person:
    """Drops the keys a crash announced (see `_announcing_new_agreements`) but whose agreement
    was never stored."""
    keys = [key for key in person.agreement_keys if key in agreements]
    current = person.current_agreement_key
    if keys == person.agreement_keys and (current is None or current in agreements):
        return person
    return person.model_copy(
        update={
            "agreement_keys": keys,
            "current_agreement_key": current if current in agreements else None,
        }
    )


def _held(
    agreements: dict[str, MembershipAgreement], member: BillingMember
) -> MembershipAgreement | None:
    """The agreement stored under the incoming agreement's key, whoever holds it."""
    if member.agreement is None:
        return None
    return agreements.get(agreement_key(member.agreement.system_id, member.agreement.sign_date))
