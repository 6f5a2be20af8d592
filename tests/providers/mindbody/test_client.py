"""The Mindbody HTTP client: token issue/renewal, paging checked, back-off, Error messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from clubsync.providers.mindbody.client import (
    CallBudgetExhausted,
    MindbodyClient,
    MindbodyClientConfig,
    MindbodyCredentials,
    MindbodyOutcomeUnknown,
    MindbodyRejected,
    MindbodyRequestFailed,
    MindbodyUnreadable,
)
from tests.providers.mindbody.fixtures import BASE, FakeMindbody, client_record, error_body

CREDENTIALS = MindbodyCredentials(
    api_key="key-generated", username="staff.generated", password="pw-generated"
)


def make_client(
    fake: FakeMindbody,
    *,
    page_size: int = 2,
    budget: int | None = None,
    now: datetime | None = None,
    sleeps: list[float] | None = None,
) -> MindbodyClient:
    clock = [now or datetime(2026, 12, 2, 7, tzinfo=UTC)]
    waited = sleeps if sleeps is not None else []
    client = MindbodyClient(
        "-99",
        CREDENTIALS,
        MindbodyClientConfig(base_url=BASE, page_size=page_size, backoff_base_seconds=1.0),
        call_budget=budget,
        transport=fake.transport(),
        sleep=waited.append,
        jitter=lambda: 0.0,
        now=lambda: clock[0],
    )
    client._test_clock = clock  # type: ignore[attr-defined]
    return client


def test_every_call_carries_key_site_and_the_issued_token() -> None:
    fake = FakeMindbody()
    fake.add_list("/client/clients", "Clients", [client_record(1)])
    client = make_client(fake)
    assert [r["UniqueId"] for r in client.get_all("/client/clients", "Clients", {})] == [1]
    issue, read = fake.calls
    assert issue.url.path.endswith("/usertoken/issue")
    assert read.headers["API-Key"] == "key-generated"
    assert read.headers["SiteId"] == "-99"
    assert read.headers["Authorization"] == "token-1"
    assert client.request_count == 2 and client.token_count == 1


def test_the_token_is_reused_then_renewed_before_it_expires() -> None:
    fake = FakeMindbody()
    fake.add_list("/client/clients", "Clients", [])
    client = make_client(fake)
    client.get_all("/client/clients", "Clients", {})
    client.get_all("/client/clients", "Clients", {})
    assert fake.tokens_issued == 1
    # Expires 2026-12-09T07:00Z; within the renewal margin a new one is issued.
    client._test_clock[0] = datetime(2026, 12, 9, 6, 58, tzinfo=UTC)  # type: ignore[attr-defined]
    client.get_all("/client/clients", "Clients", {})
    assert fake.tokens_issued == 2


def test_a_401_renews_the_token_once_and_repeats_the_call() -> None:
    fake = FakeMindbody()
    fake.add_list("/client/clients", "Clients", [client_record(1)])
    client = make_client(fake)
    client.get_all("/client/clients", "Clients", {})
    fake.valid_tokens.clear()  # revoked
    assert len(client.get_all("/client/clients", "Clients", {})) == 1
    assert fake.tokens_issued == 2


def test_a_refused_login_is_one_line_without_the_password() -> None:
    fake = FakeMindbody()

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, content=error_body("InvalidUserCredentials", "Username or password is wrong")
        )

    client = MindbodyClient(
        "-99",
        CREDENTIALS,
        MindbodyClientConfig(base_url=BASE),
        transport=httpx.MockTransport(refuse),
    )
    with pytest.raises(MindbodyRejected) as refused:
        client.get_all("/client/clients", "Clients", {})
    message = str(refused.value)
    assert "\n" not in message and "pw-generated" not in message
    assert "InvalidUserCredentials: Username or password is wrong" in message
    assert fake.calls == []


def test_pages_by_limit_and_offset_until_total_results() -> None:
    fake = FakeMindbody()
    fake.add_list("/client/clients", "Clients", [client_record(i) for i in range(1, 6)])
    client = make_client(fake, page_size=2)
    pages = list(client.iter_pages("/client/clients", "Clients", {}))
    assert [p.offset for p in pages] == [0, 2, 4]
    assert [p.next_offset for p in pages] == [2, 4, None]
    reads = [c for c in fake.calls if c.url.path.endswith("/clients")]
    assert [c.url.params["request.offset"] for c in reads] == ["0", "2", "4"]
    assert {c.url.params["request.limit"] for c in reads} == {"2"}


@pytest.mark.parametrize(
    ("paging", "records", "problem"),
    [
        (
            {"RequestedLimit": 2, "RequestedOffset": 2, "PageSize": 2, "TotalResults": 5},
            2,
            "RequestedOffset 2, asked 0",
        ),
        (
            {"RequestedLimit": 2, "RequestedOffset": 0, "PageSize": 1, "TotalResults": 5},
            2,
            "PageSize 1 but 2 records",
        ),
        (
            {"RequestedLimit": 2, "RequestedOffset": 0, "PageSize": 1, "TotalResults": 5},
            1,
            "a short page of 1 with 5 in total",
        ),
        (
            {"RequestedLimit": 2, "RequestedOffset": 0, "PageSize": 2, "TotalResults": 1},
            2,
            "records past TotalResults 1",
        ),
    ],
)
def test_a_page_that_does_not_add_up_is_refused(
    paging: dict[str, int], records: int, problem: str
) -> None:
    fake = FakeMindbody()
    body = {"PaginationResponse": paging, "Clients": [client_record(i) for i in range(records)]}
    fake.faults["/client/clients"] = [httpx.Response(200, json=body)]
    client = make_client(fake)
    with pytest.raises(MindbodyUnreadable, match="does not add up") as refused:
        client.get_all("/client/clients", "Clients", {})
    assert problem in str(refused.value)


def test_an_answer_without_pagination_or_list_is_refused() -> None:
    fake = FakeMindbody()
    fake.faults["/client/clients"] = [httpx.Response(200, json={"Clients": []})]
    client = make_client(fake)
    with pytest.raises(MindbodyUnreadable, match="no readable PaginationResponse"):
        client.get_all("/client/clients", "Clients", {})


def test_429_and_5xx_are_retried_with_retry_after_and_backoff() -> None:
    fake = FakeMindbody()
    fake.add_list("/client/clients", "Clients", [client_record(1)])
    fake.faults["/client/clients"] = [
        httpx.Response(
            429, headers={"Retry-After": "3"}, content=error_body("TooManyRequests", "slow")
        ),
        httpx.Response(503),
    ]
    sleeps: list[float] = []
    client = make_client(fake, sleeps=sleeps)
    assert len(client.get_all("/client/clients", "Clients", {})) == 1
    assert sleeps == [3.0, 1.0]  # Retry-After, then the second step of the back-off (jitter 0)


def test_retries_give_up_with_the_last_error_in_one_line() -> None:
    fake = FakeMindbody()
    fake.faults["/client/clients"] = [
        httpx.Response(500, content=error_body("InternalError", "try\nlater")) for _ in range(5)
    ]
    client = make_client(fake)
    with pytest.raises(MindbodyRequestFailed) as failed:
        client.get_all("/client/clients", "Clients", {})
    assert str(failed.value) == (
        "Mindbody GET /client/clients for site -99 failed 5 times; "
        "last: HTTP 500 InternalError: try later"
    )


def test_a_400_is_refused_at_once_with_mindbodys_message() -> None:
    fake = FakeMindbody()
    fake.faults["/client/clients"] = [
        httpx.Response(400, content=error_body("InvalidParameter", "LastModifiedDate is invalid"))
    ]
    client = make_client(fake)
    with pytest.raises(
        MindbodyRejected, match="HTTP 400 InvalidParameter: LastModifiedDate is invalid"
    ):
        client.get_all("/client/clients", "Clients", {})


def test_writes_are_not_retried_after_a_500() -> None:
    fake = FakeMindbody()
    fake.faults["/client/addclient"] = [httpx.Response(500)]
    client = make_client(fake)
    with pytest.raises(MindbodyOutcomeUnknown, match="may have applied it"):
        client.post("/client/addclient", {"FirstName": "Gen"})
    assert fake.paths().count("/client/addclient") == 1


def test_the_call_budget_stops_before_the_call_past_it() -> None:
    fake = FakeMindbody()
    fake.add_list("/client/clients", "Clients", [client_record(i) for i in range(1, 6)])
    client = make_client(fake, page_size=2, budget=3)
    with pytest.raises(
        CallBudgetExhausted, match=r"call budget \(account.daily_call_budget\) is spent"
    ):
        client.get_all("/client/clients", "Clients", {})
    assert len(fake.calls) == 3  # the token and two pages


def test_credentials_never_show_in_repr() -> None:
    assert "pw-generated" not in repr(CREDENTIALS) and "key-generated" not in repr(CREDENTIALS)


def test_token_default_lifetime_when_expires_is_missing() -> None:
    def issue(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/usertoken/issue"):
            return httpx.Response(200, json={"AccessToken": "t"})
        return httpx.Response(
            200,
            json={
                "PaginationResponse": {
                    "RequestedLimit": 2,
                    "RequestedOffset": 0,
                    "PageSize": 0,
                    "TotalResults": 0,
                },
                "Clients": [],
            },
        )

    start = datetime(2026, 12, 2, tzinfo=UTC)
    clock = [start]
    client = MindbodyClient(
        "-99",
        CREDENTIALS,
        MindbodyClientConfig(base_url=BASE),
        transport=httpx.MockTransport(issue),
        now=lambda: clock[0],
    )
    client.get_all("/client/clients", "Clients", {})
    clock[0] = start + timedelta(hours=23, minutes=56)
    client.get_all("/client/clients", "Clients", {})
    assert client.token_count == 2  # 24 h lifetime less the 5 min margin
