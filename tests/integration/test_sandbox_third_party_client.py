"""A third-party ABC client's view of the sandbox: plain httpx and the shapes of
reference/abc-api.md, no clubsync code on the client side. Every endpoint answers (none 404s),
in the documented shape, with either form of authentication."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from clubsync.providers.abc.client import AbcClient, AbcClientConfig, AbcCredentials
from clubsync.providers.abc.club import club_zone_mismatch
from clubsync.sandbox import BillingSandbox

pytestmark = pytest.mark.enable_socket

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 12:00 in Chicago
CLUB = "0451"
ACCEPT = {"Accept": "application/json;charset=UTF-8"}
HEADER_AUTH = {"app_id": "sandbox", "app_key": "sandbox", **ACCEPT}
BASIC_AUTH = {
    "Authorization": "Basic " + base64.b64encode(b"sandbox:sandbox").decode(),
    **ACCEPT,
}
# request path -> list key (dotted: nested) of every list endpoint
LISTS = {
    "/members": "members",
    "/prospects": "prospects",
    "/employees": "employees",
    "/clubs/checkins/details": "checkins",
    "/calendars/events": "events",
    "/calendars/eventtypes": "eventTypes",
    "/clubs/transactions/pos": "clubs.transactions",
    "/members/recurringservices": "recurringServices",
    "/clubs/campaigns": "campaigns",
}
RANGES = {
    "/clubs/checkins/details": {"checkInTimestampRange": "2026-11-01,2026-11-20"},
    "/calendars/events": {"eventDateRange": "2026-10-20,2026-12-20"},
    "/clubs/transactions/pos": {"transactionTimestampRange": "2026-10-15,2026-11-20"},
    "/members/recurringservices": {"saleTimestampRange": "2026-06-01,2026-11-20"},
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[BillingSandbox]:
    box = BillingSandbox(now=NOW)
    box.add_club(CLUB)  # the default zone, America/Chicago
    box.generate_members(CLUB, 200, seed=4)
    box.add_campaign(CLUB, "c1", "Web Lead", "PON")
    with box:
        yield box


@pytest.fixture(params=["headers", "basic"])
def http(request: pytest.FixtureRequest, sandbox: BillingSandbox) -> Iterator[httpx.Client]:
    headers = HEADER_AUTH if request.param == "headers" else BASIC_AUTH
    with httpx.Client(
        base_url=f"{sandbox.url}/{CLUB}", headers=headers, timeout=5.0, trust_env=False
    ) as client:
        yield client


def records_at(body: dict[str, Any], list_key: str) -> list[dict[str, Any]]:
    outer, _, inner = list_key.partition(".")
    value = body[outer]
    assert isinstance(value, list), list_key
    if not inner:
        return value
    return [record for part in value for record in part[inner]]


def every_page(http: httpx.Client, path: str, list_key: str, **params: str) -> list[Any]:
    """The loop of a public tap: page until nextPage is absent or empty."""
    records: list[Any] = []
    page = 1
    while True:
        response = http.get(path, params={**params, "page": str(page), "size": "40"})
        assert response.status_code == 200, (path, response.status_code)
        body = response.json()
        assert isinstance(body["status"]["count"], str)
        records.extend(records_at(body, list_key))
        following = body["status"].get("nextPage")
        if not following:
            return records
        assert int(following) == page + 1
        page += 1


@pytest.mark.parametrize("path", sorted(LISTS))
def test_every_list_endpoint_answers_its_list(http: httpx.Client, path: str) -> None:
    records = every_page(http, path, LISTS[path], **RANGES.get(path, {}))
    assert records, path
    assert all(isinstance(record, dict) for record in records)


def test_the_club_endpoint_is_one_object(http: httpx.Client) -> None:
    body = http.get("/clubs").json()
    club = body["club"]
    assert isinstance(club, dict)
    assert club["timeZone"] == "America/Chicago"
    for key in ("name", "shortName", "address1", "city", "state", "postalCode", "billingCountry"):
        assert isinstance(club[key], str) and club[key], key
    assert isinstance(club["creditCardPaymentMethods"], dict)


def test_members_carry_the_wide_payload_as_strings(http: httpx.Client) -> None:
    members = every_page(http, "/members", "members")
    assert len(members) == 200
    one = http.get(f"/members/{members[0]['memberId']}").json()["members"]
    assert one == [members[0]]
    wide = [m for m in members if "lastCheckInTimestamp" in m["personal"]]
    assert wide
    for member in members:
        personal, agreement = member["personal"], member["agreement"]
        assert personal["totalCheckInCount"].isdigit()
        assert agreement["isPastDue"] in ("true", "false")
        holder = agreement["primaryBillingAccountHolder"]
        assert set(holder) == {"firstName", "lastName"}


def test_event_attendees_are_an_array(http: httpx.Client) -> None:
    events = every_page(http, "/calendars/events", "events", **RANGES["/calendars/events"])
    member_ids = {m["memberId"] for m in every_page(http, "/members", "members")}
    for event in events:
        assert isinstance(event["members"], list)
        for attendee in event["members"]:
            assert set(attendee) == {"memberId", "attendedStatus"}
            assert attendee["memberId"] in member_ids


@pytest.mark.parametrize("headers", [HEADER_AUTH, BASIC_AUTH], ids=["headers", "basic"])
def test_prospects_pushed_and_billing_side_in_their_own_id_space(headers: dict[str, str]) -> None:
    box = BillingSandbox(now=NOW)
    box.add_club(CLUB)
    box.generate_members(CLUB, 200, seed=4)
    box.add_campaign(CLUB, "c1", "Web Lead", "PON")
    with (
        box,
        httpx.Client(
            base_url=f"{box.url}/{CLUB}", headers=headers, timeout=5.0, trust_env=False
        ) as http,
    ):
        before = every_page(http, "/prospects", "prospects")
        assert len(before) == 20  # a tenth of the members, generated billing-side
        prospect = {
            "personal": {"firstName": "Robin", "lastName": "Guest"},
            "agreement": {"issueDate": "2026-11-20", "campaignId": "c1"},
        }
        posted = http.post("/prospects", json={"prospects": [{"prospect": prospect}]})
        assert posted.status_code == 200
        new_id = posted.json()["result"]["memberId"]
        after = every_page(http, "/prospects", "prospects")
        member_ids = {m["memberId"] for m in every_page(http, "/members", "members")}
    ids = [p["prospectId"] for p in after]
    assert ids == sorted(ids) and new_id in ids and len(after) == len(before) + 1
    for record in after:
        assert "memberId" not in record
        assert record["personal"]["createdTimestamp"]
        assert "createTimestamp" not in record["personal"]
    pushed = next(p for p in after if p["prospectId"] == new_id)
    assert pushed["agreement"]["issueDate"] == "2026-11-20"
    generated = [p for p in after if p["prospectId"] != new_id]
    assert member_ids.isdisjoint(p["prospectId"] for p in generated)
    for key in ("tourDate", "visitsAllowed", "visitsUsed", "issueDate", "campaignGroup"):
        assert any(p["agreement"].get(key) for p in generated), key
    referred = {p["agreement"].get("referringMemberId") for p in generated} - {None}
    assert referred and referred <= member_ids


def test_prospects_filtered_by_last_check_in(http: httpx.Client, sandbox: BillingSandbox) -> None:
    everyone = sandbox.prospect_records(CLUB)
    window = "2026-11-01 00:00:00,2026-11-20 23:59:59"
    inside = every_page(http, "/prospects", "prospects", lastCheckInTimestampRange=window)
    expected = [
        p["prospectId"]
        for p in everyone
        if "2026-11-01" <= p["personal"].get("lastCheckInTimestamp", "")[:10] <= "2026-11-20"
    ]
    assert [p["prospectId"] for p in inside] == expected
    rejected = http.get("/prospects", params={"lastCheckInTimestampRange": "2026-11-20,2026-11-01"})
    assert rejected.status_code == 200
    assert rejected.json()["prospects"] == []
    assert "start is after end" in rejected.json()["status"]["message"]


@pytest.mark.parametrize(
    "headers",
    [
        ACCEPT,
        {"app_id": "sandbox", "app_key": "wrong", **ACCEPT},
        {"Authorization": "Basic " + base64.b64encode(b"sandbox:wrong").decode(), **ACCEPT},
        {"Authorization": "Basic " + base64.b64encode(b"sandbox").decode(), **ACCEPT},
        {"Authorization": "Basic !!not-base64!!", **ACCEPT},
        {"Authorization": "Bearer sandbox", **ACCEPT},
    ],
)
def test_anything_else_is_unauthorized(sandbox: BillingSandbox, headers: dict[str, str]) -> None:
    response = httpx.get(f"{sandbox.url}/{CLUB}/clubs", headers=headers, trust_env=False)
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "Unauthorized"}]}


def test_clubsync_reads_the_club_and_checks_the_zone(sandbox: BillingSandbox) -> None:
    credentials = AbcCredentials(app_id="sandbox", app_key="sandbox")  # type: ignore[arg-type]
    config = AbcClientConfig(base_url=sandbox.url, min_request_interval_seconds=0)
    with AbcClient(CLUB, credentials, config) as client:
        club = client.get_club()
        assert club_zone_mismatch(club, "America/Chicago", now=NOW) is None
        assert club_zone_mismatch(club, "America/New_York", now=NOW) is not None
        sandbox.set_club_profile(CLUB, {"timeZone": "Central Standard Time"})
        try:
            message = club_zone_mismatch(client.get_club(), "America/Chicago", now=NOW)
        finally:
            sandbox.set_club_profile(CLUB, {"timeZone": None})
        assert message is not None and "not an IANA zone name" in message
        assert client.get_club().time_zone == "America/Chicago"


def test_an_unknown_club_is_a_silent_rejection(sandbox: BillingSandbox) -> None:
    with httpx.Client(base_url=sandbox.url, headers=HEADER_AUTH, trust_env=False) as http:
        club = http.get("/9999/clubs")
        prospects = http.get("/9999/prospects")
    assert club.status_code == prospects.status_code == 200
    assert "club" not in club.json()
    assert club.json()["status"]["message"] == "Club not found or not authorized"
    assert prospects.json()["prospects"] == []
    assert prospects.json()["status"]["message"] == "Club not found or not authorized"
