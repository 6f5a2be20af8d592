"""ABC's harness for the contract suite: the billing sandbox over HTTP on 127.0.0.1, pages
of four members (the client's `page_size` option), connected through the composition root."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from clubsync.domain.runs import RunRecord, SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.providers.registry import connect_location
from clubsync.resources.members import MemberSync
from clubsync.runtime.local import sandbox_client_options, sandbox_secret
from clubsync.sandbox import BillingSandbox
from clubsync.sandbox.abc.generator import format_timestamp
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository
from tests.conftest import abc_member
from tests.providers.contract.harness import ContractMember

CLUB = "0451"


class AbcHarness:
    name = "abc"
    page_size = 4
    no_window: str | None = None

    def __init__(self, sandbox: BillingSandbox) -> None:
        self.sandbox = sandbox

    def location(self, time_zone: str) -> LocationSettings:
        # The sandbox writes the club's timestamps in its zone, as ABC does.
        self.sandbox.add_club(CLUB, time_zone)
        return LocationSettings(
            location_id="abc-club",
            provider="abc",
            account={"club_number": CLUB},
            time_zone=time_zone,
        )

    def _record(
        self, settings: LocationSettings, number: int, last_name: str, at: datetime
    ) -> dict[str, Any]:
        return abc_member(
            self.billing_id(number),
            personal__firstName=f"Person{number}",
            personal__lastName=last_name,
            personal__email=f"p{number}@example.org",
            personal__mobilePhone=f"555{number:07d}",
            personal__primaryPhone="",
            personal__lastModifiedTimestamp=format_timestamp(at.astimezone(settings.zone)),
            agreement__agreementNumber=f"{number:05d}",
        )

    def seed(self, settings: LocationSettings, members: Sequence[ContractMember]) -> None:
        self.sandbox.load_members(
            CLUB, [self._record(settings, m.number, m.last_name, m.modified_at) for m in members]
        )

    def seed_malformed(self, settings: LocationSettings, number: int, at: datetime) -> None:
        # One of the sandbox's malformed kinds: a birth date that does not exist.
        record = self._record(settings, number, "Broken", at)
        record["personal"]["birthDate"] = "31/02/1990"
        self.sandbox.load_members(CLUB, [record])

    def billing_id(self, number: int) -> str:
        return f"{number:032x}"

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
        options = sandbox_client_options(self.sandbox.url)
        options["abc"] = {**options["abc"], "page_size": self.page_size}
        connection = connect_location(settings, sandbox_secret, client_options=options)
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
def harness() -> Iterator[AbcHarness]:
    with BillingSandbox(now=datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) as sandbox:
        yield AbcHarness(sandbox)
