"""HTTP client for Mindbody's Public API v6 (reference/mindbody/README.md, "Transport").

Every request carries `API-Key` and `SiteId`; staff data and writes also carry a staff user
token issued from the site's staff username and password (`POST /usertoken/issue`), renewed
before it expires and once more when Mindbody answers 401. Lists page by `request.limit` /
`request.offset`, and every answer's `PaginationResponse` must add up, or the run fails and
keeps its watermark. Calls cost money past a daily allowance: the client counts them and
refuses to start a call past the connection's budget (`CallBudgetExhausted`).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from clubsync.providers.mindbody.wire import ErrorAnswer, IssueResponse, PaginationResponse

DEFAULT_BASE_URL = "https://api.mindbodyonline.com/public/v6"
TOKEN_PATH = "/usertoken/issue"
MAX_PAGE_SIZE = 200  # Mindbody's cap on request.limit
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# A token is renewed this long before Mindbody says it expires (clock skew, a slow page).
TOKEN_RENEW_MARGIN = timedelta(minutes=5)
# When Mindbody's answer carries no Expires: its documented lifetime is 7 days; renew daily.
TOKEN_DEFAULT_LIFETIME = timedelta(hours=24)


class MindbodyError(Exception):
    """Base for every failure talking to Mindbody; the message is meant for a person."""


class MindbodyRequestFailed(MindbodyError):
    """Mindbody kept failing after every retry, or refused the request."""


class MindbodyOutcomeUnknown(MindbodyRequestFailed):
    """A write failed without saying whether Mindbody applied it (a 500, a read timeout)."""


class MindbodyRejected(MindbodyError):
    """Mindbody refused what we sent (a 4xx with its Error): sending it again fails again."""


class MindbodyUnreadable(MindbodyError):
    """An answer that is not what the API description says, or a PaginationResponse that
    does not add up (records would be missed)."""


class CallBudgetExhausted(MindbodyError):
    """The next call would pass the site's call budget: the sync stops here, records why,
    keeps its watermark, and the next run starts again inside its window."""


class MindbodyCredentials(BaseModel):
    """The location's secret: the integrator's API key and the site's staff login."""

    model_config = ConfigDict(frozen=True)

    api_key: SecretStr
    username: SecretStr
    password: SecretStr


class MindbodyClientConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = DEFAULT_BASE_URL
    page_size: int = Field(default=MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    backoff_base_seconds: float = Field(default=0.5, ge=0)
    backoff_max_seconds: float = Field(default=30.0, ge=0)


class MindbodyPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    offset: int
    records: list[dict[str, Any]]
    next_offset: int | None
    total: int
    raw_bytes: int = 0


class MindbodyClient:
    def __init__(
        self,
        site_id: str,
        credentials: MindbodyCredentials,
        config: MindbodyClientConfig | None = None,
        *,
        call_budget: int | None = None,
        budget_source: str = "account.daily_call_budget",
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        seconds_left: Callable[[], float] | None = None,
    ) -> None:
        """`call_budget`: the most calls this connection may make (None: no limit);
        `budget_source`: what set it, for the message when it is spent."""
        self.site_id = site_id
        self.config = config or MindbodyClientConfig()
        self.call_budget = call_budget
        self.budget_source = budget_source
        self._credentials = credentials
        self._sleep = sleep
        self._jitter = jitter
        self._now = now
        self._seconds_left = seconds_left
        self._token: str | None = None
        self._token_expires: datetime | None = None
        self._http = httpx.Client(
            base_url=self.config.base_url.rstrip("/"),
            headers={
                "API-Key": credentials.api_key.get_secret_value(),
                "SiteId": site_id,
                "Accept": "application/json",
            },
            timeout=self.config.timeout_seconds,
            transport=transport,
        )
        self.request_count = 0
        self.token_count = 0

    def close(self) -> None:
        self._http.close()

    # -- reads ----------------------------------------------------------------------------
    def get_page(
        self, path: str, list_key: str, params: Mapping[str, Any], offset: int
    ) -> MindbodyPage:
        limit = self.config.page_size
        query = {**params, "request.limit": str(limit), "request.offset": str(offset)}
        response = self.call("GET", path, params=query)
        return parse_page(response.content, list_key, offset=offset, limit=limit, path=path)

    def iter_pages(
        self, path: str, list_key: str, params: Mapping[str, Any], *, offset: int = 0
    ) -> Iterator[MindbodyPage]:
        next_offset: int | None = offset
        while next_offset is not None:
            page = self.get_page(path, list_key, params, next_offset)
            yield page
            next_offset = page.next_offset

    def get_all(self, path: str, list_key: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            record for page in self.iter_pages(path, list_key, params) for record in page.records
        ]

    def post(self, path: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        response = self.call("POST", path, json_body=payload)
        return _body(response, path)

    # -- transport ------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """One logical call (retried on 429/5xx, a token renewed once on 401). Writes are
        retried only when Mindbody provably did not act (429, 503, no connection)."""
        idempotent = method == "GET"
        retryable = RETRYABLE_STATUS if idempotent else frozenset({429, 503})
        what = f"Mindbody {method} {path} for site {self.site_id}"
        renewed = False
        last_problem = ""
        for attempt in range(1, self.config.max_attempts + 1):
            headers = {"Authorization": self._access_token()}
            self._count_call(what)
            retry_after: float | None = None
            try:
                response = self._http.request(
                    method,
                    path,
                    params=dict(params) if params else None,
                    json=dict(json_body) if json_body is not None else None,
                    headers=headers,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                last_problem = type(error).__name__
            except (httpx.TimeoutException, httpx.TransportError) as error:
                if not idempotent:
                    raise MindbodyOutcomeUnknown(
                        f"{what}: {type(error).__name__}; Mindbody may have applied it"
                    ) from error
                last_problem = type(error).__name__
            else:
                if response.status_code < 300:
                    return response
                if response.status_code == 401 and not renewed:
                    # An expired or revoked token: issue a new one and repeat at once.
                    renewed = True
                    self._token = None
                    continue
                if (
                    not idempotent
                    and response.status_code >= 500
                    and response.status_code not in retryable
                ):
                    raise MindbodyOutcomeUnknown(
                        f"{what}: {error_message(response)}; Mindbody may have applied it"
                    )
                if response.status_code not in retryable:
                    raise MindbodyRejected(f"{what}: {error_message(response)}")
                last_problem = error_message(response)
                retry_after = _retry_after_seconds(response)
            if attempt < self.config.max_attempts:
                self._wait(attempt, retry_after, what, last_problem)
        raise MindbodyRequestFailed(
            f"{what} failed {self.config.max_attempts} times; last: {last_problem}"
        )

    def _count_call(self, what: str) -> None:
        if self.call_budget is not None and self.request_count >= self.call_budget:
            raise CallBudgetExhausted(
                f"site {self.site_id}: the call budget ({self.budget_source}) is spent before "
                f"{what.removeprefix('Mindbody ')}; the sync stops here and the next run reads "
                "its window again (raise account.daily_call_budget to allow more)"
            )
        self.request_count += 1

    def _access_token(self) -> str:
        now = self._now()
        if (
            self._token is not None
            and self._token_expires is not None
            and now < self._token_expires - TOKEN_RENEW_MARGIN
        ):
            return self._token
        what = f"Mindbody POST {TOKEN_PATH} for site {self.site_id}"
        self._count_call(what)
        self.token_count += 1
        body = {
            "Username": self._credentials.username.get_secret_value(),
            "Password": self._credentials.password.get_secret_value(),
        }
        try:
            response = self._http.post(TOKEN_PATH, json=body)
        except httpx.HTTPError as error:
            raise MindbodyRequestFailed(f"{what}: {type(error).__name__}") from error
        if response.status_code >= 300:
            # Never the body we sent: it holds the password.
            raise MindbodyRejected(
                f"{what}: the staff login in the location's secret was refused: "
                f"{error_message(response)}"
            )
        try:
            issued = IssueResponse.model_validate(_body(response, TOKEN_PATH))
        except ValidationError as error:
            raise MindbodyUnreadable(f"{what}: the answer holds no AccessToken") from error
        self._token = issued.access_token
        self._token_expires = issued.expires or now + TOKEN_DEFAULT_LIFETIME
        return self._token

    def _wait(self, attempt: int, retry_after: float | None, what: str, problem: str) -> None:
        delay = self.backoff(attempt, retry_after)
        if self._seconds_left is not None and delay >= self._seconds_left():
            raise MindbodyRequestFailed(
                f"{what}: {problem}, and the {delay:.0f} s wait before the next attempt is "
                "more than the run has left; the next run retries"
            )
        self._sleep(delay)

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential with equal jitter, or Retry-After (capped), as the ABC client does:
        every studio of a zone syncs at 21:00, retries in lockstep would collide again."""
        ceiling = self.config.backoff_max_seconds
        if retry_after is not None and retry_after > 0:
            return min(retry_after, ceiling / 1.2) * (1.0 + 0.2 * self._jitter())
        exponential = min(ceiling, self.config.backoff_base_seconds * float(2 ** (attempt - 1)))
        return exponential * (0.5 + 0.5 * self._jitter())


def mindbody_time(value: datetime) -> str:
    """Mindbody's date-time parameters: UTC with Z (client and visit times are UTC)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_page(
    content: bytes, list_key: str, *, offset: int, limit: int, path: str = ""
) -> MindbodyPage:
    """One list answer, its PaginationResponse checked against what was asked and sent."""
    where = f"{path or list_key} at offset {offset}"
    try:
        body = json.loads(content)
    except ValueError as error:
        raise MindbodyUnreadable(f"Mindbody {where}: the answer is not JSON") from error
    if not isinstance(body, dict) or not isinstance(body.get(list_key), list):
        raise MindbodyUnreadable(f"Mindbody {where}: the answer has no {list_key} list")
    try:
        paging = PaginationResponse.model_validate(body.get("PaginationResponse"))
    except ValidationError as error:
        raise MindbodyUnreadable(
            f"Mindbody {where}: the answer has no readable PaginationResponse"
        ) from error
    records = body[list_key]
    if not all(isinstance(record, dict) for record in records):
        raise MindbodyUnreadable(f"Mindbody {where}: {list_key} holds a non-object")
    problem = _paging_problem(paging, len(records), offset=offset, limit=limit)
    if problem:
        raise MindbodyUnreadable(
            f"Mindbody {where}: the PaginationResponse does not add up ({problem}); the sync "
            "stops and keeps its watermark"
        )
    end = offset + len(records)
    return MindbodyPage(
        offset=offset,
        records=records,
        next_offset=end if end < paging.total_results else None,
        total=paging.total_results,
        raw_bytes=len(content),
    )


def _paging_problem(paging: PaginationResponse, count: int, *, offset: int, limit: int) -> str:
    if paging.requested_offset != offset:
        return f"RequestedOffset {paging.requested_offset}, asked {offset}"
    if paging.page_size != count:
        return f"PageSize {paging.page_size} but {count} records"
    if count > limit:
        return f"{count} records, more than the limit {limit}"
    if offset + count > paging.total_results:
        return f"records past TotalResults {paging.total_results}"
    if count < limit and offset + count < paging.total_results:
        # A short page before the end: the rest would be read at shifted offsets.
        return f"a short page of {count} with {paging.total_results} in total"
    return ""


def error_message(response: httpx.Response) -> str:
    """`HTTP 400 InvalidParameter: <Message>` from Mindbody's {"Error": {...}}."""
    try:
        answer = ErrorAnswer.model_validate_json(response.content)
    except ValidationError:
        return f"HTTP {response.status_code}"
    code = f" {answer.error.code}" if answer.error.code else ""
    message = f": {_short(answer.error.message)}" if answer.error.message else ""
    return f"HTTP {response.status_code}{code}{message}"


def _body(response: httpx.Response, path: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as error:
        raise MindbodyUnreadable(f"Mindbody {path}: the answer is not JSON") from error
    if not isinstance(body, dict):
        raise MindbodyUnreadable(f"Mindbody {path}: the answer is not an object")
    return body


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
