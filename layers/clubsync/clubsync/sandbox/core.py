"""The provider-neutral sandbox core: one HTTP server, a controllable clock, a fault queue, a
request log and the `/_sandbox` control API. A provider's sandbox plugs in its routes
(`SandboxRoutes`); the core knows nothing of any billing system (docs/sandbox.md, "Adding a
provider's sandbox routes").

Standard library only (ThreadingHTTPServer): the sandbox ships in the layer and runs as
`clubsync sandbox`, so it must not need a web framework at run time (docs/decisions.md).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONTROL_PREFIX = "/_sandbox"

# Header names that carry credentials: kept out of the request log.
_SECRET_HEADER = re.compile(r"key|secret|token|authorization|signature|password|cookie", re.I)


class FaultKind(StrEnum):
    RATE_LIMIT = "429"
    SERVER_ERROR = "500"
    SLOW = "slow"
    MALFORMED_RECORD = "malformed_record"
    SILENT_REJECTION = "silent_rejection"
    UNREADABLE_PAGE = "unreadable_page"


class Fault(BaseModel):
    """A fault the sandbox injects into the next `count` API requests for `resource`."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    count: int = Field(default=1, ge=1)
    resource: str = Field(default="members", min_length=1)
    delay_seconds: float = Field(default=2.0, ge=0.0, le=300.0)  # SLOW only
    message: str = "Invalid date range."  # SILENT_REJECTION only


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str | None = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def json_response(payload: Any, status: int = HTTPStatus.OK) -> Response:
    return Response(status, json_bytes(payload))


def error_response(status: int, message: str) -> Response:
    """The `{"errors": [{"message": ...}]}` answer every sandbox error uses."""
    return json_response({"errors": [{"message": message}]}, status)


class BadRequest(Exception):
    """A request that cannot be honoured; the message names the field (answered, not raised)."""

    def __init__(self, message: str, status: int = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Request:
    """One request as a route sees it. `params` are the `{name}` segments of the route's
    pattern (URL-decoded); `headers` have lower-case names; `fault` is the queued fault the
    core took for this request and did not apply itself (silent rejection, unreadable page)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    params: Mapping[str, str] = field(default_factory=dict)
    fault: Fault | None = None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or BadRequest naming what is wrong with it."""
        try:
            data = json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BadRequest("body: not valid JSON") from None
        if not isinstance(data, dict):
            raise BadRequest("body: expected a JSON object")
        return data


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """`pattern` is relative to the routes' prefix, segments separated by `/`; `{name}` matches
    one segment and `{name*}` (last only) the rest, possibly nothing. `method` "*" matches any.
    `fault_resource` names the fault resource of a request: a fixed name, or a `{param}`; None
    means faults never apply (control routes)."""

    method: str
    pattern: str
    handler: Handler
    fault_resource: str | None = None

    def match(self, method: str, segments: Sequence[str]) -> dict[str, str] | None:
        if self.method not in ("*", method):
            return None
        wanted = [s for s in self.pattern.split("/") if s]
        params: dict[str, str] = {}
        for index, part in enumerate(wanted):
            if part.startswith("{") and part.endswith("*}"):
                params[part[1:-2]] = "/".join(segments[index:])
                return params
            if index >= len(segments):
                return None
            if part.startswith("{") and part.endswith("}"):
                params[part[1:-1]] = segments[index]
            elif part != segments[index]:
                return None
        return params if len(wanted) == len(segments) else None

    def resource_for(self, params: Mapping[str, str]) -> str | None:
        name = self.fault_resource
        if name is not None and name.startswith("{") and name.endswith("}"):
            return params.get(name[1:-1])
        return name


class SandboxRoutes(Protocol):
    """What a provider's sandbox plugs into the core.

    - `prefix`: where its API lives, e.g. "/rest" (ABC) or "/clubhub"; requests under it are
      counted and logged, then `authorize`d, then routed (first matching route wins).
    - `routes()`: the API; `control_routes()`: extra `/_sandbox/...` routes (record edits).
    - `status()`: provider facts merged into GET /_sandbox/health and /_sandbox/clock answers,
      e.g. {"clubs": {...}}.
    """

    prefix: str

    def routes(self) -> list[Route]: ...

    def control_routes(self) -> list[Route]: ...

    def authorize(self, request: Request) -> Response | None:
        """None when the request may proceed, else the refusal to send."""
        ...

    def health(self) -> dict[str, Any]: ...

    def clock(self) -> dict[str, Any]: ...


class Clock:
    """The sandbox clock: aware, kept in UTC, moved only by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = self.check_aware(now) if now is not None else datetime.now(UTC)

    @staticmethod
    def check_aware(value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        return value.astimezone(UTC)

    @property
    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, now: datetime) -> None:
        value = self.check_aware(now)
        with self._lock:
            self._now = value

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now = self._now + delta


class FaultQueue:
    """Queued faults; each matching request uses up one of the first matching fault's count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault.model_copy())

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    @property
    def queued(self) -> list[Fault]:
        with self._lock:
            return [f.model_copy() for f in self._faults]

    def take(self, resource: str, *, has_records: bool | None = None) -> Fault | None:
        """Consume one count of the first queued fault matching `resource`.

        MALFORMED_RECORD only matches pages with at least one record (`has_records`); the
        other kinds only match before the page is built (`has_records is None`).
        """
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.resource != resource:
                    continue
                is_malformed = fault.kind is FaultKind.MALFORMED_RECORD
                if is_malformed != (has_records is not None):
                    continue
                if is_malformed and not has_records:
                    continue
                if fault.count <= 1:
                    del self._faults[index]
                else:
                    self._faults[index] = fault.model_copy(update={"count": fault.count - 1})
                return fault.model_copy()
        return None


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # without credentials
    body: bytes


class RequestLog:
    """Every API request (not control requests), oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def record(self, request: Request) -> None:
        headers = {k: v for k, v in request.headers.items() if not _SECRET_HEADER.search(k)}
        entry = LoggedRequest(
            request.method, request.path, dict(request.query), headers, bytes(request.body)
        )
        with self._lock:
            self._entries.append(entry)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)


def fault_payload_problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )


class SandboxCore:
    """Serves one provider's routes with the shared clock, faults, log and control API."""

    def __init__(self, routes: SandboxRoutes, *, now: datetime | None = None) -> None:
        self.provider = routes
        self.clock = Clock(now)
        self.faults = FaultQueue()
        self.log = RequestLog()
        self._lock = threading.Lock()
        self._server: _CoreHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._origin: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; returns the origin `http://HOST:PORT`."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError("sandbox already started")
            server = _CoreHTTPServer((host, port), _CoreHandler, self)
            bound = server.server_address[1]
            self._server = server
            self._origin = f"http://{host}:{bound}"
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"sandbox-{bound}",
                daemon=True,
            )
            self._thread.start()
            return self._origin

    def stop(self) -> None:
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            self._origin = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def origin(self) -> str | None:
        with self._lock:
            return self._origin

    # ------------------------------------------------------------------ dispatch

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes = b"",
    ) -> tuple[Response, float]:
        """Answer one request; returns the response and the delay to wait before sending."""
        request = Request(method, path, dict(query), dict(headers), body)
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            routes = self._control_routes() + self.provider.control_routes()
            return self._route(request, _segments(path, CONTROL_PREFIX), routes), 0.0
        prefix = self.provider.prefix
        if path == prefix or path.startswith(prefix + "/"):
            return self._api(request, _segments(path, prefix))
        return error_response(HTTPStatus.NOT_FOUND, "Not Found"), 0.0

    def _api(self, request: Request, segments: list[str]) -> tuple[Response, float]:
        self.log.record(request)
        refusal = self.provider.authorize(request)
        if refusal is not None:
            return refusal, 0.0
        for route in self.provider.routes():
            params = route.match(request.method, segments)
            if params is None:
                continue
            resource = route.resource_for(params)
            fault = self.faults.take(resource) if resource is not None else None
            delay = 0.0
            if fault is not None:
                if fault.kind is FaultKind.RATE_LIMIT:
                    response = self._error(HTTPStatus.TOO_MANY_REQUESTS, "Too Many Requests")
                    response.headers["Retry-After"] = "0"
                    return response, 0.0
                if fault.kind is FaultKind.SERVER_ERROR:
                    return Response(HTTPStatus.INTERNAL_SERVER_ERROR, b"", None), 0.0
                if fault.kind is FaultKind.SLOW:
                    delay, fault = fault.delay_seconds, None
            routed = Request(
                request.method,
                request.path,
                request.query,
                request.headers,
                request.body,
                params,
                fault,
            )
            return _answer(route.handler, routed), delay
        return self._error(HTTPStatus.NOT_FOUND, "Not Found"), 0.0

    def _error(self, status: int, message: str) -> Response:
        # A plug-in whose API words its errors otherwise (Mindbody's {"Error": {...}}) gives
        # `error_response`; the core's own answers (429, unknown path) then use it too.
        render: Callable[[int, str], Response] = getattr(
            self.provider, "error_response", error_response
        )
        return render(status, message)

    @staticmethod
    def _route(request: Request, segments: list[str], routes: list[Route]) -> Response:
        for route in routes:
            params = route.match(request.method, segments)
            if params is not None:
                return _answer(route.handler, _with_params(request, params))
        return error_response(HTTPStatus.NOT_FOUND, "Not Found")

    # ------------------------------------------------------------------ control API

    def _control_routes(self) -> list[Route]:
        return [
            Route("GET", "health", self._health),
            Route("GET", "clock", lambda _: json_response(self.clock_payload())),
            Route("POST", "clock", self._set_clock),
            Route("GET", "faults", self._list_faults),
            Route("POST", "faults", self._queue_fault),
            Route("DELETE", "faults", self._clear_faults),
        ]

    def _health(self, _: Request) -> Response:
        payload: dict[str, Any] = {"status": "ok", "now": self.clock.now.isoformat()}
        payload.update(self.provider.health())
        payload.update({"requestCount": len(self.log), "faults": len(self.faults)})
        return json_response(payload)

    def clock_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"now": self.clock.now.isoformat()}
        payload.update(self.provider.clock())
        return payload

    def _set_clock(self, request: Request) -> Response:
        data = request.json_object()
        has_now, has_advance = "now" in data, "advance_seconds" in data
        if has_now == has_advance:
            raise BadRequest("now/advance_seconds: give exactly one of the two")
        if has_now:
            raw = data["now"]
            try:
                if not isinstance(raw, str):
                    raise ValueError
                self.clock.set(datetime.fromisoformat(raw))
            except ValueError:
                raise BadRequest(
                    "now: expected an ISO timestamp with a zone offset, e.g. "
                    "2025-01-15T12:00:00+00:00"
                ) from None
        else:
            seconds = data["advance_seconds"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise BadRequest("advance_seconds: expected a number")
            try:
                self.clock.advance(timedelta(seconds=seconds))
            except (OverflowError, ValueError):
                raise BadRequest("advance_seconds: out of range") from None
        return json_response(self.clock_payload())

    def _list_faults(self, _: Request) -> Response:
        return json_response({"faults": [f.model_dump(mode="json") for f in self.faults.queued]})

    def _queue_fault(self, request: Request) -> Response:
        try:
            fault = Fault.model_validate(request.json_object())
        except ValidationError as exc:
            raise BadRequest(fault_payload_problems(exc)) from None
        self.faults.add(fault)
        return json_response({"queued": fault.model_dump()})

    def _clear_faults(self, _: Request) -> Response:
        self.faults.clear()
        return json_response({"faults": []})


def _segments(path: str, prefix: str) -> list[str]:
    return [unquote(s) for s in path[len(prefix) :].split("/") if s]


def _with_params(request: Request, params: Mapping[str, str]) -> Request:
    return Request(
        request.method, request.path, request.query, request.headers, request.body, params
    )


def _answer(handler: Handler, request: Request) -> Response:
    try:
        return handler(request)
    except BadRequest as exc:
        return error_response(exc.status, exc.message)


class _CoreHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        core: SandboxCore,
    ) -> None:
        self.core = core
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients that hang up mid-answer are expected under fault injection."""


class _CoreHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server_version = "BillingSandbox/1.0"
    server: _CoreHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """No request logging: requests carry member data."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            response, delay = self.server.core.handle(method, split.path, query, headers, body)
            if delay > 0:
                time.sleep(delay)
        except Exception as exc:  # never let a bug kill the connection silently
            response = error_response(HTTPStatus.INTERNAL_SERVER_ERROR, f"sandbox error: {exc}")
        self.send_response(response.status)
        if response.content_type is not None:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)
