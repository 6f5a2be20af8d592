"""What a sync run did, for the run record, the CLI summary and the metrics."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError


class SyncType(StrEnum):
    MEMBERS = "members"
    EMPLOYEES = "employees"
    CHECKINS = "checkins"
    EVENTS = "events"
    POS = "pos"
    SERVICE_AGREEMENTS = "service_agreements"
    MARKETING_SOURCES = "marketing_sources"


class SyncKind(StrEnum):
    FULL = "full"
    PARTIAL = "partial"
    # Records a billing system pushed (a webhook delivery) through `SyncEngine.ingest`: no
    # window, so it never moves the watermark.
    PUSH = "push"


def _pulled_kind(value: object) -> object:
    # A schedule, a continuation or a scenario asks for a pull; `push` is only ever a run
    # record's kind, written by `SyncEngine.ingest`.
    if value not in (SyncKind.FULL, SyncKind.PARTIAL):
        # The enum's own wording, without the kind no event may ask for.
        raise PydanticCustomError("enum", "Input should be 'full' or 'partial'")
    return value


# The kinds an event or a scenario may ask for.
PullKind = Annotated[SyncKind, BeforeValidator(_pulled_kind)]


class RunStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Ran out of time, saved a checkpoint; a fresh invocation continues it.
    CONTINUED = "continued"
    # Another sync of the same location and type held the lease; nothing was written.
    SKIPPED_LOCKED = "skipped_locked"


class RunCounts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fetched: int = 0
    created: int = 0
    updated: int = 0
    converted: int = 0
    unchanged: int = 0
    quarantined: int = 0
    ignored: int = 0
    skipped: int = 0
    pages: int = 0

    def add(self, other: RunCounts) -> RunCounts:
        return RunCounts(
            **{name: getattr(self, name) + getattr(other, name) for name in RunCounts.model_fields}
        )


class RunRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    location_id: str
    sync_type: SyncType
    kind: SyncKind
    status: RunStatus
    scheduled_time: datetime
    started_at: datetime
    finished_at: datetime | None = None
    window_start: datetime | None = None
    counts: RunCounts = Field(default_factory=RunCounts)
    billing_requests: int = 0
    errors: list[str] = Field(default_factory=list)
    skip_reasons: dict[str, int] = Field(
        default_factory=dict, description="Why records were skipped or ignored, with counts."
    )
    message: str = ""

    def metrics(self) -> dict[str, Any]:
        return {**self.counts.model_dump(), "billing_requests": self.billing_requests}
