"""The billing sandbox over HTTP on 127.0.0.1: envelope, paging, filters, faults, clock, control."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from clubsync.sandbox import BillingSandbox, Fault, FaultKind

pytestmark = pytest.mark.enable_socket

NOW = datetime(2025, 6, 1, 15, 0, 0, tzinfo=UTC)  # 10:00 in Chicago (CDT)
CLUB = "0451"
SMALL_CLUB = "9003"
JSON_HEADERS = {
    "app_id": "sandbox",
    "app_key": "sandbox",
    "Accept": "application/json;charset=UTF-8",
}


def _record(
    member_id: str,
    modified: str,
    *,
    created: str = "2024-01-01 08:00:00.000000",
    active: bool = True,
    join_status: str = "Member",
) -> dict[str, Any]:
    return {
        "memberId": member_id,
        "personal": {
            "firstName": "Test",
            "lastName": member_id[:4].upper(),
            "homeClub": SMALL_CLUB,
            "isActive": "true" if active else "false",
            "joinStatus": join_status,
            "memberStatus": "Active" if active else "Cancelled",
            "createTimestamp": created,
            "lastModifiedTimestamp": modified,
        },
        "agreement": {"agreementNumber": member_id[-5:], "sinceDate": "2024-01-01"},
    }


# lastModifiedTimestamp per id in SMALL_CLUB, chosen to sit on range boundaries
SMALL_RECORDS = [
    _record("a" * 32, "2025-03-01 00:00:00.000000", created="2025-02-01 00:00:00.000000"),
    _record("b" * 32, "2025-03-01 12:00:00.500000", active=False),
    _record("c" * 32, "2025-03-02 23:59:59.999999", join_status="Prospect"),
    _record("d" * 32, "2025-03-03 00:00:00.000000", created="2025-03-03 00:00:00.000000"),
]


@pytest.fixture(scope="module")
def club_records() -> list[dict[str, Any]]:
    """120 generated members, made once per module through the sandbox's own generator."""
    box = BillingSandbox(now=NOW)
    box.add_club(CLUB, "America/Chicago")
    records = box.generate_members(CLUB, 120, seed=5)
    assert box.members(CLUB) == sorted(records, key=lambda m: m["memberId"])
    return records


@pytest.fixture
def sandbox(club_records: list[dict[str, Any]]) -> Iterator[BillingSandbox]:
    box = BillingSandbox(now=NOW, page_size_limit=50)
    box.add_club(CLUB, "America/Chicago")
    box.load_members(CLUB, club_records)
    box.add_club(SMALL_CLUB, "America/New_York")
    box.load_members(SMALL_CLUB, SMALL_RECORDS)
    with box:
        yield box


@pytest.fixture
def client(sandbox: BillingSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=sandbox.url, headers=JSON_HEADERS, timeout=5.0, trust_env=False
    ) as http:
        yield http


@pytest.fixture
def control(sandbox: BillingSandbox) -> Iterator[httpx.Client]:
    root = sandbox.url.removesuffix("/rest")
    with httpx.Client(base_url=f"{root}/_sandbox", timeout=5.0, trust_env=False) as http:
        yield http


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200
    return [m["memberId"] for m in response.json()["members"]]


def _modified_range(client: httpx.Client, value: str, club: str = SMALL_CLUB) -> list[str]:
    response = client.get(f"/{club}/members", params={"lastModifiedTimestampRange": value})
    return [i[0] for i in _ids(response)]


# ---------------------------------------------------------------------------- envelope, paging


def test_paging_with_string_next_page_and_omitted_last(
    client: httpx.Client, sandbox: BillingSandbox
) -> None:
    pages = [client.get(f"/{CLUB}/members", params={"size": 50, "page": p}) for p in (1, 2, 3)]
    statuses = [p.json()["status"] for p in pages]
    assert statuses[0] == {"message": "success", "count": "50", "nextPage": "2"}
    assert statuses[1] == {"message": "success", "count": "50", "nextPage": "3"}
    assert statuses[2] == {"message": "success", "count": "20"}  # odd last page: key omitted
    assert pages[0].json()["request"] == {"clubNumber": CLUB, "page": "1", "size": "50"}
    ids = [i for p in pages for i in _ids(p)]
    assert ids == sorted(m["memberId"] for m in sandbox.members(CLUB))


def test_even_last_page_sends_empty_next_page_and_size_is_capped(client: httpx.Client) -> None:
    last = client.get(f"/{CLUB}/members", params={"size": 60, "page": 2}).json()
    assert last["request"]["size"] == "50"  # capped at page_size_limit
    assert last["status"]["nextPage"] == "3"
    last = client.get(f"/{CLUB}/members", params={"size": 40, "page": 3}).json()
    assert last["status"] == {"message": "success", "count": "40"}
    last = client.get(f"/{CLUB}/members", params={"size": 30, "page": 4}).json()
    assert last["status"] == {"message": "success", "count": "30", "nextPage": ""}


def test_a_client_loop_following_next_page_sees_every_member_once(
    client: httpx.Client, sandbox: BillingSandbox
) -> None:
    for size in (30, 50, 17):
        seen: list[str] = []
        page: str | None = "1"
        while page:
            body = client.get(f"/{CLUB}/members", params={"size": size, "page": page}).json()
            seen.extend(m["memberId"] for m in body["members"])
            page = body["status"].get("nextPage")
            assert page is None or isinstance(page, str)
        assert sorted(seen) == [m["memberId"] for m in sandbox.members(CLUB)]


def test_single_member_endpoint(client: httpx.Client, sandbox: BillingSandbox) -> None:
    member = sandbox.members(CLUB)[7]
    body = client.get(f"/{CLUB}/members/{member['memberId']}").json()
    assert body["status"]["message"] == "success"
    assert body["status"]["count"] == "1"
    assert body["members"] == [member]
    assert body["request"]["memberId"] == member["memberId"]
    missing = client.get(f"/{CLUB}/members/{'f' * 32}").json()
    assert missing["status"] == {"message": "No records found.", "count": "0"}
    assert missing["members"] == []


# ---------------------------------------------------------------------------- filters


def test_active_and_join_status_filters(client: httpx.Client, sandbox: BillingSandbox) -> None:
    everyone = sandbox.members(CLUB)
    active = {m["memberId"] for m in everyone if m["personal"]["isActive"] == "true"}
    assert 0 < len(active) < len(everyone)

    def fetch(**params: str) -> set[str]:
        ids: set[str] = set()
        for page in ("1", "2", "3"):
            body = client.get(f"/{CLUB}/members", params={**params, "page": page}).json()
            ids.update(m["memberId"] for m in body["members"])
        return ids

    assert fetch(activeStatus="active") == active
    assert fetch(activeStatus="INACTIVE") == {m["memberId"] for m in everyone} - active
    assert len(fetch(activeStatus="all", joinStatus="all")) == len(everyone)

    assert _ids(client.get(f"/{SMALL_CLUB}/members", params={"joinStatus": "prospect"})) == [
        "c" * 32
    ]
    member_ids = _ids(client.get(f"/{SMALL_CLUB}/members", params={"joinStatus": "MEMBER"}))
    assert member_ids == ["a" * 32, "b" * 32, "d" * 32]
    inactive_members = client.get(
        f"/{SMALL_CLUB}/members", params={"joinStatus": "member", "activeStatus": "inactive"}
    )
    assert _ids(inactive_members) == ["b" * 32]


def test_member_id_filters(client: httpx.Client) -> None:
    wanted = f"{'d' * 32},{'a' * 32},{'e' * 32}"
    assert _ids(client.get(f"/{SMALL_CLUB}/members", params={"memberIds": wanted})) == [
        "a" * 32,
        "d" * 32,
    ]
    assert _ids(client.get(f"/{SMALL_CLUB}/members", params={"memberId": "b" * 32})) == ["b" * 32]


def test_range_boundaries_are_inclusive(client: httpx.Client) -> None:
    assert _modified_range(client, "2025-03-01 00:00:00,2025-03-02 23:59:59.999999") == [
        "a",
        "b",
        "c",
    ]
    assert _modified_range(client, "2025-03-01 12:00:00.5,2025-03-03 00:00:00") == ["b", "c", "d"]
    assert _modified_range(client, "2025-03-01 12:00:00.500001,2025-03-03") == ["c", "d"]


def test_a_date_as_end_means_the_end_of_that_day(client: httpx.Client) -> None:
    assert _modified_range(client, "2025-03-01,2025-03-02") == ["a", "b", "c"]
    assert _modified_range(client, "2025-03-03,2025-03-03") == ["d"]
    assert _modified_range(client, "2025-03-01,2025-03-01") == ["a", "b"]


def test_open_ended_ranges(client: httpx.Client) -> None:
    assert _modified_range(client, "2025-03-01 12:00:00.500000,") == ["b", "c", "d"]
    assert _modified_range(client, ",2025-03-01 12:00:00.500000") == ["a", "b"]
    assert _modified_range(client, ",") == ["a", "b", "c", "d"]


def test_created_timestamp_range(client: httpx.Client) -> None:
    response = client.get(
        f"/{SMALL_CLUB}/members", params={"createdTimestampRange": "2025-02-01,2025-03-03"}
    )
    assert _ids(response) == ["a" * 32, "d" * 32]


def test_genuine_zero_versus_silent_rejection(client: httpx.Client) -> None:
    zero = client.get(
        f"/{SMALL_CLUB}/members", params={"lastModifiedTimestampRange": "2030-01-01,"}
    )
    assert zero.status_code == 200
    assert zero.json()["status"] == {"message": "No records found.", "count": "0"}
    assert zero.json()["members"] == []

    backwards = client.get(
        f"/{SMALL_CLUB}/members", params={"lastModifiedTimestampRange": "2025-03-03,2025-03-01"}
    )
    assert backwards.status_code == 200
    assert backwards.json()["members"] == []
    assert (
        backwards.json()["status"]["message"]
        == "Invalid lastModifiedTimestampRange: start is after end"
    )
    for bad in ("yesterday,today", "2025-03-01", "2025-02-30,", "2025-03-01T00:00:00,"):
        body = client.get(
            f"/{SMALL_CLUB}/members", params={"lastModifiedTimestampRange": bad}
        ).json()
        assert body["members"] == []
        assert body["status"]["message"].startswith("Invalid lastModifiedTimestampRange"), bad
    body = client.get(f"/{SMALL_CLUB}/members", params={"activeStatus": "sometimes"}).json()
    assert body["status"]["message"] == "Invalid activeStatus: sometimes"


def test_unknown_club_is_a_silent_rejection(client: httpx.Client) -> None:
    response = client.get("/7777/members")
    assert response.status_code == 200
    body = response.json()
    assert body["status"]["message"] == "Club not found or not authorized"
    assert body["members"] == []
    assert body["request"]["clubNumber"] == "7777"


# ---------------------------------------------------------------------------- transport quirks


def test_missing_or_wrong_credentials_give_401(
    client: httpx.Client, sandbox: BillingSandbox
) -> None:
    before = sandbox.request_count
    accept = {"Accept": "application/json"}
    plain = httpx.get(f"{sandbox.url}/{CLUB}/members", headers=accept, trust_env=False)
    assert plain.status_code == 401
    assert plain.json() == {"errors": [{"message": "Unauthorized"}]}
    wrong = client.get(f"/{CLUB}/members", headers={"app_key": "nope"})
    assert wrong.status_code == 401
    assert sandbox.request_count == before + 2


def test_xml_without_accept_json(sandbox: BillingSandbox) -> None:
    headers = {"app_id": "sandbox", "app_key": "sandbox", "Accept": "*/*"}
    response = httpx.get(
        f"{sandbox.url}/{SMALL_CLUB}/members", params={"size": 2}, headers=headers, trust_env=False
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    assert root.findtext("status/message") == "success"
    assert root.findtext("status/nextPage") == "2"
    assert [m.findtext("memberId") for m in root.iterfind("members/member")] == [
        "a" * 32,
        "b" * 32,
    ]


def test_requests_are_recorded(client: httpx.Client, sandbox: BillingSandbox) -> None:
    client.get(f"/{SMALL_CLUB}/members", params={"activeStatus": "active", "page": 1})
    assert sandbox.requests[-1] == (
        "GET",
        f"/rest/{SMALL_CLUB}/members",
        {"activeStatus": "active", "page": "1"},
    )


# ---------------------------------------------------------------------------- faults


def test_rate_limit_fault_is_consumed_per_request(
    client: httpx.Client, sandbox: BillingSandbox
) -> None:
    sandbox.inject_fault(Fault(kind=FaultKind.RATE_LIMIT, count=2))
    first, second, third = (client.get(f"/{SMALL_CLUB}/members") for _ in range(3))
    assert first.status_code == second.status_code == 429
    assert first.headers["Retry-After"] == "0"
    assert third.status_code == 200
    assert sandbox.faults == []


def test_server_error_fault_has_a_bare_body(client: httpx.Client, sandbox: BillingSandbox) -> None:
    sandbox.inject_fault(Fault(kind=FaultKind.SERVER_ERROR))
    response = client.get(f"/{SMALL_CLUB}/members")
    assert response.status_code == 500
    assert response.content == b""
    assert client.get(f"/{SMALL_CLUB}/members").status_code == 200


def test_slow_fault_delays_then_answers(client: httpx.Client, sandbox: BillingSandbox) -> None:
    sandbox.inject_fault(Fault(kind=FaultKind.SLOW, delay_seconds=0.3))
    started = time.monotonic()
    response = client.get(f"/{SMALL_CLUB}/members")
    assert time.monotonic() - started >= 0.3
    assert _ids(response) == [c * 32 for c in "abcd"]


def test_malformed_record_fault_replaces_one_record(
    client: httpx.Client, sandbox: BillingSandbox
) -> None:
    sandbox.inject_fault(Fault(kind=FaultKind.MALFORMED_RECORD))
    empty = client.get(f"/{SMALL_CLUB}/members", params={"memberId": "e" * 32})
    assert empty.json()["status"]["message"] == "No records found."  # no record: not consumed
    body = client.get(f"/{SMALL_CLUB}/members").json()
    assert body["status"]["count"] == "4"
    stored = sandbox.members(SMALL_CLUB)
    changed = [m for m in body["members"] if m not in stored]
    assert len(changed) == 1
    assert client.get(f"/{SMALL_CLUB}/members").json()["members"] == stored


def test_silent_rejection_fault(client: httpx.Client, sandbox: BillingSandbox) -> None:
    sandbox.inject_fault(Fault(kind=FaultKind.SILENT_REJECTION))
    sandbox.inject_fault(Fault(kind=FaultKind.SILENT_REJECTION, message="Range too long."))
    first = client.get(f"/{SMALL_CLUB}/members").json()
    second = client.get(f"/{SMALL_CLUB}/members").json()
    assert first["status"] == {"message": "Invalid date range.", "count": "0"}
    assert second["status"]["message"] == "Range too long."
    assert first["members"] == second["members"] == []


def test_unreadable_page_fault(client: httpx.Client, sandbox: BillingSandbox) -> None:
    sandbox.inject_fault(Fault(kind=FaultKind.UNREADABLE_PAGE))
    response = client.get(f"/{SMALL_CLUB}/members")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert len(_ids(client.get(f"/{SMALL_CLUB}/members"))) == 4


def test_faults_match_their_resource_and_can_be_cleared(
    client: httpx.Client, sandbox: BillingSandbox
) -> None:
    sandbox.inject_fault(Fault(kind=FaultKind.SERVER_ERROR, resource="prospects"))
    assert client.get(f"/{SMALL_CLUB}/members").status_code == 200
    assert len(sandbox.faults) == 1
    sandbox.inject_fault(Fault(kind=FaultKind.SERVER_ERROR, count=5))
    sandbox.clear_faults()
    assert client.get(f"/{SMALL_CLUB}/members").status_code == 200
    with pytest.raises(ValueError):
        Fault(kind=FaultKind.RATE_LIMIT, count=0)


# ---------------------------------------------------------------------------- clock, records


def test_clock_and_modify_member_show_up_in_a_modified_range(
    client: httpx.Client, sandbox: BillingSandbox
) -> None:
    assert sandbox.local_now(CLUB) == datetime(2025, 6, 1, 10, 0, 0)
    since = sandbox.local_now(CLUB).strftime("%Y-%m-%d %H:%M:%S")
    assert _modified_range(client, f"{since},", club=CLUB) == []

    sandbox.advance_clock(timedelta(hours=2))
    target = sandbox.members(CLUB)[3]["memberId"]
    record = sandbox.modify_member(
        CLUB, target, {"personal.city": "Springfield", "personal.middleInitial": None}
    )
    assert record["personal"]["lastModifiedTimestamp"] == "2025-06-01 12:00:00.000000"

    response = client.get(f"/{CLUB}/members", params={"lastModifiedTimestampRange": f"{since},"})
    assert _ids(response) == [target]
    served = response.json()["members"][0]
    assert served["personal"]["city"] == "Springfield"
    assert "middleInitial" not in served["personal"]

    today = sandbox.local_now(CLUB).date().isoformat()
    sandbox.advance_clock(timedelta(days=1))
    new_id = "0" * 32
    sandbox.add_member(CLUB, {"memberId": new_id, "personal": {"isActive": "true"}})
    assert _modified_range(client, f"{today},{today}", club=CLUB) == [target[0]]
    assert new_id in _ids(
        client.get(f"/{CLUB}/members", params={"createdTimestampRange": "2025-06-02,"})
    )


def test_add_member_stamps_and_refuses_duplicates(sandbox: BillingSandbox) -> None:
    sandbox.set_clock(datetime(2025, 1, 15, 12, 0, tzinfo=UTC))
    sandbox.add_member(SMALL_CLUB, {"memberId": "9" * 32})
    stored = next(m for m in sandbox.members(SMALL_CLUB) if m["memberId"] == "9" * 32)
    assert stored["personal"]["createTimestamp"] == "2025-01-15 07:00:00.000000"
    with pytest.raises(ValueError, match="memberId"):
        sandbox.add_member(SMALL_CLUB, {"memberId": "9" * 32})
    with pytest.raises(ValueError, match="aware"):
        sandbox.set_clock(datetime(2025, 1, 15, 12, 0))
    with pytest.raises(KeyError):
        sandbox.modify_member(SMALL_CLUB, "f" * 32, {"personal.city": "X"})


# ---------------------------------------------------------------------------- control API


def test_control_api(control: httpx.Client, client: httpx.Client, sandbox: BillingSandbox) -> None:
    before = sandbox.request_count
    health = control.get("/health").json()
    assert health["status"] == "ok"
    assert health["clubs"] == {CLUB: 120, SMALL_CLUB: 4}

    clock = control.get("/clock").json()
    assert datetime.fromisoformat(clock["now"]) == NOW
    assert clock["clubs"][CLUB] == "2025-06-01 10:00:00.000000"
    moved = control.post("/clock", json={"advance_seconds": 90}).json()
    assert datetime.fromisoformat(moved["now"]) == NOW + timedelta(seconds=90)
    control.post("/clock", json={"now": "2025-07-04T12:00:00+00:00"})
    assert sandbox.now == datetime(2025, 7, 4, 12, 0, tzinfo=UTC)

    changed = control.post(
        f"/members/{SMALL_CLUB}/{'a' * 32}", json={"changes": {"agreement.membershipType": "GOLD"}}
    )
    assert changed.status_code == 200
    assert changed.json()["member"]["agreement"]["membershipType"] == "GOLD"
    assert changed.json()["member"]["personal"]["lastModifiedTimestamp"].startswith(
        "2025-07-04 08:00:00"
    )

    assert control.post("/faults", json={"kind": "429", "count": 2}).status_code == 200
    assert [f["kind"] for f in control.get("/faults").json()["faults"]] == ["429"]
    assert control.delete("/faults").status_code == 200
    assert sandbox.faults == []
    assert sandbox.request_count == before  # control requests are not API requests

    control.post("/faults", json={"kind": "500"})
    assert client.get(f"/{SMALL_CLUB}/members").status_code == 500


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/clock", {"advance_seconds": "soon"}, "advance_seconds"),
        ("/clock", {"now": "2025-07-04T12:00:00"}, "now"),
        ("/clock", {}, "advance_seconds"),
        ("/faults", {"kind": "429", "count": 0}, "count"),
        ("/faults", {"kind": "meteor"}, "kind"),
        ("/faults", {"kind": "slow", "delay": 1}, "delay"),
        (f"/members/{SMALL_CLUB}/{'a' * 32}", {"changes": ["personal.city"]}, "changes"),
    ],
)
def test_bad_control_bodies_are_400_naming_the_field(
    control: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    response = control.post(path, json=body)
    assert response.status_code == 400
    assert field in response.json()["errors"][0]["message"]


def test_control_unknown_member_is_404_and_bad_json_is_400(control: httpx.Client) -> None:
    missing = control.post(f"/members/{SMALL_CLUB}/{'f' * 32}", json={"changes": {}})
    assert missing.status_code == 404
    broken = control.post("/faults", content=b"{nope")
    assert broken.status_code == 400
    assert "body" in broken.json()["errors"][0]["message"]


# ---------------------------------------------------------------------------- files


def test_load_file(tmp_path: Path) -> None:
    path = tmp_path / "clubs.json"
    path.write_text(
        json.dumps(
            {
                "now": "2025-02-01T18:00:00+00:00",
                "clubs": [
                    {"clubNumber": "0451", "timeZone": "America/Chicago", "members": SMALL_RECORDS},
                    {"clubNumber": "0452", "timeZone": "America/Denver"},
                ],
            }
        ),
        encoding="utf-8",
    )
    box = BillingSandbox()
    box.load_file(path)
    assert [m["memberId"] for m in box.members("0451")] == [c * 32 for c in "abcd"]
    assert box.members("0452") == []
    assert box.local_now("0452") == datetime(2025, 2, 1, 11, 0)


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"clubs": {}}, "clubs"),
        ({"clubs": [{"timeZone": "America/Chicago"}]}, "clubs[0].clubNumber"),
        ({"clubs": [{"clubNumber": "0451", "timeZone": "Mars/Olympus"}]}, "clubs[0].timeZone"),
        (
            {"clubs": [{"clubNumber": "0451", "timeZone": "UTC", "members": [{"personal": {}}]}]},
            "clubs[0].members[0].memberId",
        ),
        ({"now": "tuesday", "clubs": []}, "now"),
    ],
)
def test_load_file_refuses_bad_files_naming_the_field(
    tmp_path: Path, content: dict[str, Any], field: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    box = BillingSandbox()
    with pytest.raises(ValueError) as excinfo:
        box.load_file(path)
    assert str(excinfo.value).startswith(field)
    assert box.clubs == []
