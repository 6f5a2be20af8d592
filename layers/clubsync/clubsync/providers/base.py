"""What the sync engine needs from any billing provider (ABC now; Club Hub, Mindbody... later)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from clubsync.domain.billing import BillingMember

RawRecord = dict[str, Any]


class ActiveStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    ALL = "all"


class MemberQuery(BaseModel):
    """One request series to billing: members of an active status, optionally only those
    modified at or after `modified_since` (inclusive)."""

    model_config = ConfigDict(frozen=True)

    name: str
    active_status: ActiveStatus
    modified_since: datetime | None = None


class RangeQuery(BaseModel):
    """One request series of a sync type other than members: records whose `range_param`
    timestamp lies in [start, end] (either side open), or all records without a range."""

    model_config = ConfigDict(frozen=True)

    name: str
    range_param: str | None = None
    start: datetime | None = None
    end: datetime | None = None


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
    """A billing resource read page by page (employees, check-ins, events, ...)."""

    provider: str

    @property
    def request_count(self) -> int: ...

    def pages(self, query: RangeQuery, start_page: int = 1) -> Iterator[SourcePage]: ...

    def record_id(self, record: RawRecord) -> str | None: ...

    def content(self, record: RawRecord) -> bytes: ...

    def translate(self, record: RawRecord) -> Any:
        """Raises InvalidRecord with a reason a person can act on."""
        ...
