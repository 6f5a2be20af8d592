"""Pulling a club from Club Hub (the shape: sandbox/clubhub/, wire.py).

`listing` is what the member stream (`members.py`) reads: the engine runs the pull like any
other sync. `full_pull` yields the listing as `ClubHubDelivery` values, the shape a push has.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from clubsync.providers.clubhub.wire import (
    ClubHubDelivery,
    ClubHubEvent,
    ClubHubMember,
    ClubHubMembership,
)


class ClubHubClient:
    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ClubHubClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def listing(self, club_id: str) -> Any:
        """`GET /clubhub/clubs/{club_id}/members`: every account with its active memberships,
        as Club Hub sent it (JSON). Raises httpx.HTTPError."""
        response = self._http.get(f"/clubhub/clubs/{club_id}/members")
        response.raise_for_status()
        return response.json()

    def full_pull(self, club_id: str, now: datetime | None = None) -> Iterator[ClubHubDelivery]:
        pulled_at = now or datetime.now(UTC)
        for entry in self.listing(club_id)["members"]:
            member = ClubHubMember.model_validate(entry["member"])
            memberships = [ClubHubMembership.model_validate(m) for m in entry["memberships"]]
            if not memberships:
                yield ClubHubDelivery(
                    delivery_id=f"pull-{member.member_id}",
                    event=ClubHubEvent.MEMBER_UPDATED,
                    club_id=club_id,
                    occurred_at=pulled_at,
                    member=member,
                )
            for membership in memberships:
                yield ClubHubDelivery(
                    delivery_id=f"pull-{member.member_id}-{membership.membership_id}",
                    event=ClubHubEvent.MEMBERSHIP_UPDATED,
                    club_id=club_id,
                    occurred_at=pulled_at,
                    member=member,
                    membership=membership,
                )
