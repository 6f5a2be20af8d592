"""Mindbody answers shaped as the OpenAPI description defines them (PascalCase, `request.limit`
/ `request.offset`, `PaginationResponse`, `{"Error": {...}}`), served over httpx.MockTransport.
Generated people only. Not a sandbox: each test states the records it serves."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

BASE = "https://mb.test/public/v6"
Json = dict[str, Any]


def client_record(unique_id: int, **fields: Any) -> Json:
    record: Json = {
        "UniqueId": unique_id,
        "Id": f"B{unique_id}",
        "Status": "Active",
        "Active": True,
        "IsProspect": False,
        "FirstName": f"Gen{unique_id}",
        "LastName": "Sample",
        "Email": f"gen{unique_id}@example.com",
        "MobilePhone": "5555550100",
        "CreationDate": "2026-01-05T10:00:00Z",
        "LastModifiedDateTime": "2026-12-01T18:00:00Z",
        "PhotoUrl": f"https://photos.example.com/{unique_id}.jpg",
        "Notes": None,
    }
    record.update(fields)
    return record


def contract_record(sale_id: int, **fields: Any) -> Json:
    record: Json = {
        "Id": sale_id,
        "ContractID": 7,
        "ContractName": "Unlimited Monthly",
        "AgreementDate": "2026-01-05T00:00:00",
        "StartDate": "2026-01-05T00:00:00",
        "EndDate": "2027-01-05T00:00:00",
        "TerminationDate": None,
        "AutopayStatus": "Active",
        "AutoRenewing": True,
    }
    record.update(fields)
    return record


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"Error": {"Message": message, "Code": code}}).encode()


@dataclass
class FakeMindbody:
    """Serves lists by path (paged as Mindbody pages them), the token flow, and writes.

    `lists[path]` is the full result of a list endpoint, or a function of the request's query
    parameters giving it (a filter such as request.clientIds). `faults` are answers served
    before the normal one, first in first out, per path."""

    lists: dict[str, Any] = field(default_factory=dict)
    list_keys: dict[str, str] = field(default_factory=dict)
    objects: dict[str, Callable[[httpx.Request], Json]] = field(default_factory=dict)
    faults: dict[str, list[httpx.Response]] = field(default_factory=dict)
    calls: list[httpx.Request] = field(default_factory=list)
    tokens_issued: int = 0
    valid_tokens: set[str] = field(default_factory=set)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        path = request.url.path.removeprefix("/public/v6")
        if path == "/usertoken/issue":
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
            self.valid_tokens.add(token)
            return httpx.Response(
                200,
                json={
                    "TokenType": "Bearer",
                    "AccessToken": token,
                    "Expires": "2026-12-09T07:00:00Z",
                },
            )
        queued = self.faults.get(path)
        if queued:
            return queued.pop(0)
        if request.headers.get("Authorization") not in self.valid_tokens:
            return httpx.Response(401, content=error_body("DeniedAccess", "Token is invalid"))
        if path in self.objects:
            return httpx.Response(200, json=self.objects[path](request))
        if path not in self.lists:
            return httpx.Response(404, content=error_body("NotFound", f"no {path}"))
        found = self.lists[path]
        params = dict(request.url.params)
        records = found(params) if callable(found) else found
        since = params.get("request.lastModifiedDate")
        if since is not None:
            # Modified on or after; times are UTC with Z, so text order is time order.
            records = [r for r in records if str(r.get("LastModifiedDateTime", "")) >= since]
        limit = int(params.get("request.limit", "100"))
        offset = int(params.get("request.offset", "0"))
        page = records[offset : offset + limit]
        return httpx.Response(
            200,
            json={
                "PaginationResponse": {
                    "RequestedLimit": limit,
                    "RequestedOffset": offset,
                    "PageSize": len(page),
                    "TotalResults": len(records),
                },
                self.list_keys[path]: page,
            },
        )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    def paths(self) -> list[str]:
        return [call.url.path.removeprefix("/public/v6") for call in self.calls]

    def add_list(self, path: str, key: str, records: Any) -> None:
        self.lists[path] = records
        self.list_keys[path] = key
