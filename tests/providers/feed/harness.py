"""The mapped feed's harness for the contract suite: members seeded into a club's snapshot,
written as a delivered file with the provider's map, imported through `providers.feeds` (the
composition the Lambda runs). Each run delivers a new extract: the same members in another row
order (a new content hash, so the ledger imports it), which must write only what changed."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from clubsync.domain.runs import RunRecord, SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.providers.feed.importer import ImportStatus
from clubsync.providers.feed.mapping import FeedMap, FileKind
from clubsync.providers.feed.source import PAGE_ROWS
from clubsync.providers.feeds import club_feed, file_provider, import_delivery
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository
from tests.providers.contract.harness import ContractMember
from tests.providers.feed.files import extract, member_row

CLUB_ID = "club-1"
LOCATION_CODE = "L1"


class FeedHarness:
    name = "feed"
    page_size = PAGE_ROWS
    no_window: str | None = (
        "file feeds: a delivered file is a whole snapshot, not a modified-since window"
    )
    account: dict[str, Any] = {"club_id": CLUB_ID, "location_code": LOCATION_CODE}
    file_name = "club-1-members.csv"

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    @property
    def feed_map(self) -> FeedMap:
        provider = file_provider(self.name)
        return provider.feed_map(provider.account_model.model_validate(self.account))

    def location(self, time_zone: str) -> LocationSettings:
        return LocationSettings(
            location_id=f"{self.name}-club",
            provider=self.name,
            account=self.account,
            time_zone=time_zone,
        )

    def seed(self, settings: LocationSettings, members: Sequence[ContractMember]) -> None:
        for member in members:
            row = member_row(
                self.feed_map, member.number, LOCATION_CODE, last_name=member.last_name
            )
            self.rows[row["member_id"]] = row

    def seed_malformed(self, settings: LocationSettings, number: int, at: datetime) -> None:
        # Its own id (a file never has two rows of one member); a date no format reads.
        row = member_row(self.feed_map, number, LOCATION_CODE, sign_date="31/31/2026")
        row["member_id"] = f"BAD{number}"
        self.rows[row["member_id"]] = row

    def billing_id(self, number: int) -> str:
        return f"M{number}"

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
        rows = list(self.rows.values())
        random.Random(now.timestamp()).shuffle(rows)
        data = extract(self.feed_map, FileKind.MEMBERS, rows)
        club = club_feed(state.locations(), self.name, CLUB_ID)
        done = import_delivery(
            data,
            self.file_name,
            club,
            entities,
            state,
            clock=lambda: now,
            should_pause=should_pause,
        )
        assert done.status is not ImportStatus.ALREADY_IMPORTED, "the harness delivers new files"
        return done.runs[-1]


@contextmanager
def harness() -> Iterator[FeedHarness]:
    yield FeedHarness()
