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

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from clubsync.providers.clubhub.signing import signed_headers
from clubsync.providers.clubhub.wire import ClubHubMember, ClubHubMembership


@dataclass
class _Account:
    member: ClubHubMember
    memberships: dict[str, ClubHubMembership] = field(default_factory=dict)


@dataclass
class ClubHubSandbox:
    club_id: str
    accounts: dict[str, _Account] = field(default_factory=dict)
    _deliveries: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what staff do in Club Hub --------------------------------------------------------
    def add_account(self, member: ClubHubMember) -> None:
        """Two accounts with the same name and contact data are Club Hub's duplicate active
        members; nothing here stops it, as nothing in Club Hub does."""
        with self._lock:
            self.accounts[member.member_id] = _Account(member)

    def sell_pending(self, account_id: str, membership_id: str, sale_date: date) -> None:
        self._put(
            account_id,
            ClubHubMembership(membership_id=membership_id, pending=True, sale_date=sale_date),
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
            account.memberships[real_id] = ClubHubMembership(
                membership_id=real_id, pending=False, sale_date=sale_date
            )

    def deactivate(self, account_id: str, membership_id: str) -> None:
        """The article's stop-gap: setting the pending membership inactive."""
        with self._lock:
            account = self.accounts[account_id]
            current = account.memberships[membership_id]
            account.memberships[membership_id] = current.model_copy(update={"is_active": False})

    def _put(self, account_id: str, membership: ClubHubMembership) -> None:
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
        X-ClubHub-Signature headers (providers/clubhub/signing.py), signed at `now`."""
        sent = now or datetime.now(UTC)
        return [(body, signed_headers(secret, body, sent)) for body in self.deliveries(sent)]

    # -- HTTP ------------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                wanted = f"/clubhub/clubs/{sandbox.club_id}/members"
                if self.path.split("?")[0] != wanted:
                    self._send(404, {"error": "not found"})
                    return
                self._send(200, sandbox.listing())

            def _send(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # requests carry member data: not printed

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        host, bound = self._server.server_address[:2]
        return f"http://{host!s}:{bound}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
