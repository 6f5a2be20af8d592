"""The POS transaction sync type (spec: "Point of Sale Transactions"): only items of profit
centers configured for the location are kept; products on the location's product list are
recorded for product drip campaigns, services are recorded, and items of a PT profit center add
sessions and make the member "PT Active". The full sync covers the last 30 days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel

from clubsync.domain.follow_up_rules import PtSignal
from clubsync.domain.runs import SyncKind, SyncType
from clubsync.domain.sales import Invoice, InvoiceItem, InvoiceItemUse
from clubsync.domain.settings import LocationSettings, ProfitCenterType
from clubsync.engine.sync_engine import Accepted, PageMerge
from clubsync.resources.member_windows import SALES_LOOKBACK_DAYS, days_before_midnight
from clubsync.resources.record_job import PtFollowUpBook, RecordJob
from clubsync.store.items import Item
from clubsync.store.records import INVOICE_DAY_PREFIX, INVOICE_PREFIX

SKIP_NO_PROFIT_CENTER = "POS item of a profit center not configured"
SKIP_PRODUCT_NOT_LISTED = "POS product not on the location's product list"
SKIP_NOTHING_KEPT = "POS transaction without an item to process"


def classify_item(item: InvoiceItem, settings: LocationSettings) -> tuple[InvoiceItem | None, str]:
    """The item as kept (with its profit center type and use), or None and why it is not."""
    center = settings.profit_center(item.profit_center)
    if center is None:
        return None, SKIP_NO_PROFIT_CENTER
    if settings.is_listed_product(item.description, item.upc):
        use = InvoiceItemUse.PRODUCT
    elif center.type is ProfitCenterType.PT:
        use = InvoiceItemUse.PT
    elif center.type is ProfitCenterType.SERVICE:
        use = InvoiceItemUse.SERVICE
    else:
        return None, SKIP_PRODUCT_NOT_LISTED
    return item.model_copy(update={"profit_center_type": center.type, "use": use}), ""


def pt_sessions(item: InvoiceItem, is_return: bool) -> int:
    """Sessions a PT item adds: its quantity times its package quantity (negative on a return)."""
    sessions = int((item.unit_qty or 1) * (item.package_qty or 1))
    return -sessions if is_return else sessions


@dataclass
class PosJob(RecordJob):
    _book: PtFollowUpBook | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.sync_type = SyncType.POS
        self.prefix = INVOICE_DAY_PREFIX
        self.legacy_prefix = INVOICE_PREFIX
        self.retention_days = self.settings.retention_days.invoices
        self.merge_settings = ("profit_centers", "products")

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]:
        start = days_before_midnight(now=now, zone=self.settings.zone, days=SALES_LOOKBACK_DAYS)
        return [self.window("last-30-days", start=start)]

    def begin(self) -> None:
        super().begin()
        self._book = PtFollowUpBook(self.settings, self.records)

    def day_of_item(self, item: Item) -> date:
        return self.sale_day(datetime.fromisoformat(item["sale_date"]))

    def sale_day(self, sale_date: datetime) -> date:
        return sale_date.astimezone(self.settings.zone).date()

    def merge_page(self, accepted: list[Accepted], now: datetime) -> PageMerge:
        assert self._book is not None
        merged = PageMerge()
        people = self.people_by_billing_id(record.value.billing_member_id for record in accepted)
        for record in accepted:
            invoice: Invoice = record.value
            kept: list[InvoiceItem] = []
            for item in invoice.items:
                classified, reason = classify_item(item, self.settings)
                if classified is None:
                    merged.reasons[reason] += 1
                else:
                    kept.append(classified)
            if not kept:
                merged.count("skipped", SKIP_NOTHING_KEPT)
                continue
            person_id = people.get(invoice.billing_member_id or "")
            invoice = invoice.model_copy(update={"items": kept, "person_id": person_id})
            merged.count("updated" if record.record_id in self._hashes else "created")
            merged.commits.append(
                self.item(
                    invoice.system_id,
                    "invoice",
                    invoice,
                    record.content_hash,
                    self.sale_day(invoice.sale_date),
                )
            )
            if person_id is None:
                continue
            for item in kept:
                if item.use is not InvoiceItemUse.PT:
                    continue
                source = f"pos:{invoice.system_id}:{item.system_id}"
                self._book.credit_sessions(
                    person_id, source, pt_sessions(item, invoice.is_return), now
                )
                if not invoice.is_return:
                    self._book.signal(person_id, PtSignal.PT_PURCHASED, now)
        merged.puts.extend(self._book.drain())
        return merged
