"""What the sync engine needs from any billing provider (ABC now; Club Hub, Mindbody... later):
the record sources it pulls from, and the `Provider` / `Connection` protocols a billing system
implements to offer them (docs/providers.md). The registry of providers is `registry.py`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from clubsync.domain.billing import BillingMember
from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.domain.windows import MemberQuery, Window
from clubsync.providers.prospects import ProspectRules, ProspectTarget

RawRecord = dict[str, Any]


class SourcePage(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    next_page: int | None
    records: list[RawRecord]
    raw_bytes: int = 0


class SourceError(Exception):
    """The billing system could not be read (after retries), or silently rejected the query.
    The sync fails with this message and does not move its watermark."""


class InvalidRecord(Exception):
    """One billing record cannot be read; it is quarantined with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MemberSource(Protocol):
    provider: str

    @property
    def request_count(self) -> int: ...

    def pages(self, query: MemberQuery, start_page: int = 1) -> Iterator[SourcePage]: ...

    def record_id(self, record: RawRecord) -> str | None:
        """The provider's id of a raw record, or None when the record has none."""
        ...

    def content(self, record: RawRecord) -> bytes:
        """Canonical bytes of what the record says, leaving out what changes without meaning
        (ABC's lastModifiedTimestamp), so equal content hashes mean nothing to merge."""
        ...

    def translate(self, record: RawRecord) -> BillingMember:
        """Raises InvalidRecord with a reason a person can act on."""
        ...


class RecordSource(Protocol):
    """A billing resource read page by page (employees, check-ins, events, ...). It turns the
    job's provider-neutral `Window` into its own request parameters (docs/providers.md)."""

    provider: str

    @property
    def request_count(self) -> int: ...

    def pages(self, query: Window, start_page: int = 1) -> Iterator[SourcePage]: ...

    def record_id(self, record: RawRecord) -> str | None: ...

    def content(self, record: RawRecord) -> bytes: ...

    def translate(self, record: RawRecord) -> Any:
        """Raises InvalidRecord with a reason a person can act on."""
        ...


# -- providers ---------------------------------------------------------------------------------
class ProviderRefused(ValueError):
    """A location cannot be connected as it is configured: an unknown provider, an account or
    credentials its provider's models refuse, a sync type the provider does not offer. Trying
    again fails the same way (the sync entry point turns it into InvalidEvent)."""


@dataclass(frozen=True)
class Capabilities:
    """What a provider offers: the sync types it can pull, and whether it takes the CRM's
    prospect pushes. The registry refuses anything else before a connection is asked."""

    pulls: frozenset[SyncType]
    prospect_push: bool = False

    def describe(self) -> str:
        pulls = ", ".join(sorted(t.value for t in self.pulls)) or "nothing"
        return f"pulls {pulls}; " + ("takes prospects" if self.prospect_push else "no prospects")


class CallLedger(Protocol):
    """Billing calls counted per account and UTC day, across runs (the state table): what a
    provider that bills calls (Mindbody) keeps its daily call budget with."""

    def calls_on(self, account_key: str, day: str) -> int: ...

    def add_calls(self, account_key: str, day: str, calls: int) -> None: ...


@dataclass(frozen=True)
class ConnectContext:
    """What a connection needs besides the account and the credentials."""

    # The location being connected (its zone, its id for record keys, its settings).
    location: LocationSettings
    # This provider's client options (ABC: AbcClientConfig's fields: base_url, pacing, back-off),
    # from the environment or a local run; validated by the provider.
    options: Mapping[str, Any]
    # The time the run may still spend waiting on billing (Lambda: remaining time less the
    # pause margin); a client gives up a back-off longer than that. None: no limit.
    seconds_left: Callable[[], float] | None = None
    # An httpx transport in place of the network (benchmarks, tests); None in production.
    transport: Any = None
    # Where billing calls are counted per account and day; None: not counted across runs
    # (a provider with a daily budget then holds each connection to the whole budget).
    call_ledger: CallLedger | None = None
    # The run's clock (tests, local runs); None: the system's.
    clock: Callable[[], datetime] | None = None


class Connection(Protocol):
    """One location's open connection to its billing system. The registry asks only for what
    the provider's `capabilities` declare; `close` releases its HTTP clients."""

    provider: str

    def member_source(self) -> MemberSource: ...

    def record_source(self, sync_type: SyncType) -> RecordSource:
        """The source of a sync type other than members."""
        ...

    def prospect_target(self) -> ProspectTarget: ...

    def close(self) -> None: ...


class IntegrationHooks(Protocol):
    """What a connection may offer a location's initial integration (features/onboarding.py),
    besides its pulls. Both are optional: a connection without them is onboarded without a
    zone check and without billing prospects (the registry's CheckedConnection answers None).

    * `check_zone()`: why the location's configured zone is not the one billing writes its
      times in (a line for a person), or None when they agree. Raises SourceError when billing
      cannot be read.
    * `prospect_source()`: the billing system's own prospects, all of them, read with one
      `RangeQuery` without a range; `translate` gives `domain.billing.BillingProspect`s."""

    def check_zone(self) -> str | None: ...

    def prospect_source(self) -> RecordSource: ...


class Provider(Protocol):
    """A billing system: what it is called, what a location's account and credentials in it
    look like (pydantic models, validated at `clubsync locations apply` and on every connect),
    what it offers, and how to connect to it. One folder under providers/ and one line in
    registry.py."""

    name: ClassVar[str]
    account_model: ClassVar[type[BaseModel]]
    credentials_model: ClassVar[type[BaseModel]]
    capabilities: ClassVar[Capabilities]
    # What it refuses in a prospect before one is sent (NO_PROSPECT_RULES: nothing up front).
    prospect_rules: ClassVar[ProspectRules]

    def connect(self, account: Any, credentials: Any, context: ConnectContext) -> Connection:
        """`account` and `credentials` are instances of the two models above."""
        ...
