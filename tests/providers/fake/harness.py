"""The fake provider's harness for the contract suite: its billing is a list in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from clubsync.domain.runs import RunRecord, SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.providers.registry import REGISTRY, connect_location
from clubsync.resources.members import MemberSync
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository
from tests.providers.contract.harness import ContractMember
from tests.providers.fake.provider import FakeProvider, fake_member

SECRET = "clubsync/fake-site-1"


class FakeHarness:
    name = "fake"
    page_size = 2  # FakeMemberSource's pages
    no_window: str | None = None

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def location(self, time_zone: str) -> LocationSettings:
        return LocationSettings(
            location_id="fake-club",
            provider="fake",
            account={"site_id": "S-1"},
            time_zone=time_zone,
            billing_secret_name=SECRET,
        )

    def _put(self, record: dict[str, Any]) -> None:
        self.records = [r for r in self.records if r["id"] != record["id"]] + [record]

    def seed(self, settings: LocationSettings, members: Sequence[ContractMember]) -> None:
        for member in members:
            self._put(
                fake_member(
                    member.number,
                    last=member.last_name,
                    modified=member.modified_at.isoformat(),
                )
            )

    def seed_malformed(self, settings: LocationSettings, number: int, at: datetime) -> None:
        self._put(fake_member(number, email=None, modified=at.isoformat()))

    def billing_id(self, number: int) -> str:
        return f"F{number}"

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
        connection = connect_location(
            settings,
            lambda s: {"token": "t0k3n"},
            client_options={"fake": {"sites": {"S-1": self.records}}},
        )
        try:
            job = MemberSync(
                settings,
                connection.member_source(),
                entities,
                state,
                clock=lambda: now,
                should_pause=should_pause,
            )
            return job.run(kind, now)
        finally:
            connection.close()


@contextmanager
def harness() -> Iterator[FakeHarness]:
    # The fake's one registration line, for the contract run only (as fake/conftest.py does).
    REGISTRY[FakeProvider.name] = FakeProvider
    try:
        yield FakeHarness()
    finally:
        del REGISTRY[FakeProvider.name]
