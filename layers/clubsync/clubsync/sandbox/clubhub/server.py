"""A Club Hub sandbox: member accounts with pending memberships that later turn into real ones,
duplicate accounts, pushes (signed webhook deliveries) and a full pull over HTTP.

Like the ABC sandbox it is a product feature: support replays the duplicated-agreements article
with it (scenario/clubhub.py) and developers try the webhook without Club Hub. The HTTP shape is
ours (Club Hub's is not public, see providers/clubhub/wire.py):

    GET /clubhub/clubs/{club_id}/members  ->  {"members": [{"member": {...},
                                                            "memberships": [{...}, ...]}]}

Only active memberships are listed, as Club Hub shows them; a pending membership that was
replaced is gone from the data (the article: "no longer visible in Club Hub or in their API").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel

from clubsync.sandbox.clubhub.wire import SandboxMember, SandboxMembership
from clubsync.sandbox.core import (
    Request,
    Response,
    Route,
    SandboxCore,
    error_response,
    json_response,
)


def signed_headers(secret: bytes, body: bytes, at: datetime) -> dict[str, str]:
    """The headers Club Hub sends with `body` at `at` (docs/clubhub.md, "Signature"):
    HMAC-SHA256 of "<unix seconds>.<body>" with the shared secret."""
    timestamp = str(int(at.timestamp()))
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-ClubHub-Timestamp": timestamp, "X-ClubHub-Signature": "sha256=" + digest}


@dataclass
class _Account:
    member: SandboxMember
    memberships: dict[str, SandboxMembership] = field(default_factory=dict)


@dataclass
class ClubHubSandbox:
    club_id: str
    accounts: dict[str, _Account] = field(default_factory=dict)
    _deliveries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _core: SandboxCore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._core = SandboxCore(_ClubHubRoutes(self))

    # -- what staff do in Club Hub --------------------------------------------------------
    def add_account(self, member: BaseModel | Mapping[str, Any]) -> None:
        """Two accounts with the same name and contact data are Club Hub's duplicate active
        members; nothing here stops it, as nothing in Club Hub does. `member` is any model or
        mapping with the member fields (clubsync's own ClubHubMember, say)."""
        data = member.model_dump() if isinstance(member, BaseModel) else member
        account = SandboxMember.model_validate(data)
        with self._lock:
            self.accounts[account.member_id] = _Account(account)

    def sell_pending(self, account_id: str, membership_id: str, sale_date: date) -> None:
        self._put(
            account_id,
            SandboxMembership(membership_id=membership_id, pending=True, sale_date=sale_date),
        )

    def replace_pending(
        self, account_id: str, pending_id: str, real_id: str, sale_date: date
    ) -> None:
        """Anytime replaces the pending membership with the real one: new id, no link, and the
        pending one disappears from the data."""
        with self._lock:
            account = self.accounts[account_id]
            if pending_id not in account.memberships:
                raise ValueError(f"account {account_id} has no membership {pending_id}")
            del account.memberships[pending_id]
            account.memberships[real_id] = SandboxMembership(
                membership_id=real_id, pending=False, sale_date=sale_date
            )

    def deactivate(self, account_id: str, membership_id: str) -> None:
        """The article's stop-gap: setting the pending membership inactive."""
        with self._lock:
            account = self.accounts[account_id]
            current = account.memberships[membership_id]
            account.memberships[membership_id] = current.model_copy(update={"is_active": False})

    def _put(self, account_id: str, membership: SandboxMembership) -> None:
        with self._lock:
            self.accounts[account_id].memberships[membership.membership_id] = membership

    # -- what Club Hub sends --------------------------------------------------------------
    def listing(self) -> dict[str, Any]:
        """The full pull: every account with its active memberships."""
        with self._lock:
            return {
                "members": [
                    {
                        "member": account.member.model_dump(mode="json"),
                        "memberships": [
                            m.model_dump(mode="json")
                            for m in account.memberships.values()
                            if m.is_active
                        ],
                    }
                    for account in self.accounts.values()
                ]
            }

    def deliveries(self, now: datetime | None = None) -> list[bytes]:
        """One webhook body per active membership of every account, each with a new delivery
        id: what a push cycle (or Club Hub's periodic re-send) looks like."""
        sent = now or datetime.now(UTC)
        bodies = []
        for entry in self.listing()["members"]:
            for membership in entry["memberships"]:
                self._deliveries += 1
                bodies.append(
                    json.dumps(
                        {
                            "delivery_id": f"sandbox-{self._deliveries}",
                            "event": "membership.updated",
                            "club_id": self.club_id,
                            "occurred_at": sent.isoformat(),
                            "member": entry["member"],
                            "membership": membership,
                        }
                    ).encode()
                )
        return bodies

    def signed_deliveries(
        self, secret: bytes, now: datetime | None = None
    ) -> list[tuple[bytes, dict[str, str]]]:
        """`deliveries` as Club Hub sends them: each body with its X-ClubHub-Timestamp and
        X-ClubHub-Signature headers, signed at `now`."""
        sent = now or datetime.now(UTC)
        return [(body, signed_headers(secret, body, sent)) for body in self.deliveries(sent)]

    # -- HTTP ------------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        """Serve in a daemon thread; returns the origin `http://127.0.0.1:PORT`."""
        return self._core.start("127.0.0.1", port)

    def stop(self) -> None:
        self._core.stop()

    def _members_route(self, request: Request) -> Response:
        if request.params["club_id"] != self.club_id:
            return error_response(HTTPStatus.NOT_FOUND, "not found")
        return json_response(self.listing())


class _ClubHubRoutes:
    """Club Hub's plug-in for the sandbox core (SandboxRoutes): the pull has no credentials."""

    prefix = "/clubhub"

    def __init__(self, sandbox: ClubHubSandbox) -> None:
        self._sandbox = sandbox

    def routes(self) -> list[Route]:
        return [
            Route("GET", "clubs/{club_id}/members", self._sandbox._members_route, "members"),
        ]

    def control_routes(self) -> list[Route]:
        return []

    def authorize(self, request: Request) -> Response | None:
        return None

    def health(self) -> dict[str, Any]:
        return {"clubs": {self._sandbox.club_id: len(self._sandbox.accounts)}}

    def clock(self) -> dict[str, Any]:
        return {}
