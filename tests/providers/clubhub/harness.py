"""Club Hub's harness for the contract suite: its sandbox over HTTP on 127.0.0.1, the
location connected through the composition root, members pulled by Club Hub's own engine run
(`clubhub_sync.pull`, what its reconciliation Lambda runs): its capabilities declare no
scheduled pull."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from clubsync.domain.runs import RunRecord, SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.providers.clubhub.members import PAGE_SIZE
from clubsync.providers.clubhub.sync import pull
from clubsync.providers.clubhub.wire import ClubHubMember
from clubsync.providers.registry import connect_location
from clubsync.sandbox.clubhub import ClubHubSandbox
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository
from tests.providers.contract.harness import ContractMember

CLUB_ID = "AF-1203"


class ClubHubHarness:
    name = "clubhub"
    page_size = PAGE_SIZE
    no_window: str | None = (
        "clubhub: its member pull is a full listing with no modified-since filter "
        "(capabilities pull no scheduled sync type), so it has no window"
    )

    def __init__(self, sandbox: ClubHubSandbox, url: str) -> None:
        self.sandbox = sandbox
        self.url = url
        self.malformed: list[dict[str, Any]] = []
        listed = sandbox.listing

        # The sandbox stores validated accounts only; a record Club Hub sends broken is served
        # beside them, as the listing would carry it.
        def listing() -> dict[str, Any]:
            return {"members": [*listed()["members"], *self.malformed]}

        sandbox.listing = listing  # type: ignore[method-assign]

    def location(self, time_zone: str) -> LocationSettings:
        return LocationSettings(
            location_id="clubhub-club",
            provider="clubhub",
            account={"club_id": CLUB_ID},
            time_zone=time_zone,
        )

    def seed(self, settings: LocationSettings, members: Sequence[ContractMember]) -> None:
        for member in members:
            self.sandbox.add_account(
                ClubHubMember(
                    member_id=self.billing_id(member.number),
                    first_name=f"Person{member.number}",
                    last_name=member.last_name,
                    email=f"p{member.number}@example.org",
                    mobile_phone=f"555{member.number:07d}",
                )
            )

    def seed_malformed(self, settings: LocationSettings, number: int, at: datetime) -> None:
        self.malformed.append(
            {
                "member": {"member_id": self.billing_id(number), "is_active": "maybe"},
                "memberships": [],
            }
        )

    def billing_id(self, number: int) -> str:
        return f"CH{number}"

    def run(
        self,
        settings: LocationSettings,
        entities: EntityRepository,
        state: StateRepository,
        kind: SyncKind,
        now: datetime,
        *,
        should_pause: Callable[[], bool] = lambda: False,
    ) -> RunRecord:
        # Club Hub's pull is always a full listing: `kind` has nothing to choose.
        connection = connect_location(
            settings, lambda s: None, client_options={"clubhub": {"base_url": self.url}}
        )
        try:
            client = connection.connection.client()  # type: ignore[attr-defined]
            return pull(
                settings, entities, state, client, clock=lambda: now, should_pause=should_pause
            ).run
        finally:
            connection.close()


@contextmanager
def harness() -> Iterator[ClubHubHarness]:
    sandbox = ClubHubSandbox(CLUB_ID)
    url = sandbox.start()
    try:
        yield ClubHubHarness(sandbox, url)
    finally:
        sandbox.stop()
