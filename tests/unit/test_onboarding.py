"""Initial integration (features/onboarding.py) with in-memory stores and fake or mocked billing:
no sockets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from clubsync.domain.billing import BillingProspect
from clubsync.domain.people import ContactData, Person, PersonKind, ProspectPushState
from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.domain.windows import ActiveStatus, Window
from clubsync.features.onboarding import (
    BILLING_PROSPECTS,
    AlreadyIntegrated,
    IntegrationMemberJob,
    ZoneMismatch,
    import_billing_prospects,
    onboard_location,
)
from clubsync.features.prospect_push import needs_push
from clubsync.providers.base import (
    Capabilities,
    InvalidRecord,
    MemberSource,
    RawRecord,
    RecordSource,
    SourcePage,
)
from clubsync.providers.registry import connect_location
from clubsync.resources.member_windows import integration_member_queries
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
LOCATION = LocationSettings(
    location_id="springfield", club_number="0451", time_zone="America/Chicago"
)


class FakeProspects:
    """A billing prospect source over fixed records (`bad` ones fail translation)."""

    provider = "fake"
    request_count = 0

    def __init__(self, records: list[RawRecord]) -> None:
        self.records = records

    def pages(self, query: Window, start_page: int = 1) -> Iterator[SourcePage]:
        yield SourcePage(number=1, next_page=None, records=self.records)

    def record_id(self, record: RawRecord) -> str | None:
        return str(record["id"])

    def content(self, record: RawRecord) -> bytes:
        return json.dumps(record, sort_keys=True).encode()

    def translate(self, record: RawRecord) -> BillingProspect:
        if record.get("bad"):
            raise InvalidRecord("personal.birthDate: expected a date YYYY-MM-DD")
        return BillingProspect(
            billing_prospect_id=str(record["id"]),
            contact=ContactData(
                first_name=record["first"], last_name=record["last"], email=record.get("email")
            ),
        )


class FakeConnection:
    """A connection offering no pulls, only the integration hooks."""

    provider = "fake"
    capabilities = Capabilities(pulls=frozenset())

    def __init__(self, mismatch: str | None = None, prospects: FakeProspects | None = None):
        self.mismatch = mismatch
        self.prospects = prospects
        self.zone_checks = 0

    def member_source(self) -> MemberSource:
        raise AssertionError("not offered")

    def record_source(self, sync_type: SyncType) -> RecordSource:
        raise AssertionError("not offered")

    def check_zone(self) -> str | None:
        self.zone_checks += 1
        return self.mismatch

    def prospect_source(self) -> RecordSource | None:
        return self.prospects


@pytest.fixture
def stores() -> tuple[EntityRepository, StateRepository, MemoryItemTable, MemoryItemTable]:
    entities_table, state_table = MemoryItemTable("entities"), MemoryItemTable("state")
    return (
        EntityRepository(entities_table),
        StateRepository(state_table),
        entities_table,
        state_table,
    )


def test_integration_queries_are_active_members_only() -> None:
    queries = integration_member_queries()
    assert [q.active_status for q in queries] == [ActiveStatus.ACTIVE]
    assert all(q.modified_since is None for q in queries)


def test_integration_member_job_ignores_kind_and_watermark(stores: Any) -> None:
    entities, *_ = stores
    job = IntegrationMemberJob(LOCATION, source=None, entities=entities)  # type: ignore[arg-type]
    from clubsync.domain.runs import SyncKind

    for kind in (SyncKind.FULL, SyncKind.PARTIAL):
        assert job.queries(kind, now=NOW, last_success=NOW) == list(integration_member_queries())


def test_zone_mismatch_stops_before_anything_is_written(stores: Any) -> None:
    entities, state, entities_table, state_table = stores
    prospects = FakeProspects([{"id": "p1", "first": "Ann", "last": "Lee"}])
    connection = FakeConnection(
        mismatch="ABC club 0451 reports timeZone America/New_York", prospects=prospects
    )
    with pytest.raises(ZoneMismatch, match="America/New_York; nothing was written"):
        onboard_location(LOCATION, connection, entities, state, clock=lambda: NOW)
    assert entities_table.all_items() == []
    assert state_table.all_items() == []


def test_onboard_imports_prospects_and_records_the_marker_once(stores: Any) -> None:
    entities, state, *_ = stores
    prospects = FakeProspects(
        [
            {"id": "p1", "first": "Ann", "last": "Lee", "email": "ann@example.org"},
            {"id": "p2", "bad": True},
        ]
    )
    connection = FakeConnection(prospects=prospects)
    report = onboard_location(LOCATION, connection, entities, state, clock=lambda: NOW)
    assert report.prospects is not None
    assert dict(report.prospects) == {"created": 1, "invalid": 1}
    assert dict(report.invalid_prospects) == {"personal.birthDate: expected a date YYYY-MM-DD": 1}
    marker = state.integration(LOCATION.location_id)
    assert marker is not None
    assert marker["provider"] == "fake"
    assert marker["prospects"] == {"created": 1, "invalid": 1}
    assert marker["integrated_at"] == NOW.isoformat()
    assert "members (not offered by fake)" in marker["skipped"]

    with pytest.raises(AlreadyIntegrated, match="--again"):
        onboard_location(LOCATION, connection, entities, state, clock=lambda: NOW)
    again = onboard_location(LOCATION, connection, entities, state, clock=lambda: NOW, again=True)
    assert again.prospects is not None and again.prospects["matched"] == 1
    assert len(entities.people(LOCATION.location_id)) == 1


def test_an_invalid_billing_prospect_is_quarantined_until_it_reads_valid(stores: Any) -> None:
    entities, state, _, state_table = stores
    bad = {"id": "p2", "bad": True}
    import_billing_prospects(
        LOCATION, FakeProspects([bad]), entities, provider="fake", now=NOW, state=state
    )
    [kept] = state.quarantined(LOCATION.location_id, BILLING_PROSPECTS)
    assert (kept.record_id, kept.reason) == ("p2", "personal.birthDate: expected a date YYYY-MM-DD")
    assert kept.payload == bad

    # The same import again writes nothing new.
    before = state_table.all_items()
    import_billing_prospects(
        LOCATION, FakeProspects([bad]), entities, provider="fake", now=NOW, state=state
    )
    assert state_table.all_items() == before

    # Fixed in billing: the next import creates the prospect and releases the quarantine.
    fixed = {"id": "p2", "first": "Bo", "last": "Ng"}
    counts = import_billing_prospects(
        LOCATION, FakeProspects([fixed]), entities, provider="fake", now=NOW, state=state
    )
    assert dict(counts) == {"created": 1}
    assert state.quarantined(LOCATION.location_id, BILLING_PROSPECTS) == []


def test_dry_run_checks_the_zone_and_writes_nothing(stores: Any) -> None:
    entities, state, entities_table, state_table = stores
    connection = FakeConnection(prospects=FakeProspects([{"id": "p1", "first": "A", "last": "B"}]))
    report = onboard_location(LOCATION, connection, entities, state, dry_run=True)
    assert report.dry_run and connection.zone_checks == 1
    assert entities_table.all_items() == [] and state_table.all_items() == []


def test_imported_prospect_is_linked_and_not_pushed_back(stores: Any) -> None:
    entities, *_ = stores
    source = FakeProspects([{"id": "p9", "first": "Ann", "last": "Lee"}])
    import_billing_prospects(LOCATION, source, entities, provider="abc", now=NOW)
    (person,) = entities.people(LOCATION.location_id)
    assert person.kind is PersonKind.PROSPECT and person.created_from_billing
    assert person.billing_member_id == "p9"
    assert person.push is not None and person.push.state is ProspectPushState.PUSHED
    # The entities stream would not push it: billing has it already.
    assert not needs_push(None, person)


def test_a_matching_person_is_never_overwritten(stores: Any) -> None:
    entities, *_ = stores
    staff_entered = Person(
        person_id="crm-1",
        location_id=LOCATION.location_id,
        kind=PersonKind.PROSPECT,
        contact=ContactData(
            first_name="Ann", last_name="Lee", email="ann@example.org", city="Shelbyville"
        ),
        notes="met at the front desk",
    )
    member = Person(
        person_id="m-1",
        location_id=LOCATION.location_id,
        kind=PersonKind.MEMBER,
        billing_member_id="member-77",
        contact=ContactData(first_name="Bo", last_name="Ray", email="bo@example.org"),
    )
    entities.save([staff_entered, member])
    source = FakeProspects(
        [
            # same name and email as the CRM prospect
            {"id": "p1", "first": "ANN", "last": "Lee", "email": "ann@example.org"},
            # same name and email as a member linked to billing: no prospect twin
            {"id": "p2", "first": "Bo", "last": "Ray", "email": "bo@example.org"},
            {"id": "p3", "first": "Cy", "last": "Ng"},
        ]
    )
    counts = import_billing_prospects(LOCATION, source, entities, provider="abc", now=NOW)
    assert dict(counts) == {"matched": 2, "created": 1}
    people = {p.person_id: p for p in entities.people(LOCATION.location_id)}
    assert people["crm-1"] == staff_entered
    assert len(people) == 3


def _abc_connection(time_zone: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/rest/0451/clubs"
        body = {"status": {"message": "success"}, "club": {"name": "S", "timeZone": time_zone}}
        return httpx.Response(200, json=body)

    return connect_location(
        LOCATION,
        lambda settings: {"app_id": "a", "app_key": "k"},
        client_options={"abc": {"base_url": "https://abc.test/rest"}},
        transport=httpx.MockTransport(handler),
    )


def test_abc_zone_check_uses_the_club_record() -> None:
    assert _abc_connection("America/Chicago").check_zone() is None
    assert _abc_connection("US/Central").check_zone() is None
    message = _abc_connection("America/Denver").check_zone()
    assert message is not None and "America/Denver" in message and "\n" not in message


def test_abc_offers_a_billing_prospect_source() -> None:
    source = _abc_connection("America/Chicago").prospect_source()
    assert source is not None
    prospect = source.translate(
        {
            "prospectId": "abc123",
            "personal": {
                "firstName": "Dana",
                "lastName": "Reyes",
                "email": "dana@example.org",
                "createdTimestamp": "2026-11-01 09:30:00.000000",
            },
            "agreement": {"tourDate": "2026-11-02"},
        }
    )
    assert prospect == BillingProspect(
        billing_prospect_id="abc123",
        contact=ContactData(first_name="Dana", last_name="Reyes", email="dana@example.org"),
        created_at=datetime(2026, 11, 1, 15, 30, tzinfo=UTC),
    )
