"""What a provider gives the shared contract suite (tests/providers/contract/): a `Harness`,
from `tests/providers/<name>/harness.py`, a context manager named `harness`.

The suite speaks of members in provider-neutral terms (`ContractMember`: a number, a last
name, a modification instant); the harness turns them into its billing system's records (an
HTTP sandbox, or a list in memory), connects a location to it through the composition root
(`connect_location`) and runs the provider's member pull through the real engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from clubsync.domain.runs import RunRecord, SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository


@dataclass(frozen=True)
class ContractMember:
    """One active billing member. A new `last_name` is a change of content; `modified_at` is
    the instant billing says it was last modified (aware)."""

    number: int
    modified_at: datetime
    last_name: str = "Member"


class Harness(Protocol):
    # The registry name the harness's locations give.
    name: str
    # How many records one page of its billing holds (the paging contract crosses pages).
    page_size: int
    # None when its member pull reads a modified-since window; otherwise why it has none, the
    # reason window, equal-timestamp and time-zone contracts are skipped with.
    no_window: str | None
    # Optional attribute `inactive_query_reads_active` (False when absent): True where billing
    # cannot list inactive members only, so the full sync's inactive query reads the recently
    # modified active ones again (Mindbody).

    def location(self, time_zone: str) -> LocationSettings:
        """A location on this provider, in `time_zone`, known to its billing."""
        ...

    def seed(self, settings: LocationSettings, members: Sequence[ContractMember]) -> None:
        """Adds the members to billing, or replaces those with the same number."""
        ...

    def seed_malformed(self, settings: LocationSettings, number: int, at: datetime) -> None:
        """Adds one record, numbered `number`, that the provider cannot translate."""
        ...

    def billing_id(self, number: int) -> str:
        """The billing member id a stored person of member `number` carries."""
        ...

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
        """One member run of the location through the engine at `now` (its clock too)."""
        ...


def members(
    count: int, at: datetime, *, first: int = 1, last_name: str = "Member"
) -> list[ContractMember]:
    return [ContractMember(n, at, last_name) for n in range(first, first + count)]
