"""Mindbody's harness for the contract suite: the Mindbody sandbox over HTTP on 127.0.0.1,
pages of four clients (the client's `page_size` option), the location connected through the
composition root with the sandbox's staff login, members pulled by the engine's MemberSync."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from clubsync.domain.runs import RunRecord, SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.providers.registry import connect_location
from clubsync.resources.members import MemberSync
from clubsync.sandbox.mindbody import MindbodySandbox
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository
from tests.providers.contract.harness import ContractMember

SITE_ID = "-99"
SECRET = {"api_key": "sandbox", "username": "sandbox", "password": "sandbox"}
FIRST_UNIQUE_ID = 100_000


def mb_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MindbodyHarness:
    name = "mindbody"
    page_size = 4
    no_window: str | None = None
    # GET /client/clients has includeInactive but no "inactive only": the full sync's inactive
    # query pages through the active clients modified in its 90 days too.
    inactive_query_reads_active = True

    def __init__(self, sandbox: MindbodySandbox) -> None:
        self.sandbox = sandbox

    def location(self, time_zone: str) -> LocationSettings:
        self.sandbox.add_site(SITE_ID, time_zone)
        return LocationSettings(
            location_id="mindbody-studio",
            provider="mindbody",
            account={"site_id": SITE_ID},
            time_zone=time_zone,
        )

    def _record(self, number: int, last_name: str, at: datetime) -> dict[str, Any]:
        return {
            "UniqueId": int(self.billing_id(number)),
            "Id": f"B{number}",
            "Status": "Active",
            "Active": True,
            "IsProspect": False,
            "FirstName": f"Person{number}",
            "LastName": last_name,
            "Email": f"p{number}@example.org",
            "MobilePhone": f"555{number:07d}",
            "CreationDate": mb_time(at),
            "LastModifiedDateTime": mb_time(at),
        }

    def seed(self, settings: LocationSettings, members: Sequence[ContractMember]) -> None:
        for member in members:
            self.sandbox.add_client(
                SITE_ID, self._record(member.number, member.last_name, member.modified_at)
            )

    def seed_malformed(self, settings: LocationSettings, number: int, at: datetime) -> None:
        # A birth date that does not exist: the client cannot be read.
        record = self._record(number, "Broken", at)
        record["BirthDate"] = "1990-02-31T00:00:00"
        self.sandbox.add_client(SITE_ID, record)

    def billing_id(self, number: int) -> str:
        return str(FIRST_UNIQUE_ID + number)

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
        # Mindbody's clock is the run's: its tokens expire by it.
        self.sandbox.set_clock(now)
        connection = connect_location(
            settings,
            lambda _: SECRET,
            client_options={
                "mindbody": {"base_url": self.sandbox.url, "page_size": self.page_size}
            },
            clock=lambda: now,
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
def harness() -> Iterator[MindbodyHarness]:
    with MindbodySandbox(now=datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) as sandbox:
        yield MindbodyHarness(sandbox)
