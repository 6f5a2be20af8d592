"""The Mindbody provider over MockTransport: members and the Non-Member rule, the fan-out rule
(dependants only for changed clients, batches of 20), zone check, prospects, call budget."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from clubsync.domain.people import ContactData, Person, PersonKind
from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.domain.windows import ActiveStatus, MemberQuery, Window
from clubsync.providers.base import SourceError
from clubsync.providers.mindbody.members import MindbodyMemberSource
from clubsync.providers.prospects import PushRejected
from clubsync.providers.registry import connect_location
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository
from tests.providers.mindbody.fixtures import BASE, FakeMindbody, client_record, contract_record

SECRET = {"api_key": "key-generated", "username": "staff.generated", "password": "pw-generated"}


def settings(**account: Any) -> LocationSettings:
    return LocationSettings.model_validate(
        {
            "location_id": "studio-1",
            "provider": "mindbody",
            "account": {"site_id": "-99", **account},
            "time_zone": "America/New_York",
            "billing_secret_name": "mindbody/studio-1",
        }
    )


NOW = datetime(2026, 12, 2, 7, tzinfo=UTC)


def connect(
    fake: FakeMindbody,
    ledger: StateRepository | None = None,
    page_size: int = 2,
    now: datetime = NOW,
    **account: Any,
) -> Any:
    return connect_location(
        settings(**account),
        lambda _: SECRET,
        client_options={"mindbody": {"base_url": BASE, "page_size": page_size}},
        transport=fake.transport(),
        call_ledger=ledger,
        clock=lambda: now,
    )


def contracts_by_client(by_client: dict[str, list[dict[str, Any]]]) -> Any:
    return lambda params: by_client.get(params.get("request.uniqueClientId", ""), [])


def test_non_member_is_converted_only_with_a_future_contract() -> None:
    fake = FakeMindbody()
    fake.add_list(
        "/client/clientcontracts",
        "Contracts",
        contracts_by_client(
            {"2": [contract_record(20, StartDate="2099-01-01T00:00:00", EndDate=None)]}
        ),
    )
    source = connect(fake).member_source()
    plain = source.translate(client_record(1, Status="Non-Member"))
    future = source.translate(client_record(2, Status="Non-Member"))
    assert plain.is_prospect and plain.agreement is None
    assert not future.is_prospect and future.agreement is not None
    assert future.agreement.agreement_number == "20"
    # Keyed on UniqueId; the barcode Id (staff can change it) is only the contact's barcode.
    assert future.billing_member_id == "2" and future.contact.barcode == "B2"
    assert plain.photo_url == "https://photos.example.com/1.jpg"


def test_times_come_in_utc_with_z_and_a_time_without_offset_is_quarantined() -> None:
    fake = FakeMindbody()
    fake.add_list("/client/clientcontracts", "Contracts", [])
    source = connect(fake).member_source()
    member = source.translate(client_record(1, LastModifiedDateTime="2026-11-30T18:00:00Z"))
    assert member.modified_at is not None
    assert member.modified_at.astimezone(UTC) == datetime(2026, 11, 30, 18, tzinfo=UTC)
    from clubsync.providers.base import InvalidRecord

    with pytest.raises(InvalidRecord, match="without an offset"):
        source.translate(client_record(1, LastModifiedDateTime="2026-11-30T18:00:00"))


def test_prospects_cost_no_contract_call() -> None:
    fake = FakeMindbody()
    source = connect(fake).member_source()
    member = source.translate(client_record(3, IsProspect=True, Status="Non-Member"))
    assert member.is_prospect
    assert "/client/clientcontracts" not in fake.paths()


def test_member_pages_partial_uses_last_modified_date_and_inactive_filters() -> None:
    fake = FakeMindbody()
    records = [client_record(i, Active=i % 2 == 0) for i in range(1, 6)]
    fake.add_list("/client/clients", "Clients", records)
    source = connect(fake).member_source()
    since = datetime(2026, 12, 1, 5, tzinfo=UTC)
    query = MemberQuery(name="modified-since", active_status=ActiveStatus.ALL, modified_since=since)
    pages = list(source.pages(query))
    assert [p.number for p in pages] == [1, 2, 3] and pages[-1].next_page is None
    reads = [c for c in fake.calls if c.url.path.endswith("/client/clients")]
    assert reads[0].url.params["request.lastModifiedDate"] == "2026-12-01T05:00:00Z"
    assert reads[0].url.params["request.includeInactive"] == "true"
    inactive = MemberQuery(name="inactive", active_status=ActiveStatus.INACTIVE)
    kept = [r["UniqueId"] for p in source.pages(inactive) for r in p.records]
    assert kept == [1, 3, 5]
    # A continuation starts at its page of clients.
    assert [p.number for p in source.pages(query, start_page=3)] == [3]


def test_packs_are_read_twenty_clients_to_a_call_for_changed_clients_only() -> None:
    fake = FakeMindbody()
    changed = [client_record(i) for i in range(1, 4)]
    fake.add_list("/client/clients", "Clients", changed)
    fake.add_list(
        "/client/clientservices",
        "ClientServices",
        [
            {
                "Id": 9,
                "ClientID": "B1",
                "Name": "10 Class Pack",
                "Count": 10,
                "Remaining": 4,
                "Current": True,
                "ActiveDate": "2026-11-01T00:00:00",
                "ExpirationDate": "2099-01-01T00:00:00",
            },
            {"Id": 10, "ClientID": "B77", "Name": "stranger", "Count": 1},
        ],
    )
    source = connect(fake).record_source(SyncType.SERVICE_AGREEMENTS)
    window = Window(
        name="modified", start=datetime(2026, 12, 1, tzinfo=UTC), zone="America/New_York"
    )
    records = [r for page in source.pages(window) for r in page.records]
    # The fake answers every pack to every batch: only the batch of its owner keeps it.
    assert [r["Id"] for r in records] == [9]
    pack = source.translate(records[0])
    assert pack.billing_member_id == "1" and pack.unit_qty == 10 and pack.is_active
    service_calls = [c for c in fake.calls if c.url.path.endswith("/clientservices")]
    assert [c.url.params["request.uniqueClientIds"] for c in service_calls] == ["1,2", "3"]


def test_a_page_of_45_changed_clients_costs_three_pack_calls() -> None:
    fake = FakeMindbody()
    fake.add_list("/client/clients", "Clients", [client_record(i) for i in range(1, 46)])
    fake.add_list("/client/clientservices", "ClientServices", [])
    source = connect(fake, page_size=200).record_source(SyncType.SERVICE_AGREEMENTS)
    window = Window(name="m", start=datetime(2026, 12, 1, tzinfo=UTC), zone="America/New_York")
    list(source.pages(window))
    batches = [
        c.url.params["request.uniqueClientIds"].split(",")
        for c in fake.calls
        if c.url.path.endswith("/clientservices")
    ]
    assert [len(b) for b in batches] == [20, 20, 5]
    assert source.request_count == 1 + 1 + 3  # token, one page of clients, three batches


def test_dependants_are_never_read_for_every_client() -> None:
    source = connect(FakeMindbody()).record_source(SyncType.CHECKINS)
    with pytest.raises(SourceError, match="clients modified in a window"):
        list(source.pages(Window(name="all", zone="America/New_York")))


def test_visits_become_check_ins_and_events_with_attendance() -> None:
    fake = FakeMindbody()
    fake.add_list("/client/clients", "Clients", [client_record(1)])
    visits = [
        {"Id": 1, "SignedIn": True, "StartDateTime": "2026-12-01T15:00:00Z", "Name": "HIIT"},
        {
            "Id": 2,
            "AppointmentId": 50,
            "Missed": True,
            "StartDateTime": "2026-12-01T16:00:00Z",
            "EndDateTime": "2026-12-01T17:00:00Z",
            "StaffId": 4,
            "ServiceName": "PT 60",
        },
        {
            "Id": 3,
            "AppointmentId": 51,
            "LateCancelled": True,
            "StartDateTime": "2026-12-02T16:00:00Z",
        },
    ]
    fake.add_list("/client/clientvisits", "Visits", visits)
    connection = connect(fake)
    window = Window(name="day", start=datetime(2026, 12, 1, 5, tzinfo=UTC), zone="America/New_York")
    checkins = connection.record_source(SyncType.CHECKINS)
    [checkin_record] = [r for p in checkins.pages(window) for r in p.records]
    checkin = checkins.translate(checkin_record)
    assert checkin.billing_member_id == "1" and checkin.local_day == date(2026, 12, 1)
    events = connection.record_source(SyncType.EVENTS)
    found = [events.translate(r) for p in events.pages(window) for r in p.records]
    assert [(e.billing_event_id, e.attendees[0].attended, e.status) for e in found] == [
        ("50", False, "missed"),
        ("51", False, "late-cancelled"),
    ]
    assert found[0].duration_minutes == 60 and found[0].billing_employee_id == "4"
    visit_call = next(c for c in fake.calls if c.url.path.endswith("/clientvisits"))
    assert visit_call.url.params["request.startDate"] == "2026-12-01T05:00:00Z"
    assert visit_call.url.params["request.uniqueClientId"] == "1"


def test_the_zone_check_compares_the_sites_zone() -> None:
    fake = FakeMindbody()
    fake.add_list("/site/sites", "Sites", [{"Id": -99, "TimeZone": "Pacific Standard Time"}])
    problem = connect(fake).check_zone()
    assert (
        problem is not None and "America/Los_Angeles" in problem and "America/New_York" in problem
    )
    fake.lists["/site/sites"] = [{"Id": -99, "TimeZone": "Eastern Standard Time"}]
    assert connect(fake).check_zone() is None


def prospect() -> Person:
    return Person(
        person_id="p1",
        location_id="studio-1",
        kind=PersonKind.PROSPECT,
        contact=ContactData(first_name="Gen", last_name="Sample", email="gen@example.com"),
        notes="met at the open day",
    )


def test_prospects_are_checked_against_the_sites_required_fields_once() -> None:
    fake = FakeMindbody()
    fake.objects["/client/requiredclientfields"] = lambda r: {"RequiredClientFields": ["BirthDate"]}
    target = connect(fake).prospect_target()
    for _ in range(2):
        with pytest.raises(PushRejected, match="requires BirthDate"):
            target.create(prospect(), "")
    assert fake.paths().count("/client/requiredclientfields") == 1
    assert "/client/addclient" not in fake.paths()


def test_a_prospect_is_added_with_is_prospect_and_updated_by_its_id() -> None:
    fake = FakeMindbody()
    sent: list[Any] = []
    fake.objects["/client/requiredclientfields"] = lambda r: {"RequiredClientFields": []}

    def add(request: Any) -> dict[str, Any]:
        import json

        sent.append(json.loads(request.content))
        return {"Client": client_record(42, IsProspect=True)}

    fake.objects["/client/addclient"] = add
    fake.objects["/client/updateclient"] = add
    fake.add_list("/client/clients", "Clients", [client_record(42, Id="B42")])
    target = connect(fake).prospect_target()
    assert target.create(prospect(), "") == "42"
    assert sent[0]["IsProspect"] is True and sent[0]["Notes"] == "met at the open day"
    target.update("42", prospect(), "")
    assert sent[1]["Client"]["Id"] == "B42"


def test_a_sync_past_the_daily_budget_stops_and_the_count_is_kept_per_day() -> None:
    fake = FakeMindbody()
    fake.add_list("/client/clients", "Clients", [client_record(i) for i in range(1, 7)])
    state = StateRepository(MemoryItemTable())
    connection = connect(fake, state, daily_call_budget=3)
    source = connection.member_source()
    query = MemberQuery(name="active", active_status=ActiveStatus.ACTIVE)
    with pytest.raises(SourceError, match="3 calls a day, 0 spent on 2026-12-02 UTC"):
        list(source.pages(query))
    connection.close()
    day = NOW.date().isoformat()
    assert state.calls_on("mindbody#-99", day) == 3
    # The next run the same day has nothing left: it stops before its first call.
    again = connect(fake, state, daily_call_budget=3)
    with pytest.raises(SourceError, match="budget"):
        list(again.member_source().pages(query))
    assert len(fake.calls) == 3


def test_sales_detail_gathers_service_sales_into_one_catch_all_agreement() -> None:
    fake = FakeMindbody()
    fake.add_list("/client/clientcontracts", "Contracts", [])
    fake.add_list(
        "/sale/sales",
        "Sales",
        [
            {
                "Id": 1,
                "ClientId": "B5",
                "SaleDateTime": "2026-03-01T15:00:00Z",
                "PurchasedItems": [
                    {"IsService": True, "CategoryId": 3, "ExpDate": "2026-09-01T00:00:00"}
                ],
            },
            {
                "Id": 2,
                "ClientId": "B5",
                "SaleDateTime": "2026-06-01T15:00:00Z",
                "PurchasedItems": [
                    {"IsService": True, "CategoryId": 3, "ExpDate": "2099-01-01T00:00:00"},
                    {"IsService": True, "CategoryId": 8, "ExpDate": "2100-01-01T00:00:00"},
                ],
            },
        ],
    )
    source = connect(fake, sales_detail_categories="3").member_source()
    assert isinstance(source, MindbodyMemberSource)
    member = source.translate(client_record(5, Status="Non-Member"))
    assert member.agreement is not None and not member.is_prospect
    assert (member.agreement.start_date, member.agreement.end_date) == (
        date(2026, 3, 1),
        date(2099, 1, 1),
    )
    source.translate(client_record(6, Status="Non-Member"))
    assert fake.paths().count("/sale/sales") == 1  # read once per run, never per client


def test_a_bad_site_or_secret_is_refused_in_one_line_without_values() -> None:
    from clubsync.providers.base import ProviderRefused
    from clubsync.providers.registry import account_problems

    bad = settings().model_copy(update={"account": {"site_id": "studio"}})
    [problem] = account_problems(bad)
    assert problem.startswith("account.site_id: String should match pattern")
    with pytest.raises(ProviderRefused) as refused:
        connect_location(settings(), lambda _: {"api_key": "key-generated", "username": "u"})
    message = str(refused.value)
    assert "secret.password: Field required" in message and "key-generated" not in message
    assert "\n" not in message
