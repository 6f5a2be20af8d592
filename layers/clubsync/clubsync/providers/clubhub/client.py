"""Pulling a club from Club Hub for a full sync (the shape: sandbox/clubhub.py, wire.py).

A full pull yields the same `ClubHubDelivery` values a push does, so both go through one
`ClubHubWebhook.apply`; a pulled record has no delivery id of its own and gets one derived from
its content, which never reaches the idempotency record (pulls are applied directly).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

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

    def full_pull(self, club_id: str, now: datetime | None = None) -> Iterator[ClubHubDelivery]:
        response = self._http.get(f"/clubhub/clubs/{club_id}/members")
        response.raise_for_status()
        pulled_at = now or datetime.now(UTC)
        for entry in response.json()["members"]:
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
