"""HTTP client for ABC DataTrak's REST API (reference/abc-api.md, "Transport" and "Envelope")."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from clubsync.providers.abc.club import CLUBS_PATH, AbcClub
from clubsync.providers.abc.wire import ABC_TIMESTAMP_FORMAT, AbcEnvelope, one_or_many

DEFAULT_BASE_URL = "https://api.abcfinancial.com/rest"
NO_RECORDS_MESSAGE = "no records found."
SUCCESS_MESSAGE = "success"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# A POST is retried only when ABC provably did not act on it: throttled or unavailable, or the
# connection never opened. Anything else is an unknown outcome (AbcOutcomeUnknown).
POST_RETRYABLE_STATUS = frozenset({429, 503})


class AbcError(Exception):
    """Base for every failure talking to ABC; the message is meant for a person."""


class AbcSilentRejection(AbcError):
    """ABC answered 200 with an empty list and the reason only in status.message."""


class AbcUnreadablePage(AbcError):
    """The answer could not be read as an ABC envelope."""


class AbcRequestFailed(AbcError):
    """ABC kept failing after every retry, or refused the request outright."""


class AbcRejected(AbcError):
    """ABC refused what we sent (a 4xx, or a 200 without the new id); the message is ABC's.
    Sending the same content again will be refused again."""


class AbcOutcomeUnknown(AbcRequestFailed):
    """A POST failed in a way that does not say whether ABC created the record (a 500, a
    gateway error, a read timeout). Retrying blindly could create a second one."""


class AbcCredentials(BaseModel):
    model_config = ConfigDict(frozen=True)

    app_id: SecretStr
    app_key: SecretStr


class AbcClientConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = DEFAULT_BASE_URL
    page_size: int = Field(default=5000, ge=1, le=5000)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    backoff_base_seconds: float = Field(default=0.5, ge=0)
    backoff_max_seconds: float = Field(default=30.0, ge=0)
    min_request_interval_seconds: float = Field(
        default=0.25, ge=0, description="Client-side rate limit: the least time between requests."
    )


class AbcPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    page: int
    records: list[dict[str, Any]]
    next_page: int | None
    message: str
    raw_bytes: int = 0


class RateLimiter:
    """Spaces request starts at least `interval` seconds apart (ABC publishes no limit; real
    clients sleep a few hundred milliseconds between pages)."""

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._last: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._last is not None:
            remaining = self._last + self._interval - now
            if remaining > 0:
                self._sleep(remaining)
                now += remaining
        self._last = now


def abc_range(start: datetime | None, end: datetime | None, zone: ZoneInfo) -> str:
    """A range filter `start,end` written in the club's local time (either side may be open)."""

    def local(moment: datetime | None) -> str:
        if moment is None:
            return ""
        if moment.tzinfo is None:
            raise ValueError("range bounds must be timezone-aware")
        return moment.astimezone(zone).strftime(ABC_TIMESTAMP_FORMAT)

    return f"{local(start)},{local(end)}"


class AbcClient:
    def __init__(
        self,
        club_number: str,
        credentials: AbcCredentials,
        config: AbcClientConfig | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        seconds_left: Callable[[], float] | None = None,
    ) -> None:
        """`seconds_left`: the time the run still has (Lambda's remaining time less its pause
        margin); a back-off longer than that fails the request at once instead of sleeping
        into the timeout. `jitter` is a uniform draw in [0, 1) (tests pin it)."""
        self.club_number = club_number
        self.config = config or AbcClientConfig()
        self._sleep = sleep
        self._jitter = jitter
        self._seconds_left = seconds_left
        self._limiter = RateLimiter(
            self.config.min_request_interval_seconds, clock=clock, sleep=sleep
        )
        self._http = httpx.Client(
            base_url=f"{self.config.base_url.rstrip('/')}/{club_number}",
            headers={
                "app_id": credentials.app_id.get_secret_value(),
                "app_key": credentials.app_key.get_secret_value(),
                "Accept": "application/json;charset=UTF-8",
            },
            timeout=self.config.timeout_seconds,
            transport=transport,
        )
        self.request_count = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AbcClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get_page(self, path: str, list_key: str, params: Mapping[str, str], page: int) -> AbcPage:
        query = {**params, "page": str(page), "size": str(self.config.page_size)}
        response = self._get_with_retries(path, query)
        return parse_page(response.content, list_key=list_key, page=page, path=path)

    def iter_pages(
        self, path: str, list_key: str, params: Mapping[str, str], *, start_page: int = 1
    ) -> Iterator[AbcPage]:
        """Pages in order, following the string `status.nextPage` until it is absent or empty."""
        page: int | None = start_page
        while page is not None:
            result = self.get_page(path, list_key, params, page)
            yield result
            page = result.next_page

    def get_club(self) -> AbcClub:
        """The club's own record (GET /clubs: one object under `club`), e.g. its `timeZone`
        to check against the location's configured zone (`club.club_zone_mismatch`)."""
        response = self._get_with_retries(CLUBS_PATH, {})
        return parse_club(response.content, club_number=self.club_number)

    def _get_with_retries(self, path: str, query: Mapping[str, str]) -> httpx.Response:
        last_problem = ""
        for attempt in range(1, self.config.max_attempts + 1):
            self._limiter.wait()
            self.request_count += 1
            retry_after: float | None = None
            try:
                response = self._http.get(path, params=dict(query))
            except (httpx.TimeoutException, httpx.TransportError) as error:
                last_problem = f"{type(error).__name__}"
            else:
                if response.status_code == 200:
                    return response
                if response.status_code not in RETRYABLE_STATUS:
                    raise AbcRequestFailed(
                        f"ABC refused GET {path} for club {self.club_number}: "
                        f"HTTP {response.status_code} {_short(response.text)}"
                    )
                last_problem = f"HTTP {response.status_code}"
                retry_after = _retry_after_seconds(response)
            if attempt < self.config.max_attempts:
                self._wait_before_retry(attempt, retry_after, f"GET {path}", last_problem)
        raise AbcRequestFailed(
            f"ABC GET {path} for club {self.club_number} failed {self.config.max_attempts} "
            f"times; last: {last_problem}"
        )

    # -- writes: the prospect push (reference/abc-api.md, "Prospect push") ---------------------

    def post_prospect(self, payload: Mapping[str, Any]) -> str:
        """Creates a prospect; returns ABC's new id (`result.memberId`)."""
        response = self._send_with_retries("POST", "/prospects", payload)
        return _new_member_id(response, f"POST /prospects for club {self.club_number}")

    def put_prospect(self, billing_id: str, payload: Mapping[str, Any]) -> None:
        """Updates a prospect. A PUT merges fields and carries the full content, so repeating
        it is harmless: it is retried like a GET."""
        response = self._send_with_retries("PUT", f"/prospects/{billing_id}", payload)
        _check_write_answer(response, f"PUT /prospects for club {self.club_number}")

    def _send_with_retries(
        self, method: str, path: str, payload: Mapping[str, Any]
    ) -> httpx.Response:
        idempotent = method == "PUT"
        retryable = RETRYABLE_STATUS if idempotent else POST_RETRYABLE_STATUS
        what = f"ABC {method} {path} for club {self.club_number}"
        last_problem = ""
        for attempt in range(1, self.config.max_attempts + 1):
            self._limiter.wait()
            self.request_count += 1
            retry_after: float | None = None
            try:
                response = self._http.request(method, path, json=dict(payload))
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                last_problem = type(error).__name__  # never reached ABC: safe to repeat
            except (httpx.TimeoutException, httpx.TransportError) as error:
                if not idempotent:
                    raise AbcOutcomeUnknown(
                        f"{what}: {type(error).__name__}; ABC may have created the prospect"
                    ) from error
                last_problem = type(error).__name__
            else:
                if response.status_code < 300:
                    return response
                if 400 <= response.status_code < 500 and response.status_code != 429:
                    raise AbcRejected(_abc_message(response) or f"HTTP {response.status_code}")
                if response.status_code not in retryable:
                    raise AbcOutcomeUnknown(
                        f"{what}: HTTP {response.status_code}; ABC may have created the prospect"
                    )
                last_problem = f"HTTP {response.status_code}"
                retry_after = _retry_after_seconds(response)
            if attempt < self.config.max_attempts:
                self._wait_before_retry(attempt, retry_after, f"{method} {path}", last_problem)
        raise AbcRequestFailed(
            f"{what} failed {self.config.max_attempts} times; last: {last_problem}"
        )

    def _wait_before_retry(
        self, attempt: int, retry_after: float | None, what: str, problem: str
    ) -> None:
        delay = self.backoff(attempt, retry_after)
        if self._seconds_left is not None and delay >= self._seconds_left():
            raise AbcRequestFailed(
                f"ABC {what} for club {self.club_number}: {problem}, and the {delay:.0f} s "
                "wait before the next attempt is more than the run has left; the next run "
                "retries"
            )
        self._sleep(delay)

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt `attempt + 1`: exponential, or what ABC's
        Retry-After asks, never more than `backoff_max_seconds` (a Retry-After of a day must
        not park the run), always jittered (every club of a zone starts its sync at 21:00:
        retries in lockstep would hit ABC together again)."""
        ceiling = self.config.backoff_max_seconds
        if retry_after is not None and retry_after > 0:
            # At least what ABC asked (up to the ceiling), plus up to a fifth more.
            wait = min(retry_after, ceiling / 1.2)
            return wait * (1.0 + 0.2 * self._jitter())
        exponential = min(ceiling, self.config.backoff_base_seconds * float(2 ** (attempt - 1)))
        # "Equal jitter": between half the exponential delay and all of it.
        return exponential * (0.5 + 0.5 * self._jitter())


def parse_page(content: bytes, *, list_key: str, page: int, path: str = "") -> AbcPage:
    """Reads one ABC answer. An empty list is a genuine zero only when ABC says
    "No records found." (or "success"); any other message with an empty list is a silent
    rejection of the query and fails loudly."""
    where = f"page {page} of {path or list_key}"
    try:
        body = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AbcUnreadablePage(f"ABC answered {where} with something that is not JSON") from error
    if not isinstance(body, dict):
        raise AbcUnreadablePage(f"ABC answered {where} with a JSON {type(body).__name__}")
    try:
        envelope = AbcEnvelope.model_validate(body)
    except ValidationError as error:
        raise AbcUnreadablePage(
            f"ABC answered {where} without a readable status: {error}"
        ) from error
    message = envelope.status.message.strip()
    no_records = message.casefold() == NO_RECORDS_MESSAGE
    if not _has_list(body, list_key) and not no_records:
        # "success" without the list would read as zero records and move the watermark past
        # every member this page should have carried.
        raise AbcUnreadablePage(
            f"ABC answered {where} with status {message or '(no message)'!r} but no "
            f"'{list_key}' list"
        )
    records = _records_at(body, list_key)
    if not isinstance(records, list) or not all(isinstance(item, dict) for item in records):
        raise AbcUnreadablePage(f"ABC answered {where} with '{list_key}' that is not a list")
    if not records and message.casefold() not in (NO_RECORDS_MESSAGE, SUCCESS_MESSAGE):
        raise AbcSilentRejection(
            f"ABC silently rejected the query for {where}: {message or '(no message)'}"
        )
    return AbcPage(
        page=page,
        records=records,
        next_page=_next_page(envelope.status.next_page, page),
        message=message,
        raw_bytes=len(content),
    )


def parse_club(content: bytes, *, club_number: str = "") -> AbcClub:
    """Reads GET /clubs. The record is one object under `club`; a one-element list is read as
    its element (the XML-shaped quirk). An answer without it is ABC's silent rejection (an
    unknown or unauthorized club answers 200 with the reason only in status.message)."""
    where = f"GET /clubs for club {club_number}".rstrip()
    try:
        body = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AbcUnreadablePage(f"ABC answered {where} with something that is not JSON") from error
    if not isinstance(body, dict):
        raise AbcUnreadablePage(f"ABC answered {where} with a JSON {type(body).__name__}")
    club = body.get("club")
    if isinstance(club, list) and len(club) == 1:
        club = club[0]
    if not isinstance(club, dict):
        status = body.get("status")
        message = status.get("message") if isinstance(status, dict) else None
        if isinstance(message, str) and message.strip():
            raise AbcSilentRejection(f"ABC answered {where} without the club: {message.strip()}")
        raise AbcUnreadablePage(f"ABC answered {where} without a 'club' object")
    try:
        return AbcClub.model_validate(club)
    except ValidationError as error:
        raise AbcUnreadablePage(f"ABC answered {where} with an unreadable club: {error}") from error


def _has_list(body: dict[str, Any], list_key: str) -> bool:
    """Whether the answer carries the resource's list at all (an empty one counts): the outer
    key, and for a nested key the inner key in every outer element."""
    outer, _, inner = list_key.partition(".")
    if outer not in body:
        return False
    if not inner:
        return True
    values = one_or_many(body[outer])
    return isinstance(values, list) and all(
        isinstance(value, dict) and _has_list(value, inner) for value in values
    )


def _records_at(body: dict[str, Any], list_key: str) -> Any:
    """The records under `list_key`; a dotted key reads nested lists, e.g. POS transactions
    under `clubs[].transactions` ("clubs.transactions")."""
    outer, _, inner = list_key.partition(".")
    values = one_or_many(body.get(outer))
    if not inner:
        return values
    if not isinstance(values, list):
        return values
    records: list[Any] = []
    for value in values:
        if not isinstance(value, dict):
            return value
        found = _records_at(value, inner)
        if not isinstance(found, list):
            return found
        records.extend(found)
    return records


def _next_page(value: str | None, current: int) -> int | None:
    if value is None:
        return None
    try:
        following = int(value)
    except ValueError as error:
        raise AbcUnreadablePage(
            f"ABC sent nextPage {value!r}, which is not a page number"
        ) from error
    if following <= current:
        # Following it would loop forever; ending the query here would call a half-read
        # resource complete. Either way members would be missed: the run fails instead.
        raise AbcUnreadablePage(
            f"ABC sent nextPage {following} on page {current}: pages must move forward"
        )
    return following


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _abc_message(response: httpx.Response) -> str:
    """ABC's reason: `status.message`, or the first of `errors[].message`, or the text."""
    body = _body(response)
    status = body.get("status")
    if isinstance(status, dict) and isinstance(status.get("message"), str):
        return str(status["message"]).strip()
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", "")).strip()
    return _short(response.text)


def _check_write_answer(response: httpx.Response, what: str) -> dict[str, Any]:
    """ABC may answer a refused write with 200 and the reason in status.message."""
    body = _body(response)
    status = body.get("status")
    message = status.get("message") if isinstance(status, dict) else None
    if isinstance(message, str) and message.strip().casefold() != SUCCESS_MESSAGE:
        raise AbcRejected(message.strip())
    return body


def _new_member_id(response: httpx.Response, what: str) -> str:
    body = _check_write_answer(response, what)
    result = body.get("result")
    member_id = result.get("memberId") if isinstance(result, dict) else None
    if not isinstance(member_id, str) or not member_id:
        # Created or not, we cannot tell which record it is: treat as unknown, not rejected.
        raise AbcOutcomeUnknown(f"{what}: the answer carries no result.memberId")
    return member_id


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
