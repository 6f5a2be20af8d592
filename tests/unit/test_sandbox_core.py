"""The provider-neutral sandbox core with a minimal plug-in: routing, faults, log, control API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from clubsync.sandbox.core import (
    Fault,
    FaultKind,
    Request,
    Response,
    Route,
    SandboxCore,
    error_response,
    json_response,
)


class TinyRoutes:
    prefix = "/tiny"

    def __init__(self) -> None:
        self.items = {"1": {"id": "1"}}

    def routes(self) -> list[Route]:
        return [
            Route("GET", "items", self.list_items, fault_resource="items"),
            Route("GET", "items/{item_id}", self.one_item, fault_resource="items"),
        ]

    def control_routes(self) -> list[Route]:
        return [Route("POST", "items/{item_id}", self.put_item)]

    def authorize(self, request: Request) -> Response | None:
        if request.headers.get("x-api-key") != "k":
            return error_response(HTTPStatus.UNAUTHORIZED, "Unauthorized")
        return None

    def health(self) -> dict[str, Any]:
        return {"items": len(self.items)}

    def clock(self) -> dict[str, Any]:
        return {}

    def list_items(self, request: Request) -> Response:
        if request.fault is not None and request.fault.kind is FaultKind.SILENT_REJECTION:
            return json_response({"items": [], "message": request.fault.message})
        return json_response({"items": list(self.items.values())})

    def one_item(self, request: Request) -> Response:
        item = self.items.get(request.params["item_id"])
        if item is None:
            return error_response(HTTPStatus.NOT_FOUND, "no such item")
        return json_response(item)

    def put_item(self, request: Request) -> Response:
        self.items[request.params["item_id"]] = request.json_object()
        return json_response({"ok": True})


AUTH = {"x-api-key": "k"}


def _json(response: Response) -> Any:
    return json.loads(response.body)


def test_routes_params_and_auth() -> None:
    core = SandboxCore(TinyRoutes())
    ok, _ = core.handle("GET", "/tiny/items/1", {}, AUTH)
    assert _json(ok) == {"id": "1"}
    refused, _ = core.handle("GET", "/tiny/items", {}, {})
    assert refused.status == HTTPStatus.UNAUTHORIZED
    missing, _ = core.handle("GET", "/tiny/nothing", {}, AUTH)
    assert missing.status == HTTPStatus.NOT_FOUND
    assert len(core.log) == 3


def test_generic_faults_are_applied_by_the_core_and_others_reach_the_route() -> None:
    core = SandboxCore(TinyRoutes())
    core.faults.add(Fault(kind=FaultKind.RATE_LIMIT, resource="items"))
    core.faults.add(Fault(kind=FaultKind.SILENT_REJECTION, resource="items", message="no"))
    limited, _ = core.handle("GET", "/tiny/items", {}, AUTH)
    assert limited.status == HTTPStatus.TOO_MANY_REQUESTS
    assert limited.headers["Retry-After"] == "0"
    rejected, _ = core.handle("GET", "/tiny/items", {}, AUTH)
    assert _json(rejected) == {"items": [], "message": "no"}
    normal, _ = core.handle("GET", "/tiny/items", {}, AUTH)
    assert _json(normal)["items"] == [{"id": "1"}]


def test_request_log_keeps_no_credentials() -> None:
    core = SandboxCore(TinyRoutes())
    core.handle("GET", "/tiny/items", {"page": "1"}, {**AUTH, "authorization": "Basic x", "a": "b"})
    (entry,) = core.log.entries
    assert (entry.method, entry.path, entry.query) == ("GET", "/tiny/items", {"page": "1"})
    assert entry.headers == {"a": "b"}


def test_control_api_clock_faults_and_provider_routes() -> None:
    core = SandboxCore(TinyRoutes(), now=datetime(2025, 6, 1, tzinfo=UTC))
    moved, _ = core.handle("POST", "/_sandbox/clock", {}, {}, b'{"advance_seconds": 60}')
    assert _json(moved) == {"now": "2025-06-01T00:01:00+00:00"}
    bad, _ = core.handle("POST", "/_sandbox/faults", {}, {}, b'{"kind": "429", "count": 0}')
    assert bad.status == HTTPStatus.BAD_REQUEST
    assert "count: Input should be greater than or equal to 1" in bad.body.decode()
    core.handle("POST", "/_sandbox/items/2", {}, {}, b'{"id": "2"}')
    health, _ = core.handle("GET", "/_sandbox/health", {}, {})
    assert _json(health) == {
        "status": "ok",
        "now": "2025-06-01T00:01:00+00:00",
        "items": 2,
        "requestCount": 0,
        "faults": 0,
    }


def test_a_rest_pattern_matches_the_remaining_segments() -> None:
    route = Route("*", "{club}/{resource}/{rest*}", lambda r: json_response({}), "{resource}")
    assert route.match("PUT", ["1", "members", "a", "b"]) == {
        "club": "1",
        "resource": "members",
        "rest": "a/b",
    }
    assert route.match("GET", ["1"]) is None
    assert route.resource_for({"resource": "members"}) == "members"
