"""A location's initial integration (`clubsync locations onboard`), for every provider.

FAQ: "What syncs during a location's initial integration? All active members, employees,
prospects". Run once per location, in this order:

1. **Zone check.** The provider's `check_zone()` (ABC: the club's `timeZone` from GET /clubs)
   against the location's configured zone. A mismatch stops onboarding before anything is
   written: every time read would be off by the difference.
2. **Active members** through the engine (lease, quarantine, run record, watermark), with the
   integration query set (`windows.integration_member_queries`: active members only).
3. **Employees** through the engine, as the full sync runs them.
4. **Billing prospects** (the provider's `prospect_source()`; ABC: GET /prospects). Prospects
   are the CRM's from then on (spec: "Prospects should be created in Club OS, not ABC"), so
   this is an import, not a sync: a billing prospect matching a person of the location (its
   billing id; else an identical full name and the same email or phone, linked or not) is left
   as it is (never overwritten); otherwise a CRM prospect is created, linked to its billing id
   and marked as already in billing, so the prospect push does not send it back. A billing
   prospect that cannot be read is quarantined with its reason (type `billing_prospects`, as
   `clubsync runs` and the quarantine lists show) until a later import reads it valid.
5. **The marker** `INTEGRATED#` in the state table: when, onto which provider, the run ids and
   the counts. Onboarding again is refused unless `again` is given.

A step the provider does not offer (Club Hub has no employees, no billing prospects) is skipped
and reported so. Re-integration onto a new provider keeps its own path: the CRM's prospects are
pushed once to the new billing system by `clubsync prospects reintegrate`
(features/prospect_reintegration.py); onboarding never pushes.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from clubsync.domain.billing import BillingProspect
from clubsync.domain.follow_up_rules import starting_status
from clubsync.domain.people import Person, PersonKind, ProspectPush, ProspectPushState
from clubsync.domain.runs import RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.domain.windows import Window
from clubsync.engine.sync_engine import (
    UNIDENTIFIED_PREFIX,
    SyncEngine,
    SyncFailed,
    content_hash,
    utc_now,
)
from clubsync.engine.sync_types import record_engine
from clubsync.features.prospect_push import push_hash
from clubsync.providers.base import (
    Capabilities,
    InvalidRecord,
    MemberSource,
    RecordSource,
    SourceError,
)
from clubsync.resources.matching import MatchIndex
from clubsync.resources.member_windows import integration_member_queries
from clubsync.resources.members import MemberJob
from clubsync.store.entities import EntityRepository, PersonIndexEntry
from clubsync.store.state import QuarantinedRecord, StateRepository

# Where imported prospects start in the membership follow-up schedule: as if staff entered them.
IMPORTED_PROSPECT_SOURCE = "staff"
# The quarantine's type for billing prospects: they are imported once, not a sync type.
BILLING_PROSPECTS = "billing_prospects"


class OnboardingRefused(Exception):
    """Onboarding cannot run as things are (a zone mismatch, already integrated, billing
    unreadable, a sync failed); the message is one line for the person running it."""


class ZoneMismatch(OnboardingRefused):
    """The location's configured zone is not the billing system's; nothing was written."""


class AlreadyIntegrated(OnboardingRefused):
    """The location carries an integration marker; onboard again only on purpose."""


class OnboardingConnection(Protocol):
    """What onboarding needs of a location's connection (providers/registry.py's
    CheckedConnection: it refuses what the provider does not offer, and answers None for the
    optional hooks of providers/base.py's IntegrationHooks)."""

    provider: str
    capabilities: Capabilities

    def member_source(self) -> MemberSource: ...

    def record_source(self, sync_type: SyncType) -> RecordSource: ...

    def check_zone(self) -> str | None: ...

    def prospect_source(self) -> RecordSource | None: ...


@dataclass
class IntegrationMemberJob(MemberJob):
    """The member job with the integration's queries (active members only); everything else,
    matching and merge included, is the member sync's."""

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]:
        return list(integration_member_queries())


@dataclass
class OnboardReport:
    location_id: str
    provider: str
    dry_run: bool = False
    integrated_at: datetime | None = None
    members: RunRecord | None = None
    employees: RunRecord | None = None
    # created / matched / invalid; None when the provider offers no billing prospects
    prospects: Counter[str] | None = None
    invalid_prospects: Counter[str] = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)

    def marker(self) -> dict[str, Any]:
        def run(record: RunRecord | None) -> dict[str, Any] | None:
            if record is None:
                return None
            return {"run_id": record.run_id, "counts": record.counts.model_dump()}

        return {
            "integrated_at": self.integrated_at.isoformat() if self.integrated_at else None,
            "provider": self.provider,
            "members": run(self.members),
            "employees": run(self.employees),
            "prospects": dict(self.prospects) if self.prospects is not None else None,
            "skipped": list(self.skipped),
        }


def imported_prospect_id(provider: str, location_id: str, billing_prospect_id: str) -> str:
    """Deterministic, so importing the same billing prospect twice names one person."""
    seed = f"{provider}:{location_id}:prospect:{billing_prospect_id}".encode()
    return hashlib.sha256(seed).hexdigest()[:32]


def _prospect_records(source: RecordSource, zone: str) -> Iterator[dict[str, Any]]:
    # Every prospect billing holds: an open window.
    for page in source.pages(Window(name="integration-prospects", zone=zone)):
        yield from page.records


def import_billing_prospects(
    settings: LocationSettings,
    source: RecordSource,
    entities: EntityRepository,
    *,
    provider: str,
    now: datetime,
    state: StateRepository | None = None,
    invalid: Counter[str] | None = None,
) -> Counter[str]:
    """Creates a CRM prospect for every billing prospect no person of the location matches;
    returns the counts (created, matched, invalid). `invalid` gathers the reasons (never a
    value); with `state`, each invalid record is quarantined with its reason, and released
    once an import reads it valid. Written in one batch at the end: the import is a few
    thousand people at most, and a crash before the write leaves nothing half done (running it
    again is the same import)."""
    region = settings.country
    index = MatchIndex(entities.person_index(settings.location_id, region), region)
    quarantine = state.quarantine_index(settings.location_id, BILLING_PROSPECTS) if state else {}
    quarantined: list[QuarantinedRecord] = []
    released: list[tuple[str, str, str]] = []
    counts: Counter[str] = Counter()
    created: list[Person] = []
    for record in _prospect_records(source, settings.time_zone):
        record_hash = content_hash(BILLING_PROSPECTS.encode(), source.content(record))
        record_id = source.record_id(record) or f"{UNIDENTIFIED_PREFIX}{record_hash[:16]}"
        try:
            prospect = source.translate(record)
        except InvalidRecord as error:
            counts["invalid"] += 1
            if invalid is not None:
                invalid[error.reason] += 1
            if quarantine.get(record_id) != record_hash:
                quarantined.append(
                    QuarantinedRecord(
                        location_id=settings.location_id,
                        sync_type=BILLING_PROSPECTS,
                        record_id=record_id,
                        reason=error.reason,
                        payload=record,
                        content_hash=record_hash,
                        first_seen=now,
                        last_seen=now,
                    )
                )
            continue
        if record_id in quarantine:
            released.append((settings.location_id, BILLING_PROSPECTS, record_id))
        assert isinstance(prospect, BillingProspect)
        person_id = imported_prospect_id(
            provider, settings.location_id, prospect.billing_prospect_id
        )
        billing_id = prospect.billing_prospect_id
        # Linked people count too (`linked_to_another_account`): a member who was this
        # prospect has a billing id of its own and must not gain a prospect twin.
        if (
            index.entry(person_id) is not None
            or index.find(billing_id, prospect.contact) is not None
            or index.linked_to_another_account(billing_id, prospect.contact) is not None
        ):
            counts["matched"] += 1
            continue
        person = Person(
            person_id=person_id,
            location_id=settings.location_id,
            kind=PersonKind.PROSPECT,
            follow_up_status=starting_status(IMPORTED_PROSPECT_SOURCE),
            contact=prospect.contact,
            billing_member_id=billing_id,
            billing_club=settings.account_key,
            created_from_billing=True,
            created_at=prospect.created_at or now,
        )
        # Already in billing: the push block says so (with the hash of what billing holds), so
        # the entities stream's prospect push leaves it alone until staff edit it, and then
        # updates this billing record (PUT) instead of creating a second one.
        person.push = ProspectPush(
            state=ProspectPushState.PUSHED,
            billing_member_id=billing_id,
            pushed_hash=push_hash(person),
            last_attempt_at=now,
        )
        created.append(person)
        index.put(PersonIndexEntry.of(person, region))
        counts["created"] += 1
    if created:
        entities.save(created, default_region=region)
    if state is not None and (quarantined or released):
        state.save_quarantine(quarantined, released)
    return counts


def _succeeded(run: RunRecord, what: str) -> RunRecord:
    if run.status is not RunStatus.SUCCEEDED:
        detail = f": {run.message}" if run.message else ""
        raise OnboardingRefused(f"{what} sync did not finish ({run.status.value}){detail}")
    return run


def onboard_location(
    settings: LocationSettings,
    connection: OnboardingConnection,
    entities: EntityRepository,
    state: StateRepository,
    *,
    clock: Callable[[], datetime] = utc_now,
    again: bool = False,
    dry_run: bool = False,
) -> OnboardReport:
    """Runs the location's initial integration (module docstring). Raises ZoneMismatch or
    AlreadyIntegrated before anything is written, and OnboardingRefused when a step fails
    (the marker is then not written: onboarding again resumes nothing but is safe, as every
    step is idempotent). `dry_run` checks the marker and the zone and writes nothing."""
    location_id = settings.location_id
    report = OnboardReport(location_id=location_id, provider=connection.provider, dry_run=dry_run)
    marker = state.integration(location_id)
    if marker is not None and not again:
        raise AlreadyIntegrated(
            f"location {location_id!r} is already integrated (onto {marker.get('provider')}, "
            f"{marker.get('integrated_at')}); give --again to run the integration again"
        )
    try:
        mismatch = connection.check_zone()
    except SourceError as error:
        raise OnboardingRefused(f"the zone check could not read billing: {error}") from error
    if mismatch is not None:
        raise ZoneMismatch(f"location {location_id!r}: {mismatch}; nothing was written")
    pulls = connection.capabilities.pulls
    report.skipped = [
        f"{sync_type.value} (not offered by {connection.provider})"
        for sync_type in (SyncType.MEMBERS, SyncType.EMPLOYEES)
        if sync_type not in pulls
    ]
    if dry_run:
        return report
    now = clock()
    try:
        if SyncType.MEMBERS in pulls:
            job = IntegrationMemberJob(settings, connection.member_source(), entities, state=state)
            engine = SyncEngine(
                settings=settings, job=job, entities=entities, state=state, clock=clock
            )
            report.members = _succeeded(engine.run(SyncKind.FULL, now), "member")
        if SyncType.EMPLOYEES in pulls:
            employees = record_engine(
                SyncType.EMPLOYEES,
                settings=settings,
                source=connection.record_source(SyncType.EMPLOYEES),
                entities=entities,
                state=state,
                clock=clock,
            )
            report.employees = _succeeded(employees.run(SyncKind.FULL, now), "employee")
        prospects = connection.prospect_source()
        if prospects is None:
            report.skipped.append(f"billing prospects (not offered by {connection.provider})")
        else:
            report.prospects = import_billing_prospects(
                settings,
                prospects,
                entities,
                provider=connection.provider,
                now=now,
                state=state,
                invalid=report.invalid_prospects,
            )
    except SyncFailed as failed:
        raise OnboardingRefused(f"onboarding stopped: {failed}") from failed
    except SourceError as error:
        raise OnboardingRefused(
            f"onboarding stopped: billing could not be read: {error}"
        ) from error
    report.integrated_at = clock()
    state.put_integration(location_id, report.marker())
    return report


def describe(report: OnboardReport) -> Sequence[str]:
    """The report as lines for the CLI (counts only, no personal data)."""
    lines = []
    for label, run in (("members (active)", report.members), ("employees", report.employees)):
        if run is not None:
            c = run.counts
            lines.append(
                f"{label}: {c.fetched} fetched, {c.created} created, {c.updated} updated, "
                f"{c.unchanged} unchanged, {c.quarantined} quarantined (run {run.run_id})"
            )
    if report.prospects is not None:
        p = report.prospects
        lines.append(
            f"billing prospects: {p['created']} created, {p['matched']} matched (left as "
            f"they are), {p['invalid']} invalid (quarantined with their reasons)"
        )
    lines += [f"skipped: {what}" for what in report.skipped]
    return lines
