"""Model-based tests of the unattended sync (issue 11, section 5).

A model of billing changes under the engine while full and partial syncs run, crash at any
DynamoDB request (as an error the engine sees, or as a killed process), pause and resume,
meet billing faults and are replayed. After every successful sync the CRM must agree with the
model: every billing member once, with billing's agreement as its current one, no person
pointing at an agreement that does not exist, nothing modified before the watermark missed;
the same for check-ins, the non-member type here. A replayed successful sync writes nothing.

Quick and derandomized in the default run (CI loads the "ci" profile, tests/conftest.py);
`pytest -m slow tests/unit/test_sync_model_property.py` runs the long soak.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from clubsync.domain.runs import RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings, RecordOwner
from clubsync.domain.windows import Window
from clubsync.engine.sync_engine import LEASE_TTL, SyncFailed
from clubsync.engine.sync_types import record_engine
from clubsync.providers.base import SourcePage
from clubsync.resources.members import MemberSync
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.records import CHECKIN_DAY_PREFIX, record_id_of_day_key
from clubsync.store.state import StateRepository
from tests.conftest import abc_member
from tests.fakes import ListMemberSource, ListRecordSource
from tests.faults import FaultyTable, Killed, StoreError
from tests.unit.sync_type_helpers import checkin, source_for

SETTINGS = LocationSettings(
    location_id="springfield",
    club_number="0451",
    time_zone="America/Chicago",
    # Billing owns the profile, so every billing change must show in the CRM.
    record_owner=RecordOwner.BILLING,
)
START = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # 21:00 club time
ZONE = SETTINGS.zone
QUICK = hypothesis_settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
SOAK = hypothesis_settings(QUICK, max_examples=1500, stateful_step_count=60)

# (table, request, error or kill, items a failing batch write applies first)
Crash = tuple[str, int, type[BaseException], int]
crashes = st.one_of(
    st.none(),
    st.tuples(
        st.sampled_from(["entities", "state"]),
        # Most runs of a small club make a handful of requests per table.
        st.one_of(st.integers(min_value=1, max_value=8), st.integers(min_value=1, max_value=40)),
        st.sampled_from([StoreError, Killed]),
        st.integers(min_value=0, max_value=3),
    ),
)


def local_stamp(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S.%f")


class Storage:
    """The two tables, each able to crash at a chosen request."""

    def __init__(self) -> None:
        self.entity_table = FaultyTable(MemoryItemTable("entities"))
        self.state_table = FaultyTable(MemoryItemTable("state"))
        self.entities = EntityRepository(self.entity_table)  # type: ignore[arg-type]
        self.state = StateRepository(self.state_table)  # type: ignore[arg-type]
        self.state.put_location(SETTINGS)

    def arm(self, crash: Crash | None) -> None:
        self.entity_table.crash_at(None)
        self.state_table.crash_at(None)
        if crash is not None:
            table, request, kind, applied = crash
            (self.entity_table if table == "entities" else self.state_table).crash_at(
                request, kind, applied
            )

    def disarm(self) -> None:
        self.arm(None)


class PageBudget:
    """`should_pause` for the engine: True once `pages` pages went by (None: never)."""

    def __init__(self, pages: int | None) -> None:
        self.pages = pages
        self.seen = 0

    def on_page(self, _: Any) -> None:
        self.seen += 1

    def __call__(self) -> bool:
        return self.pages is not None and self.seen >= self.pages


class SyncModel(RuleBasedStateMachine):
    """What both models share: a clock, the tables, billing faults, and syncs that may crash,
    pause and be replayed. A model says how its sync is built and what must hold after one."""

    sync_type: SyncType

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.store = Storage()
        self.billing_fault = False

    def make_engine(self, scheduled: datetime, page_size: int, budget: PageBudget) -> Any:
        """Something with `run(kind, scheduled, resume_run_id=None) -> RunRecord`."""
        raise NotImplementedError

    def check_after_success(self, kind: SyncKind, run: RunRecord) -> None:
        raise NotImplementedError

    @rule(hours=st.sampled_from([1, 5, 24, 49]))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(fault=st.booleans())
    def billing_fails(self, fault: bool) -> None:
        self.billing_fault = fault

    def run_sync(
        self, kind: SyncKind, crash: Crash | None, pause_after: int | None, page_size: int
    ) -> RunRecord | None:
        """Runs a sync, continuing it while it pauses; None when it crashed or failed."""
        # A minute after the billing changes of `now`: the sync's own start is `scheduled`.
        scheduled = self.now + timedelta(minutes=1)
        budget = PageBudget(pause_after)
        engine = self.make_engine(scheduled, page_size, budget)
        self.store.arm(crash)
        run: RunRecord | None
        try:
            run = engine.run(kind, scheduled)
            while run is not None and run.status is RunStatus.CONTINUED:
                run = self.make_engine(scheduled, page_size, budget).run(
                    kind, scheduled, resume_run_id=run.run_id
                )
        except (StoreError, SyncFailed, Killed):
            run = None
        self.store.disarm()
        # Whatever happened, the next sync comes after the lease could have expired.
        self.now = scheduled + LEASE_TTL + timedelta(minutes=1)
        if run is not None and run.status is RunStatus.SUCCEEDED:
            self.check_after_success(kind, run)
        return run

    @rule(
        kind=st.sampled_from([SyncKind.FULL, SyncKind.PARTIAL]),
        crash=crashes,
        pause_after=st.one_of(st.none(), st.integers(min_value=1, max_value=3)),
        page_size=st.sampled_from([1, 3, 30]),
    )
    def sync(
        self, kind: SyncKind, crash: Crash | None, pause_after: int | None, page_size: int
    ) -> None:
        self.run_sync(kind, crash, pause_after, page_size)

    @precondition(lambda self: not self.billing_fault)
    @rule(kind=st.sampled_from([SyncKind.FULL, SyncKind.PARTIAL]))
    def replayed_sync_writes_nothing(self, kind: SyncKind) -> None:
        first = self.run_sync(kind, None, None, 30)
        assert first is not None and first.status is RunStatus.SUCCEEDED
        self.store.entity_table.usage.reset()
        self.now -= LEASE_TTL  # the same sync again, soon after
        again = self.run_sync(kind, None, None, 30)
        assert again is not None and again.status is RunStatus.SUCCEEDED
        assert self.store.entity_table.usage.items_written == 0


class MemberSyncModel(SyncModel):
    sync_type = SyncType.MEMBERS

    def __init__(self) -> None:
        super().__init__()
        self.billing: dict[str, dict[str, Any]] = {}
        self.modified: dict[str, datetime] = {}
        self.next_member = 1

    # -- billing changes ----------------------------------------------------------------------
    def _touch(self, member_id: str) -> None:
        self.modified[member_id] = self.now
        self.billing[member_id]["personal"]["lastModifiedTimestamp"] = local_stamp(self.now)

    @rule()
    def new_member(self) -> None:
        n = self.next_member
        self.next_member += 1
        member_id = f"{n:032x}"
        self.billing[member_id] = abc_member(
            member_id,
            personal__firstName=f"First{n}",
            personal__lastName=f"Last{n}",
            personal__email=f"m{n}@example.org",
            personal__mobilePhone=f"555{n:07d}",
            personal__primaryPhone="",
            agreement__agreementNumber=f"{n:03d}01",
            agreement__signDate=self.now.astimezone(ZONE).date().isoformat(),
        )
        self._touch(member_id)

    @precondition(lambda self: self.billing)
    @rule(data=st.data(), field=st.sampled_from(["lastName", "city", "email"]))
    def change_a_field(self, data: st.DataObject, field: str) -> None:
        member_id = data.draw(st.sampled_from(sorted(self.billing)))
        personal = self.billing[member_id]["personal"]
        personal[field] = f"{personal[field]}x" if field != "email" else f"x{personal[field]}"
        self._touch(member_id)

    @precondition(lambda self: self.billing)
    @rule(data=st.data())
    def new_agreement(self, data: st.DataObject) -> None:
        member_id = data.draw(st.sampled_from(sorted(self.billing)))
        agreement = self.billing[member_id]["agreement"]
        number = int(agreement["agreementNumber"]) + 1
        agreement["agreementNumber"] = f"{number:05d}"
        agreement["signDate"] = self.now.astimezone(ZONE).date().isoformat()
        self._touch(member_id)

    def make_engine(self, scheduled: datetime, page_size: int, budget: PageBudget) -> Any:
        source = ListMemberSource(list(self.billing.values()), ZONE, page_size=page_size)
        if self.billing_fault:
            source.fail_with = "ABC GET /members failed 5 times; last: HTTP 503"
        return MemberSync(
            SETTINGS,
            source,
            self.store.entities,
            self.store.state,
            clock=lambda: scheduled,
            should_pause=budget,
            on_page=budget.on_page,
        )

    # -- what must hold -----------------------------------------------------------------------
    def check_after_success(self, kind: SyncKind, run: RunRecord) -> None:
        watermark = self.store.state.watermark(SETTINGS.location_id, "members")
        assert watermark is not None
        people = self.store.entities.people(SETTINGS.location_id)
        by_billing: dict[str, list[Any]] = {}
        for person in people:
            assert person.billing_member_id is not None
            by_billing.setdefault(person.billing_member_id, []).append(person)
        assert all(len(found) == 1 for found in by_billing.values()), "a member twice"
        agreements = {
            a.agreement_key: a for a in self.store.entities.agreements(SETTINGS.location_id)
        }
        for member_id, record in self.billing.items():
            must_reflect = kind is SyncKind.FULL or self.modified[member_id] < watermark
            if not must_reflect:
                continue
            assert member_id in by_billing, f"billing member {member_id} missed"
            (person,) = by_billing[member_id]
            last_name = person.contact.last_name or ""
            assert last_name.casefold() == record["personal"]["lastName"].casefold()
            assert person.contact.city == record["personal"]["city"]
            current = agreements.get(person.current_agreement_key or "")
            assert current is not None, "current agreement missing"
            assert current.agreement_number == record["agreement"]["agreementNumber"]
            held = [a for a in agreements.values() if a.person_id == person.person_id]
            assert sum(a.is_current for a in held) == 1, "more than one current agreement"
            keys = [*person.agreement_keys, *filter(None, [person.current_agreement_key])]
            assert all(key in agreements for key in keys), "points at a missing agreement"

    @invariant()
    def every_agreement_belongs_to_a_person_who_knows_it(self) -> None:
        """Even right after a crash: an agreement is stored only once its person lists it
        (`MemberJob`'s intents), so no merge can lose track of it."""
        people = {p.person_id: p for p in self.store.entities.people(SETTINGS.location_id)}
        for agreement in self.store.entities.agreements(SETTINGS.location_id):
            person = people.get(agreement.person_id)
            assert person is not None, f"{agreement.agreement_key} has no person"
            assert agreement.agreement_key in person.agreement_keys, agreement.agreement_key


class WindowedCheckinSource(ListRecordSource):
    """Check-ins as ABC serves them: only those inside the query's range, club-local."""

    def pages(self, query: Any, start_page: int = 1) -> Iterator[SourcePage]:
        assert isinstance(query, Window)
        every = self.records

        def inside(record: dict[str, Any]) -> bool:
            moment = datetime.fromisoformat(record["checkInTimestamp"]).replace(tzinfo=ZONE)
            return (query.start is None or moment >= query.start) and (
                query.end is None or moment <= query.end
            )

        self.records = [record for record in every if inside(record)]
        try:
            yield from super().pages(query, start_page)
        finally:
            self.records = every


class CheckinSyncModel(SyncModel):
    sync_type = SyncType.CHECKINS

    def __init__(self) -> None:
        super().__init__()
        self.billing: list[dict[str, Any]] = []
        # Check-ins before the first synced day are history the integration does not import.
        self.first_window: datetime | None = None
        self.last_sync_at = START

    @rule(count=st.integers(min_value=1, max_value=4), minutes_ago=st.sampled_from([0, 30, 300]))
    def members_check_in(self, count: int, minutes_ago: int) -> None:
        for _ in range(count):
            n = len(self.billing) + 1
            # Billing records a check-in as it happens: never behind a sync that already ran.
            moment = max(self.now - timedelta(minutes=minutes_ago), self.last_sync_at)
            self.billing.append(
                checkin(f"c{n}", member_id=f"m{n % 3}", when=local_stamp(moment)[:19])
            )

    def make_engine(self, scheduled: datetime, page_size: int, budget: PageBudget) -> Any:
        self.last_sync_at = scheduled
        source = WindowedCheckinSource(
            source_for(SyncType.CHECKINS, SETTINGS, []).translator,
            list(self.billing),
            page_size=page_size,
        )
        if self.billing_fault:
            source.fail_with = "ABC GET /clubs/checkins/details failed 5 times; last: HTTP 503"
        return record_engine(
            SyncType.CHECKINS,
            settings=SETTINGS,
            source=source,
            entities=self.store.entities,
            state=self.store.state,
            clock=lambda: scheduled,
            should_pause=budget,
            on_page=budget.on_page,
        )

    def check_after_success(self, kind: SyncKind, run: RunRecord) -> None:
        if self.first_window is None:
            self.first_window = run.window_start
        watermark = self.store.state.watermark(SETTINGS.location_id, "checkins")
        assert watermark is not None
        stored = {
            record_id_of_day_key(CHECKIN_DAY_PREFIX, item["sk"])
            for item in self.store.entity_table.all_items()
            if item["sk"].startswith(CHECKIN_DAY_PREFIX)
        }
        billed = {record["checkInId"] for record in self.billing}
        assert stored <= billed, "a check-in billing never had"
        for record in self.billing:
            moment = datetime.fromisoformat(record["checkInTimestamp"]).replace(tzinfo=ZONE)
            assert self.first_window is not None
            if self.first_window <= moment < watermark:
                assert record["checkInId"] in stored, f"check-in {record['checkInId']} missed"


TestMemberSyncModel = MemberSyncModel.TestCase
TestMemberSyncModel.settings = QUICK
TestCheckinSyncModel = CheckinSyncModel.TestCase
TestCheckinSyncModel.settings = QUICK


@pytest.mark.slow
class TestMemberSyncSoak(MemberSyncModel.TestCase):  # type: ignore[name-defined,misc]
    settings = SOAK


@pytest.mark.slow
class TestCheckinSyncSoak(CheckinSyncModel.TestCase):  # type: ignore[name-defined,misc]
    settings = SOAK
