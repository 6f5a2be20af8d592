"""The member service agreement sync type (spec: "Members", "Member Service Agreement"):
agreements sold within the 30 days before midnight, plus a sweep by modification date so a
later status change of an older agreement is caught. A PT agreement sets "PT Active" and counts
as the active agreement of the session balance rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from clubsync.domain.follow_up_rules import PtSignal
from clubsync.domain.runs import SyncKind, SyncType
from clubsync.domain.sales import ServiceAgreement
from clubsync.domain.windows import Sweep, Window
from clubsync.engine.sync_engine import Accepted, PageMerge
from clubsync.resources.member_windows import (
    CATCH_UP_SAFETY_MARGIN,
    SALES_LOOKBACK_DAYS,
    days_before_midnight,
    modified_sweep_start,
)
from clubsync.resources.record_job import PtFollowUpBook, RecordJob
from clubsync.store.records import SERVICE_AGREEMENT_PREFIX


def service_agreement_queries(
    *, now: datetime, zone: ZoneInfo, last_success: datetime | None
) -> list[Window]:
    """Sold in the 30 days before midnight, plus everything modified since the last sync."""
    return [
        Window(
            name="sold-last-30-days",
            sweep=Sweep.OCCURRED,
            start=days_before_midnight(now=now, zone=zone, days=SALES_LOOKBACK_DAYS),
            zone=zone.key,
        ),
        Window(
            name="modified-since-last-sync",
            sweep=Sweep.MODIFIED,
            start=modified_sweep_start(
                now=now, zone=zone, last_success=last_success, margin=CATCH_UP_SAFETY_MARGIN
            ),
            zone=zone.key,
        ),
    ]


@dataclass
class ServiceAgreementJob(RecordJob):
    _book: PtFollowUpBook | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.sync_type = SyncType.SERVICE_AGREEMENTS
        self.prefix = SERVICE_AGREEMENT_PREFIX

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]:
        return list(
            service_agreement_queries(now=now, zone=self.settings.zone, last_success=last_success)
        )

    def begin(self) -> None:
        super().begin()
        self._book = PtFollowUpBook(self.settings, self.records)

    def merge_page(self, accepted: list[Accepted], now: datetime) -> PageMerge:
        assert self._book is not None
        merged = PageMerge()
        people = self.people_by_billing_id(record.value.billing_member_id for record in accepted)
        for record in accepted:
            agreement: ServiceAgreement = record.value
            if self._hashes.get(record.record_id) == record.content_hash:
                # Already merged earlier in this run (both sweeps return it).
                merged.count("unchanged")
                continue
            person_id = people.get(agreement.billing_member_id)
            agreement = agreement.model_copy(update={"person_id": person_id})
            merged.count("updated" if record.record_id in self._hashes else "created")
            if person_id is None:
                merged.reasons["service agreement of a member not found"] += 1
            merged.commits.append(
                self.item(agreement.system_id, "service_agreement", agreement, record.content_hash)
            )
            if person_id is None or not agreement.is_pt:
                continue
            self._book.agreement_state(person_id, agreement.system_id, agreement.is_active, now)
            if agreement.is_active:
                self._book.signal(person_id, PtSignal.PT_PURCHASED, now)
        merged.puts.extend(self._book.drain())
        return merged
