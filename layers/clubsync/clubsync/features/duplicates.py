"""The duplicate report and its resolutions (spec/duplicates-faq.txt, docs/duplicates.md).

Report: accounts that match (identical full name plus email or phone, the keys of
`domain.match_keys`, the same rule billing records are matched by) are grouped, and each group
gets the action the FAQ prescribes:

- a prospect and a member account: merge the prospect into the member;
- member accounts, some without an attached agreement: delete those without (soft delete);
- anything else (two prospects, two members that both hold agreements, accounts at several
  locations): review; the FAQ prescribes nothing and a guess would lose data.

Separately, duplicated agreements (the same agreement id more than once, or a Club Hub pending
membership left next to the real one sold less than 30 days apart) are grouped with the action
"archive the copies", and billing findings ("duplicate accounts in billing": the member sync's
skip reasons and Club Hub findings) name the billing accounts to fix at the source.

Resolutions re-check the group against current data and refuse with a reason when it no longer
holds; each writes an audit entry with before/after images of every item it changes, which
`undo` restores as long as nobody changed those items since.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.people import MembershipAgreement, Person, PersonKind
from clubsync.domain.rules import merge_contact
from clubsync.domain.settings import RecordOwner
from clubsync.providers.clubhub.memberships import PENDING_REPLACEMENT_WINDOW, is_pending
from clubsync.store.audit import AuditEntry, AuditRepository, ItemChange
from clubsync.store.entities import (
    AGREEMENT_PREFIX,
    EntityRepository,
    PersonIndexEntry,
    agreement_to_item,
    location_pk,
    person_key,
    person_to_item,
)
from clubsync.store.items import Item, Key
from clubsync.store.state import StateRepository

DELETED_PREFIX = "DELETED#"
DUPLICATE_ACCOUNTS_REASON = "duplicate accounts in billing"
# Items that point at a person by a `person_id` attribute and move with a merge.
_ACTIVITY_PREFIXES = (
    "EVENT#",
    "CHECKIN#",
    "PTFOLLOWUP#",
    "FOLLOWUP#",
    "INVOICE#",
    "SERVICEAGREEMENT#",
)
# Follow-up records keyed by the person (PT follow-up, follow-up schedule track): one each.
_KEYED_BY_PERSON = ("PTFOLLOWUP#", "FOLLOWUP#")


class Action(StrEnum):
    MERGE_INTO_MEMBER = "merge"
    DELETE_WITHOUT_AGREEMENT = "delete"
    ARCHIVE_COPIES = "archive"
    REVIEW = "review"


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: str
    location_id: str
    kind: PersonKind
    billing_member_id: str | None = None
    agreements: list[str] = Field(default_factory=list, description="Agreement ids, not archived.")


class DuplicateGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_id: str
    action: Action
    reason: str
    accounts: list[Account] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    keep: str | None = Field(default=None, description="Person id, or agreement key, kept.")
    remove: list[str] = Field(default_factory=list, description="Merged, deleted or archived.")


class BillingFinding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str
    reason: str
    accounts: list[str] = Field(default_factory=list, description="Billing account ids.")
    person_ids: list[str] = Field(default_factory=list)
    membership_id: str | None = None
    count: int = 1


class DuplicateReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locations: list[str]
    generated_at: datetime
    groups: list[DuplicateGroup] = Field(default_factory=list)
    agreement_groups: list[DuplicateGroup] = Field(default_factory=list)
    billing_findings: list[BillingFinding] = Field(default_factory=list)

    def group(self, group_id: str) -> DuplicateGroup | None:
        return next(
            (g for g in (*self.groups, *self.agreement_groups) if g.group_id == group_id), None
        )


class ResolutionRefused(Exception):
    """The group no longer holds (accounts changed, already resolved) or the action is not the
    prescribed one; nothing was written."""


# -- grouping ---------------------------------------------------------------------------------
def _matching_pairs(entries: Sequence[tuple[str, PersonIndexEntry]]) -> list[tuple[int, int]]:
    """Index pairs of entries with the same name key and the same email key or a shared phone
    key, found through buckets so a location of thousands costs one pass, not n²."""
    buckets: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, (_, entry) in enumerate(entries):
        if not entry.name_key:
            continue
        if entry.email_key:
            buckets[(entry.name_key, "e:" + entry.email_key)].append(i)
        for phone in entry.phone_keys:
            buckets[(entry.name_key, "p:" + phone)].append(i)
    pairs: list[tuple[int, int]] = []
    for members in buckets.values():
        pairs.extend((members[0], other) for other in members[1:])
    return pairs


def _components(size: int, pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    parent = list(range(size))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for left, right in pairs:
        parent[root(left)] = root(right)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(size):
        groups[root(i)].append(i)
    return [sorted(g) for g in groups.values() if len(g) > 1]


def group_id_of(person_ids: Iterable[str]) -> str:
    """Readable and stable: the sorted person ids, so a refusal can say which accounts."""
    return "+".join(sorted(person_ids))


def _prescribe(accounts: list[Account]) -> tuple[Action, str, str | None, list[str]]:
    if len({a.location_id for a in accounts}) > 1:
        return Action.REVIEW, "accounts at several locations: the FAQ covers one location", None, []
    prospects = [a for a in accounts if a.kind is PersonKind.PROSPECT]
    members = [a for a in accounts if a.kind is PersonKind.MEMBER]
    if len(members) == 1 and prospects:
        return (
            Action.MERGE_INTO_MEMBER,
            "a prospect and a member account: merge into the member",
            members[0].person_id,
            sorted(p.person_id for p in prospects),
        )
    if not prospects and len(members) > 1:
        holding = [m for m in members if m.agreements]
        without = [m for m in members if not m.agreements]
        if len(holding) == 1 and without:
            return (
                Action.DELETE_WITHOUT_AGREEMENT,
                "member accounts, one without an attached agreement: delete the one without",
                holding[0].person_id,
                sorted(m.person_id for m in without),
            )
        if len(holding) > 1:
            return (
                Action.REVIEW,
                "member accounts that all hold agreements: likely duplicate accounts in billing",
                None,
                [],
            )
    return Action.REVIEW, "the FAQ prescribes no action for these accounts", None, []


@dataclass
class _LocationData:
    people: dict[str, Person]
    agreements: dict[str, MembershipAgreement]
    region: str


@dataclass
class Duplicates:
    """Report and resolutions over the entities and state tables."""

    entities: EntityRepository
    state: StateRepository
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.state.table)

    def _load(self, location_id: str) -> _LocationData:
        settings = self.state.get_location(location_id)
        region = settings.country if settings else "US"
        people = {p.person_id: p for p in self.entities.people(location_id)}
        agreements = {a.agreement_key: a for a in self.entities.agreements(location_id)}
        return _LocationData(people, agreements, region)

    # -- report ---------------------------------------------------------------------------
    def report(self, location_ids: Sequence[str], *, across: bool = False) -> DuplicateReport:
        """Groups within each location; with `across`, also accounts matching across the
        given locations (reported for review: the FAQ's actions are per location)."""
        loaded = {loc: self._load(loc) for loc in location_ids}
        report = DuplicateReport(locations=list(location_ids), generated_at=self.clock())
        scopes: list[list[str]] = [[loc] for loc in location_ids]
        if across and len(location_ids) > 1:
            scopes = [list(location_ids)]
        for scope in scopes:
            report.groups.extend(self._people_groups(scope, loaded))
        for loc in location_ids:
            report.agreement_groups.extend(_agreement_groups(loaded[loc]))
            report.billing_findings.extend(self._findings(loc))
        report.groups.sort(key=lambda g: g.group_id)
        return report

    def _people_groups(
        self, scope: list[str], loaded: dict[str, _LocationData]
    ) -> list[DuplicateGroup]:
        entries = [
            (loc, PersonIndexEntry.of(person, loaded[loc].region))
            for loc in scope
            for person in loaded[loc].people.values()
        ]
        groups = []
        for component in _components(len(entries), _matching_pairs(entries)):
            accounts = [
                _account(
                    loaded[entries[i][0]], loaded[entries[i][0]].people[entries[i][1].person_id]
                )
                for i in component
            ]
            action, reason, keep, remove = _prescribe(accounts)
            groups.append(
                DuplicateGroup(
                    group_id=group_id_of(a.person_id for a in accounts),
                    action=action,
                    reason=reason,
                    accounts=sorted(accounts, key=lambda a: a.person_id),
                    locations=sorted({a.location_id for a in accounts}),
                    keep=keep,
                    remove=remove,
                )
            )
        return groups

    def _findings(self, location_id: str) -> list[BillingFinding]:
        found = [
            BillingFinding(
                provider=item.get("provider", ""),
                reason=item.get("reason", DUPLICATE_ACCOUNTS_REASON),
                accounts=list(item.get("accounts", [])),
                person_ids=list(item.get("person_ids", [])),
                membership_id=item.get("membership_id") or None,
            )
            for item in self.audit.findings(location_id)
        ]
        # The member sync (ABC) counts skips per reason in its run record, without ids: the
        # latest run's count says how many records hit the duplicate-accounts rule.
        runs = sorted(self.state.runs(location_id, "members"), key=lambda r: r.started_at)
        if runs:
            for reason, count in runs[-1].skip_reasons.items():
                if DUPLICATE_ACCOUNTS_REASON in reason:
                    found.append(BillingFinding(provider="abc", reason=reason, count=count))
        return found

    # -- resolutions ----------------------------------------------------------------------
    def resolve(
        self, location_id: str, group_id: str, action: Action, *, dry_run: bool = False
    ) -> AuditEntry:
        """Applies the group's prescribed action, or with `dry_run` returns the audit entry it
        would write (every before/after image) and writes nothing."""
        data = self._load(location_id)
        current = self.report([location_id])
        group = current.group(group_id)
        if group is None:
            raise ResolutionRefused(_why_gone(group_id, data))
        if group.action is Action.REVIEW:
            raise ResolutionRefused(f"group {group_id}: no action is prescribed ({group.reason})")
        if group.action is not action:
            raise ResolutionRefused(
                f"group {group_id}: the prescribed action is {group.action.value!r}, "
                f"not {action.value!r} ({group.reason})"
            )
        now = self.clock()
        if action is Action.MERGE_INTO_MEMBER:
            changes = self._merge(data, group, now)
        elif action is Action.DELETE_WITHOUT_AGREEMENT:
            changes = [
                c for pid in group.remove for c in _soft_delete(data.people[pid], now, data.region)
            ]
        else:
            changes = _archive(data, group)
        entry = AuditEntry(
            audit_id=uuid.uuid4().hex[:12],
            location_id=location_id,
            at=now,
            action=action.value,
            group_id=group_id,
            reason=group.reason,
            changes=changes,
        )
        if not dry_run:
            # The trail first: if a write fails half way, the entry still says what was meant.
            self.audit.put(entry)
            self._apply(changes, forward=True)
        return entry

    def undo(self, location_id: str, audit_id: str, *, dry_run: bool = False) -> AuditEntry:
        entry = self.audit.get(location_id, audit_id)
        if entry is None:
            raise ResolutionRefused(f"no audit entry {audit_id} at location {location_id}")
        if entry.undone_at is not None:
            raise ResolutionRefused(f"audit entry {audit_id} was undone at {entry.undone_at}")
        for change in entry.changes:
            now_item = self.entities.table.get(change.key)
            if now_item != change.after:
                raise ResolutionRefused(
                    f"item {change.key[1]} changed after the resolution; undo would lose that "
                    "change"
                )
        now = self.clock()
        reverted = AuditEntry(
            audit_id=uuid.uuid4().hex[:12],
            location_id=location_id,
            at=now,
            action=f"undo {entry.action}",
            group_id=entry.group_id,
            reason=f"undo of {audit_id}",
            changes=[ItemChange(key=c.key, before=c.after, after=c.before) for c in entry.changes],
            undoes=audit_id,
        )
        if not dry_run:
            self._apply(entry.changes, forward=False)
            self.audit.put(entry.model_copy(update={"undone_at": now}))
            self.audit.put(reverted)
        return reverted

    def _apply(self, changes: Sequence[ItemChange], *, forward: bool) -> None:
        puts: list[Item] = []
        deletes: list[Key] = []
        for change in changes:
            target = change.after if forward else change.before
            if target is None:
                deletes.append(change.key)
            else:
                puts.append(target)
        self.entities.table.batch_write(puts, deletes)

    def _merge(self, data: _LocationData, group: DuplicateGroup, now: datetime) -> list[ItemChange]:
        assert group.keep is not None
        member = data.people[group.keep]
        merged = member
        changes: list[ItemChange] = []
        for pid in group.remove:
            prospect = data.people[pid]
            merged = _merged_person(merged, prospect)
            changes.extend(self._moved_activity(member.location_id, pid, merged.person_id))
            changes.extend(_soft_delete(prospect, now, data.region, merged_into=member.person_id))
        changes.insert(
            0,
            ItemChange(
                key=person_key(member.location_id, member.person_id),
                before=person_to_item(member, data.region),
                after=person_to_item(merged, data.region),
            ),
        )
        return changes

    def _moved_activity(self, location_id: str, from_id: str, to_id: str) -> list[ItemChange]:
        """Events, check-ins, follow-up history and the like of the prospect now point at the
        member (their `person_id`); a follow-up record keyed by person (PT follow-up, schedule
        track with its contacts) moves if the member has none."""
        changes = []
        pk = location_pk(location_id)
        for prefix in _ACTIVITY_PREFIXES:
            for item in self.entities.table.query(pk, prefix):
                if item.get("person_id") != from_id:
                    continue
                moved = {**item, "person_id": to_id}
                if prefix in _KEYED_BY_PERSON and item["sk"] == f"{prefix}{from_id}":
                    target = f"{prefix}{to_id}"
                    if self.entities.table.get((pk, target)) is not None:
                        continue  # the member's own record wins; the prospect's stays
                    moved["sk"] = target
                    changes.append(ItemChange(key=(pk, item["sk"]), before=item, after=None))
                    changes.append(ItemChange(key=(pk, target), before=None, after=moved))
                    continue
                changes.append(ItemChange(key=(pk, item["sk"]), before=item, after=moved))
        return changes


def _account(data: _LocationData, person: Person) -> Account:
    agreements = sorted(
        data.agreements[k].system_id
        for k in person.agreement_keys
        if k in data.agreements and not data.agreements[k].archived
    )
    return Account(
        person_id=person.person_id,
        location_id=person.location_id,
        kind=person.kind,
        billing_member_id=person.billing_member_id,
        agreements=agreements,
    )


def _agreement_groups(data: _LocationData) -> list[DuplicateGroup]:
    """Copies of one agreement: the same id more than once (the old Club Hub bug, or imported
    history), or a pending membership next to a real one of the same person sold less than 30
    days apart. The keeper: a real one, current first, then the earliest key."""
    live = [a for a in data.agreements.values() if not a.archived]
    by_id: dict[str, list[MembershipAgreement]] = defaultdict(list)
    for agreement in live:
        by_id[agreement.system_id].append(agreement)
    groups = []
    for system_id, copies in sorted(by_id.items()):
        if len(copies) > 1:
            groups.append(_archive_group(f"agreement:{system_id}", copies, "agreement id twice"))
    by_person: dict[str, list[MembershipAgreement]] = defaultdict(list)
    for agreement in live:
        by_person[agreement.person_id].append(agreement)
    for person_id, held in sorted(by_person.items()):
        reals = [a for a in held if not is_pending(a)]
        for pending in (a for a in held if is_pending(a)):
            close = [
                r
                for r in reals
                if r.sale_date
                and pending.sale_date
                and abs(r.sale_date - pending.sale_date) < PENDING_REPLACEMENT_WINDOW
            ]
            if close:
                groups.append(
                    _archive_group(
                        f"pending:{person_id}:{pending.agreement_key}",
                        [*close[:1], pending],
                        "pending membership left next to its real one",
                    )
                )
    return groups


def _archive_group(group_id: str, copies: list[MembershipAgreement], why: str) -> DuplicateGroup:
    ordered = sorted(copies, key=lambda a: (is_pending(a), not a.is_current, a.agreement_key))
    return DuplicateGroup(
        group_id=group_id,
        action=Action.ARCHIVE_COPIES,
        reason=f"duplicated agreements ({why}): archive the copies",
        locations=sorted({a.location_id for a in copies}),
        keep=ordered[0].agreement_key,
        remove=[a.agreement_key for a in ordered[1:]],
    )


def _archive(data: _LocationData, group: DuplicateGroup) -> list[ItemChange]:
    changes = []
    for key in group.remove:
        agreement = data.agreements[key]
        archived = agreement.model_copy(update={"archived": True, "is_current": False})
        changes.append(
            ItemChange(
                key=(location_pk(agreement.location_id), f"{AGREEMENT_PREFIX}{key}"),
                before=agreement_to_item(agreement),
                after=agreement_to_item(archived),
            )
        )
    return changes


def _merged_person(member: Person, prospect: Person) -> Person:
    """The member keeps its own values; the prospect fills what the member lacks (contact,
    marketing source, follow-up person) and its notes are appended, so nothing typed is lost."""
    notes = "\n".join(n for n in (member.notes, prospect.notes) if n) or None
    return member.model_copy(
        update={
            "contact": merge_contact(member.contact, prospect.contact, RecordOwner.CRM),
            "notes": notes,
            "marketing_source": member.marketing_source or prospect.marketing_source,
            "marketing_source_id": member.marketing_source_id or prospect.marketing_source_id,
            "follow_up_person_id": member.follow_up_person_id or prospect.follow_up_person_id,
            "opt_ins": member.opt_ins.model_copy(
                update={
                    "email": member.opt_ins.email or prospect.opt_ins.email,
                    "sms": member.opt_ins.sms or prospect.opt_ins.sms,
                }
            ),
            "created_at": min(
                (d for d in (member.created_at, prospect.created_at) if d), default=None
            ),
        }
    )


def _soft_delete(
    person: Person, now: datetime, region: str, merged_into: str | None = None
) -> list[ItemChange]:
    """The person item leaves `PERSON#` (so no sync, match or report sees it) and is kept
    under `DELETED#PERSON#` with when and why, for audit and undo."""
    item = person_to_item(person, region)
    kept = {
        k: v for k, v in item.items() if k not in ("gsi1pk", "gsi1sk")
    }  # not found by billing id any more
    kept["sk"] = f"{DELETED_PREFIX}{item['sk']}"
    kept["deleted_at"] = now.isoformat()
    if merged_into:
        kept["merged_into"] = merged_into
    return [
        ItemChange(key=(item["pk"], item["sk"]), before=item, after=None),
        ItemChange(key=(item["pk"], kept["sk"]), before=None, after=kept),
    ]


def _why_gone(group_id: str, data: _LocationData) -> str:
    if group_id.startswith(("agreement:", "pending:")):
        return f"group {group_id}: no copies left to archive (archived, replaced or changed)"
    ids = group_id.split("+")
    missing = [pid for pid in ids if pid not in data.people]
    if missing:
        return (
            f"group {group_id} no longer exists: account(s) {', '.join(missing)} were deleted, "
            "merged or moved"
        )
    keys = {pid: PersonIndexEntry.of(data.people[pid], data.region) for pid in ids}
    first = keys[ids[0]]
    for pid in ids[1:]:
        other = keys[pid]
        if other.name_key != first.name_key:
            return f"accounts no longer match: {ids[0]} and {pid} have different names"
        if not (
            (first.email_key and first.email_key == other.email_key)
            or set(first.phone_keys) & set(other.phone_keys)
        ):
            return f"accounts no longer match: {ids[0]} and {pid} share no email or phone"
    return f"group {group_id} no longer exists: its accounts now form another group"


@dataclass
class WeeklyReports:
    """What a scheduled run did: group counts of the reports it stored, and the locations it
    left for the next run because its time ran out."""

    groups: dict[str, int] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)


def store_weekly_reports(
    duplicates: Duplicates,
    location_ids: Iterable[str] | None = None,
    *,
    should_stop: Callable[[], bool] = lambda: False,
) -> WeeklyReports:
    """The scheduled run: one report per location, stored under `DUPLICATES#{date}` (UTC date
    of the run). Without `location_ids` (the schedule, run several times on Monday morning):
    every registered location whose report of the day is not stored yet, so each run carries
    on where the previous one stopped. Named locations are always recomputed (an operator's
    re-run). `should_stop` is asked before each location; the rest are left `pending`."""
    today = duplicates.clock().date().isoformat()
    if location_ids is not None:
        wanted = list(location_ids)
    else:
        wanted = [
            s.location_id
            for s in duplicates.state.locations()
            if not duplicates.audit.has_report(s.location_id, today)
        ]
    result = WeeklyReports()
    for location_id in wanted:
        if should_stop():
            result.pending.append(location_id)
            continue
        report = duplicates.report([location_id])
        duplicates.audit.put_report(
            location_id, report.generated_at.date().isoformat(), report.model_dump(mode="json")
        )
        result.groups[location_id] = len(report.groups) + len(report.agreement_groups)
    return result
