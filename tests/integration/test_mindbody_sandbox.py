"""The Mindbody sandbox as a third-party client sees it: plain httpx, Mindbody Public API v6
field names (hard-coded here from the OpenAPI description's schemas), answers readable by
clubsync's own wire models, Mindbody's errors, and the provider reading packs and staff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.domain.windows import Window
from clubsync.providers.mindbody.wire import (
    ErrorAnswer,
    IssueResponse,
    MbClient,
    MbClientService,
    MbContract,
    MbSite,
    MbStaff,
    MbVisit,
    PaginationResponse,
)
from clubsync.providers.registry import connect_location
from clubsync.sandbox import Fault, FaultKind
from clubsync.sandbox.mindbody import MindbodySandbox

pytestmark = pytest.mark.enable_socket

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
SITE = "-99"
HEADERS = {"API-Key": "sandbox", "SiteId": SITE}
SECRET = {"api_key": "sandbox", "username": "sandbox", "password": "sandbox"}

# Property names of the OpenAPI schemas (public-api-v6.trimmed.yml), the ones clubsync reads.
CLIENT_FIELDS = {
    "UniqueId", "Id", "Status", "Active", "IsProspect", "FirstName", "MiddleName", "LastName",
    "Email", "MobilePhone", "HomePhone", "WorkPhone", "AddressLine1", "AddressLine2", "City",
    "State", "PostalCode", "Country", "BirthDate", "Gender", "CreationDate",
    "LastModifiedDateTime", "ReferredBy", "PhotoUrl", "Notes", "SendPromotionalEmails",
    "SendPromotionalTexts", "SuspensionInfo",
}  # fmt: skip
CONTRACT_FIELDS = {
    "Id", "ContractID", "ContractName", "AgreementDate", "StartDate", "EndDate",
    "TerminationDate", "AutopayStatus", "AutoRenewing", "IsMonthToMonth",
    "OriginationLocationId", "UpcomingAutopayEvents",
}  # fmt: skip
SERVICE_FIELDS = {
    "Id", "ClientID", "ProductId", "Name", "PaymentDate", "ActiveDate", "ExpirationDate",
    "Count", "Remaining", "Current", "Returned", "ActivationType", "Program",
}  # fmt: skip
VISIT_FIELDS = {
    "Id", "ClientId", "ClientUniqueId", "StartDateTime", "EndDateTime", "LastModifiedDateTime",
    "StaffId", "LocationId", "SiteId", "ClassId", "AppointmentId", "AppointmentStatus",
    "SignedIn", "Missed", "LateCancelled", "WebSignup", "MakeUp", "Name", "ServiceName",
    "ServiceId",
}  # fmt: skip
STAFF_FIELDS = {
    "Id", "FirstName", "LastName", "DisplayName", "Name", "Email", "MobilePhone", "HomePhone",
    "WorkPhone", "Address", "City", "State", "PostalCode", "Country", "Bio", "ImageUrl", "EmpID",
    "EmploymentStart", "EmploymentEnd", "AppointmentInstructor", "ClassTeacher", "Rep",
    "IndependentContractor", "IsMale", "SortOrder",
}  # fmt: skip
SITE_FIELDS = {
    "Id", "Name", "Description", "TimeZone", "CurrencyIsoCode", "CountryCode", "ContactEmail",
    "AcceptsVisa", "AllowsDashboardAccess",
}  # fmt: skip
CONTACT_LOG_FIELDS = {
    "Id", "Text", "CreatedDateTime", "FollowupByDate", "ContactMethod", "ContactName",
    "Client", "AssignedTo", "Comments", "Types",
}  # fmt: skip
PAGINATION_FIELDS = {"RequestedLimit", "RequestedOffset", "PageSize", "TotalResults"}
ISSUE_FIELDS = {"TokenType", "AccessToken", "Expires", "User"}
APPOINTMENT_STATUSES = {"None", "Requested", "Booked", "Completed", "Confirmed", "Arrived",
                        "NoShow", "Cancelled", "LateCancelled"}  # fmt: skip
CLIENT_STATUSES = {"Declined", "Non-Member", "Active", "Expired", "Suspended", "Terminated"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[MindbodySandbox]:
    box = MindbodySandbox(now=NOW)
    box.add_site(SITE, "America/New_York")
    box.generate_studio(SITE, 120, seed=3)
    with box:
        yield box


@pytest.fixture
def http(sandbox: MindbodySandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers=HEADERS) as client:
        token = client.post(
            "/usertoken/issue", json={"Username": "sandbox", "Password": "sandbox"}
        ).json()["AccessToken"]
        client.headers["Authorization"] = token
        yield client


def read_all(http: httpx.Client, path: str, key: str, **params: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    while True:
        answer = http.get(path, params={**params, "request.offset": str(len(records))})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        paging = PaginationResponse.model_validate(body["PaginationResponse"])
        assert set(body["PaginationResponse"]) == PAGINATION_FIELDS
        assert paging.page_size == len(body[key]) and paging.requested_offset == len(records)
        records.extend(body[key])
        if len(records) >= paging.total_results:
            return records


def check(records: list[dict[str, Any]], fields: set[str], model: type[BaseModel]) -> None:
    assert records
    for record in records:
        assert set(record) <= fields, set(record) - fields
        model.model_validate(record)


def test_clients_page_in_the_api_shape_and_read_with_clubsync_models(
    http: httpx.Client, sandbox: MindbodySandbox
) -> None:
    clients = read_all(
        http,
        "/client/clients",
        "Clients",
        **{"request.limit": "50", "request.includeInactive": "true"},
    )
    assert len(clients) == 120
    check(clients, CLIENT_FIELDS, MbClient)
    assert {c["Status"] for c in clients} <= CLIENT_STATUSES
    assert {"Active", "Non-Member", "Expired", "Terminated"} <= {c["Status"] for c in clients}
    assert all(c["LastModifiedDateTime"].endswith("Z") for c in clients)
    active_only = read_all(http, "/client/clients", "Clients")
    assert len(active_only) == sum(c["Active"] for c in clients) < len(clients)
    prospects = read_all(http, "/client/clients", "Clients", **{"request.isProspect": "true"})
    assert prospects and all(p["IsProspect"] for p in prospects)


def test_modified_since_filters_on_or_after(http: httpx.Client) -> None:
    everyone = read_all(http, "/client/clients", "Clients", **{"request.includeInactive": "true"})
    edge = sorted(c["LastModifiedDateTime"] for c in everyone)[60]
    since = read_all(
        http,
        "/client/clients",
        "Clients",
        **{"request.includeInactive": "true", "request.lastModifiedDate": edge},
    )
    assert {c["UniqueId"] for c in since} == {
        c["UniqueId"] for c in everyone if c["LastModifiedDateTime"] >= edge
    }


def test_dependants_read_with_clubsync_models(http: httpx.Client, sandbox: MindbodySandbox) -> None:
    clients = sandbox.clients(SITE)
    contracts = [
        record
        for c in clients
        for record in read_all(
            http,
            "/client/clientcontracts",
            "Contracts",
            **{"request.uniqueClientId": str(c["UniqueId"])},
        )
    ]
    check(contracts, CONTRACT_FIELDS, MbContract)
    visits = [
        record
        for c in clients
        for record in read_all(
            http,
            "/client/clientvisits",
            "Visits",
            **{
                "request.uniqueClientId": str(c["UniqueId"]),
                "request.startDate": "2026-01-01T00:00:00Z",
            },
        )
    ]
    check(visits, VISIT_FIELDS, MbVisit)
    assert {v["AppointmentStatus"] for v in visits} - {None} <= APPOINTMENT_STATUSES
    assert any(v["SignedIn"] for v in visits) and any(v["Missed"] for v in visits)
    assert any(v["LateCancelled"] for v in visits)
    ids = ",".join(str(c["UniqueId"]) for c in clients[:20])
    packs = read_all(
        http,
        "/client/clientservices",
        "ClientServices",
        **{"request.uniqueClientIds": ids, "request.startDate": "2020-01-01T00:00:00Z"},
    )
    check(packs, SERVICE_FIELDS, MbClientService)
    # Packs default to those purchased today (the OpenAPI description's default).
    today = read_all(
        http, "/client/clientservices", "ClientServices", **{"request.uniqueClientIds": ids}
    )
    assert len(today) < len(packs)
    staff = read_all(http, "/staff/staff", "StaffMembers")
    check(staff, STAFF_FIELDS, MbStaff)
    sites = read_all(http, "/site/sites", "Sites", **{"request.siteIds": SITE})
    check(sites, SITE_FIELDS, MbSite)
    assert sites[0]["TimeZone"] == "America/New_York"


def test_staff_without_a_token_shows_the_public_fields_only(sandbox: MindbodySandbox) -> None:
    with httpx.Client(base_url=sandbox.url, headers=HEADERS) as anonymous:
        staff = anonymous.get("/staff/staff").json()["StaffMembers"]
    assert staff and all("Email" not in s for s in staff)
    assert set(staff[0]) == {
        "FirstName",
        "LastName",
        "Id",
        "Bio",
        "DisplayName",
        "ImageUrl",
        "EmpID",
    }


def test_refusals_answer_mindbody_errors(sandbox: MindbodySandbox) -> None:
    with httpx.Client(base_url=sandbox.url) as bare:
        cases = [
            (bare.get("/site/sites"), 401),
            (bare.get("/site/sites", headers={"API-Key": "sandbox"}), 400),
            (bare.get("/site/sites", headers={**HEADERS, "SiteId": "12345"}), 403),
            (bare.get("/client/clients", headers=HEADERS), 401),
            (bare.post("/usertoken/issue", headers=HEADERS, json={"Username": "x"}), 401),
            (
                bare.get(
                    "/client/clients",
                    headers={**HEADERS, "Authorization": "sandbox-token-none"},
                ),
                401,
            ),
            (bare.get("/client/nothing", headers=HEADERS), 404),
        ]
        for answer, status in cases:
            assert answer.status_code == status, answer.text
            error = ErrorAnswer.model_validate_json(answer.content).error
            assert error.message and error.code


def test_limits_and_429_answer_mindbody_errors(
    http: httpx.Client, sandbox: MindbodySandbox
) -> None:
    too_many = http.get("/client/clients", params={"request.limit": "201"})
    assert too_many.status_code == 400
    ids = ",".join(str(n) for n in range(1, 22))
    assert http.get("/client/clients", params={"request.clientIDs": ids}).status_code == 400
    sandbox.core.faults.add(Fault(kind=FaultKind.RATE_LIMIT, resource="clients"))
    limited = http.get("/client/clients")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "0"
    assert ErrorAnswer.model_validate_json(limited.content).error.code == "TooManyRequests"
    assert http.get("/client/clients").status_code == 200


def test_writes_create_update_and_log(http: httpx.Client, sandbox: MindbodySandbox) -> None:
    person = {"FirstName": "Gen", "LastName": "Writer", "Email": "gen.writer@example.org"}
    created = http.post("/client/addclient", json={**person, "IsProspect": True})
    assert created.status_code == 200, created.text
    client = MbClient.model_validate(created.json()["Client"])
    assert client.is_prospect and client.status == "Non-Member"
    again = http.post("/client/addclient", json=person)
    assert again.status_code == 400 and "already exists" in again.json()["Error"]["Message"]
    updated = http.post(
        "/client/updateclient",
        json={"Client": {"Id": client.id, "City": "Springfield"}, "CrossRegionalUpdate": False},
    )
    assert updated.json()["Client"]["City"] == "Springfield"
    logged = http.post(
        "/client/addcontactlog",
        json={"ClientId": client.id, "ContactMethod": "Call", "Text": "hi", "Comments": ["k1"]},
    )
    log = logged.json()
    assert set(log) <= CONTACT_LOG_FIELDS and log["Comments"][0]["Text"] == "k1"
    found = read_all(
        http,
        "/client/contactlogs",
        "ContactLogs",
        **{"request.clientId": str(client.id), "request.startDate": "2026-12-01T00:00:00Z",
           "request.endDate": "2026-12-04T00:00:00Z"},
    )  # fmt: skip
    assert [f["Id"] for f in found] == [log["Id"]]
    sandbox.site(SITE).required_fields = ["BirthDate"]
    try:
        refused = http.post("/client/addclient", json={**person, "Email": "other@example.org"})
        assert refused.status_code == 400 and "BirthDate" in refused.json()["Error"]["Message"]
    finally:
        sandbox.site(SITE).required_fields = []


def test_issue_answers_a_token_in_the_api_shape(sandbox: MindbodySandbox) -> None:
    with httpx.Client(base_url=sandbox.url, headers=HEADERS) as client:
        answer = client.post(
            "/usertoken/issue", json={"Username": "sandbox", "Password": "sandbox"}
        )
    assert set(answer.json()) == ISSUE_FIELDS
    issued = IssueResponse.model_validate(answer.json())
    assert issued.expires is not None and issued.expires > NOW


def test_the_provider_reads_packs_bought_long_ago_and_staff(sandbox: MindbodySandbox) -> None:
    settings = LocationSettings(
        location_id="mb-studio",
        provider="mindbody",
        account={"site_id": SITE},
        time_zone="America/New_York",
    )
    connection = connect_location(
        settings,
        lambda _: SECRET,
        client_options={"mindbody": {"base_url": sandbox.url}},
        clock=lambda: NOW,
    )
    try:
        assert connection.check_zone() is None
        window = Window(name="all", start=datetime(2020, 1, 1, tzinfo=UTC), zone="America/New_York")
        source = connection.record_source(SyncType.SERVICE_AGREEMENTS)
        packs = [r for page in source.pages(window) for r in page.records]
        # Every client changed since 2020, so every pack, however long ago it was bought.
        assert len(packs) == len(sandbox.site(SITE).services) > 0
        staff = connection.record_source(SyncType.EMPLOYEES)
        employees = [source for page in staff.pages(window) for source in page.records]
        assert len(employees) == 8 and all("Email" in e for e in employees)
    finally:
        connection.close()


def test_list_faults_break_a_record_or_the_page(
    http: httpx.Client, sandbox: MindbodySandbox
) -> None:
    sandbox.core.faults.add(Fault(kind=FaultKind.MALFORMED_RECORD, resource="clients"))
    broken = http.get("/client/clients", params={"request.limit": "5"}).json()["Clients"]
    with pytest.raises(ValidationError):
        MbClient.model_validate(broken[0])
    sandbox.core.faults.add(Fault(kind=FaultKind.UNREADABLE_PAGE, resource="staff"))
    cut = http.get("/staff/staff")
    assert cut.status_code == 200
    with pytest.raises(ValueError):
        cut.json()
    sandbox.core.faults.add(Fault(kind=FaultKind.SERVER_ERROR, resource="clientvisits"))
    assert (
        http.get("/client/clientvisits", params={"request.uniqueClientId": "1"}).status_code == 500
    )
    assert http.get("/staff/staff").json()["StaffMembers"]
