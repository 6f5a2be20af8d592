"""The marketing source sync type (spec: "Marketing Sources"): ABC campaigns become marketing
sources, only for locations with the `sync_marketing_sources` option on. A campaign of type
PON or PFA is marked usable on prospects pushed to ABC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from clubsync.domain.runs import SyncKind, SyncType
from clubsync.domain.sales import MarketingSource
from clubsync.engine.sync_engine import Accepted, PageMerge
from clubsync.resources.record_job import RecordJob
from clubsync.store.records import MARKETING_SOURCE_PREFIX


@dataclass
class MarketingSourceJob(RecordJob):
    def __post_init__(self) -> None:
        self.sync_type = SyncType.MARKETING_SOURCES
        self.prefix = MARKETING_SOURCE_PREFIX

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]:
        # Option off: marketing sources are kept in the CRM; nothing is asked of ABC.
        if not self.settings.sync_marketing_sources:
            return []
        return [self.window("all-campaigns")]

    def merge_page(self, accepted: list[Accepted], now: datetime) -> PageMerge:
        merged = PageMerge()
        for record in accepted:
            source: MarketingSource = record.value
            merged.count("updated" if record.record_id in self._hashes else "created")
            merged.commits.append(
                self.item(source.system_id, "marketing_source", source, record.content_hash)
            )
        return merged
