"""The ABC HTTP client against httpx.MockTransport (no sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from clubsync.providers.abc.client import (
    AbcClient,
    AbcClientConfig,
    AbcCredentials,
    AbcRequestFailed,
    AbcSilentRejection,
    AbcUnreadablePage,
    RateLimiter,
    abc_range,
    parse_page,
)

CREDENTIALS = AbcCredentials(app_id="id-123", app_key="key-456")  # type: ignore[arg-type]


def envelope(members: Any, *, message: str = "success", next_page: str | None = None) -> bytes:
    status: dict[str, Any] = {
        "message": message,
        "count": str(len(members) if isinstance(members, list) else 1),
    }
    if next_page is not None:
        status["nextPage"] = next_page
    return json.dumps({"status": status, "request": {}, "members": members}).encode()


def client_for(
    handler: Callable[[httpx.Request], httpx.Response],
    sleeps: list[float] | None = None,
    *,
    jitter: float = 0.0,
    seconds_left: Callable[[], float] | None = None,
    **config: Any,
) -> AbcClient:
    recorded = sleeps if sleeps is not None else []
    return AbcClient(
        "0451",
        CREDENTIALS,
        AbcClientConfig(base_url="https://abc.test/rest", min_request_interval_seconds=0, **config),
        transport=httpx.MockTransport(handler),
        sleep=recorded.append,
        jitter=lambda: jitter,
        seconds_left=seconds_left,
    )


def test_sends_auth_headers_and_asks_for_json() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=envelope([{"memberId": "a"}]))

    client_for(handler).get_page("/members", "members", {"activeStatus": "active"}, 1)
    request = seen[0]
    assert request.url.path == "/rest/0451/members"
    assert request.headers["app_id"] == "id-123"
    assert request.headers["app_key"] == "key-456"
    assert request.headers["Accept"].startswith("application/json")
    assert request.url.params["page"] == "1" and request.url.params["size"] == "5000"
    assert request.url.params["activeStatus"] == "active"


def test_pages_follow_the_string_next_page_until_absent_or_empty() -> None:
    answers = {
        "1": envelope([{"memberId": "a"}], next_page="2"),
        "2": envelope([{"memberId": "b"}], next_page="3"),
        "3": envelope([{"memberId": "c"}], next_page=""),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=answers[request.url.params["page"]])

    pages = list(client_for(handler).iter_pages("/members", "members", {}))
    assert [[r["memberId"] for r in p.records] for p in pages] == [["a"], ["b"], ["c"]]


@pytest.mark.parametrize(("current", "following"), [(1, "1"), (3, "2")])
def test_a_next_page_equal_to_or_before_the_current_page_is_a_billing_error(
    current: int, following: str
) -> None:
    """Ending the series there would call a half-read resource complete."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=envelope([{"memberId": "a"}], next_page=following))

    pages = client_for(handler).iter_pages("/members", "members", {}, start_page=current)
    with pytest.raises(AbcUnreadablePage, match="pages must move forward"):
        list(pages)


def test_a_success_answer_without_the_resources_list_is_a_billing_error() -> None:
    body = json.dumps({"status": {"message": "success", "count": "0"}, "request": {}}).encode()
    with pytest.raises(AbcUnreadablePage, match="no 'members' list"):
        parse_page(body, list_key="members", page=1)
    nested = json.dumps({"status": {"message": "success"}, "clubs": [{"name": "x"}]}).encode()
    with pytest.raises(AbcUnreadablePage, match=r"no 'clubs\.transactions' list"):
        parse_page(nested, list_key="clubs.transactions", page=1)


def test_no_records_found_without_a_list_is_a_genuine_zero() -> None:
    body = json.dumps({"status": {"message": "No records found."}, "request": {}}).encode()
    assert parse_page(body, list_key="members", page=1).records == []


def test_resuming_starts_at_the_given_page() -> None:
    pages_asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        pages_asked.append(request.url.params["page"])
        return httpx.Response(200, content=envelope([{"memberId": "x"}]))

    list(client_for(handler).iter_pages("/members", "members", {}, start_page=7))
    assert pages_asked == ["7"]


def test_no_records_found_is_a_genuine_zero() -> None:
    page = parse_page(envelope([], message="No records found."), list_key="members", page=1)
    assert page.records == [] and page.next_page is None


def test_an_empty_list_with_another_message_is_a_silent_rejection() -> None:
    with pytest.raises(AbcSilentRejection, match="range is too long"):
        parse_page(envelope([], message="range is too long"), list_key="members", page=1)


def test_a_one_element_list_arriving_as_a_bare_object() -> None:
    page = parse_page(envelope({"memberId": "solo"}), list_key="members", page=1)
    assert page.records == [{"memberId": "solo"}]


@pytest.mark.parametrize(
    "body",
    [
        b"<members/>",
        b'{"status": {"message": "success"}, "members": "oops"}',
        b"[1, 2]",
        b'{"members": []',
    ],
)
def test_an_unreadable_page_fails_loudly(body: bytes) -> None:
    with pytest.raises(AbcUnreadablePage):
        parse_page(body, list_key="members", page=1)


def test_retries_429_and_5xx_with_exponential_backoff_then_succeeds() -> None:
    statuses = iter([429, 500, 503])
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses, 200)
        return httpx.Response(
            status, content=envelope([{"memberId": "a"}]) if status == 200 else b"busy"
        )

    client = client_for(
        handler, sleeps, jitter=0.999999, backoff_base_seconds=1, backoff_max_seconds=3
    )
    page = client.get_page("/members", "members", {}, 1)
    assert page.records == [{"memberId": "a"}]
    assert sleeps == pytest.approx([1, 2, 3])  # capped at backoff_max_seconds
    assert client.request_count == 4


def test_every_back_off_is_jittered_within_half_to_all_of_the_exponential_delay() -> None:
    client = client_for(lambda r: httpx.Response(200), backoff_base_seconds=1)
    low, high = (client_for(lambda r: httpx.Response(200), jitter=j) for j in (0.0, 0.999999))
    for attempt in (1, 2, 3):
        exponential = 2 ** (attempt - 1)
        assert low.backoff(attempt, None) == pytest.approx(exponential * 0.5 * 0.5)
        assert high.backoff(attempt, None) == pytest.approx(exponential * 0.5)
    assert client.backoff(1, None) != client_for(lambda r: httpx.Response(200), jitter=0.5).backoff(
        1, None
    )


def test_retry_after_is_obeyed_only_up_to_the_maximum_back_off() -> None:
    """A 429 with `Retry-After: 86400` must not sleep a day."""
    for jitter in (0.0, 0.5, 0.999999):
        client = client_for(lambda r: httpx.Response(200), jitter=jitter, backoff_max_seconds=30)
        assert 7 <= client.backoff(1, 7.0) <= 7 * 1.2
        assert 25 <= client.backoff(1, 86_400.0) <= 30


def test_a_back_off_longer_than_the_run_has_left_fails_at_once() -> None:
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "20"})

    client = client_for(handler, sleeps, seconds_left=lambda: 10.0)
    with pytest.raises(AbcRequestFailed, match="more than the run has left"):
        client.get_page("/members", "members", {}, 1)
    assert sleeps == [] and client.request_count == 1


def test_retry_after_header_is_respected() -> None:
    statuses = iter([429])
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if next(statuses, 200) == 429:
            return httpx.Response(429, headers={"Retry-After": "7"})
        return httpx.Response(200, content=envelope([]))

    client_for(handler, sleeps, backoff_base_seconds=0.1).get_page("/members", "members", {}, 1)
    assert sleeps == [7.0]


def test_timeouts_are_retried() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, content=envelope([]))

    client_for(handler, backoff_base_seconds=0).get_page("/members", "members", {}, 1)
    assert calls["n"] == 2


def test_gives_up_after_max_attempts_with_a_readable_message() -> None:
    client = client_for(lambda request: httpx.Response(500), max_attempts=3, backoff_base_seconds=0)
    with pytest.raises(AbcRequestFailed, match="failed 3 times; last: HTTP 500"):
        client.get_page("/members", "members", {}, 1)


def test_refusals_are_not_retried() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(401, json={"errors": [{"message": "Unauthorized"}]})

    with pytest.raises(AbcRequestFailed, match="HTTP 401"):
        client_for(handler).get_page("/members", "members", {}, 1)
    assert calls["n"] == 1


def test_rate_limiter_spaces_requests() -> None:
    now = {"t": 0.0}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now["t"] += seconds

    limiter = RateLimiter(0.25, clock=lambda: now["t"], sleep=sleep)
    limiter.wait()
    limiter.wait()
    now["t"] += 1.0
    limiter.wait()
    assert sleeps == [0.25]


def test_range_filters_are_written_in_the_clubs_local_time() -> None:
    start = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # midnight in Chicago (CST, UTC-6)
    assert abc_range(start, None, ZoneInfo("America/Chicago")) == "2026-11-20 00:00:00,"
    end = datetime(2026, 7, 1, 5, 30, tzinfo=UTC)
    assert abc_range(None, end, ZoneInfo("America/Chicago")) == ",2026-07-01 00:30:00"


def test_range_bounds_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        abc_range(datetime(2026, 1, 1), None, ZoneInfo("UTC"))
