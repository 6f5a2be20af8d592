"""The provider-neutral window a resource job asks billing for (DESIGN.md "engine: windows").

A window is a time range in UTC, either side open, plus the club's zone and which of a record's
times it bounds. It says nothing of a billing system: each provider's record source turns it
into its own request parameters (ABC: a `...TimestampRange` in club-local time, see
providers/abc/resources.py). A window is also what a checkpoint saves, so it stays a small
JSON-able model.

Members are asked for by status rather than by a time range alone (`MemberQuery`): every active
member, or members of a status changed since a time, which is what every member API offers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator


class Sweep(StrEnum):
    """Which of a record's times a window bounds. Most types have one sweep; a type read twice
    (service agreements: sold recently, plus changed recently) names each."""

    # When the record happened: a check-in's time, an event's date, a sale's time.
    OCCURRED = "occurred"
    # When billing last changed the record.
    MODIFIED = "modified"


class Window(BaseModel):
    """One request series of a resource: records whose `sweep` time lies in [start, end]
    (inclusive, either side open), or every record when both are open."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Names the series in run records, pause messages and checkpoints ("last-30-days").
    name: str
    sweep: Sweep = Sweep.OCCURRED
    start: datetime | None = None
    end: datetime | None = None
    # IANA zone of the club: providers whose APIs speak local time convert with it.
    zone: str

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # A naive bound has no meaning across zones; refuse it rather than guess.
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        return value.astimezone(UTC)

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            # ZoneInfoNotFoundError is a KeyError, which pydantic would not report as invalid.
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def zoneinfo(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @property
    def bounded(self) -> bool:
        return self.start is not None or self.end is not None

    @classmethod
    def everything(cls, name: str, zone: str) -> Window:
        """A series without a range (employees, campaigns)."""
        return cls(name=name, zone=zone)


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
