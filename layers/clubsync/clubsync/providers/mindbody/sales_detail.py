"""The optional per-location "sales detail" mode (the CRM vendor's rule, reference/mindbody/
README.md): non-contract service sales in chosen service categories count as a conversion,
gathered into one catch-all agreement per client whose start is the earliest such sale and
whose end is the latest expiry.

Sales are site-wide (GET /sale/sales by sale date, no client filter), so they are read once per
run over the lookback and indexed by client, never per client.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta

from pydantic import Field, ValidationError

from clubsync.domain.billing import BillingAgreement, BillingMember
from clubsync.providers.base import SourceError
from clubsync.providers.mindbody.client import MindbodyClient, MindbodyError, mindbody_time
from clubsync.providers.mindbody.wire import Day, Instant, MbClient, MbWire, Text

SALES_PATH = "/sale/sales"
SALES_LIST_KEY = "Sales"
CATCH_ALL_NAME = "Mindbody services (sales detail)"


class MbPurchasedItem(MbWire):
    is_service: bool = False
    description: Text = None
    contract_id: int | None = None
    category_id: int | None = None
    returned: bool = False
    active_date: Day = None
    exp_date: Day = None


class MbSale(MbWire):
    id: int
    sale_date_time: Instant = None
    client_id: Text = None
    purchased_items: list[MbPurchasedItem] = Field(default_factory=list)


def counts_as_conversion(item: MbPurchasedItem, categories: frozenset[int]) -> bool:
    return (
        item.is_service
        and not item.contract_id
        and item.category_id in categories
        and not item.returned
    )


def catch_all_agreement(
    client_unique_id: int, sales: list[tuple[date, date | None]], today: date
) -> BillingAgreement:
    """`sales`: (sale day, expiry) of each qualifying item."""
    start = min(day for day, _ in sales)
    expiries = [expiry for _, expiry in sales if expiry is not None]
    end = max(expiries) if expiries else None
    return BillingAgreement(
        system_id=f"sales-detail-{client_unique_id}",
        agreement_number=f"sales-detail-{client_unique_id}",
        agreement_name=CATCH_ALL_NAME,
        agreement_type="sales-detail",
        is_active=end is None or end >= today,
        start_date=start,
        end_date=end,
        sale_date=start,
    )


class SalesDetail:
    def __init__(
        self,
        client: MindbodyClient,
        categories: frozenset[int],
        *,
        lookback_days: int,
        now: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._categories = categories
        self._lookback = timedelta(days=lookback_days)
        self._now = now
        self._by_client: dict[str, list[tuple[date, date | None]]] | None = None

    def qualifying_sales(self) -> dict[str, list[tuple[date, date | None]]]:
        if self._by_client is None:
            self._by_client = self._read()
        return self._by_client

    def _read(self) -> dict[str, list[tuple[date, date | None]]]:
        now = self._now()
        params = {
            "request.startSaleDateTime": mindbody_time(now - self._lookback),
            "request.endSaleDateTime": mindbody_time(now),
        }
        found: dict[str, list[tuple[date, date | None]]] = defaultdict(list)
        try:
            records = self._client.get_all(SALES_PATH, SALES_LIST_KEY, params)
        except MindbodyError as error:
            raise SourceError(str(error)) from error
        for record in records:
            try:
                sale = MbSale.model_validate(record)
            except ValidationError as error:
                # A sale that cannot be read would silently deny a conversion: fail the run.
                raise SourceError(
                    f"Mindbody {SALES_PATH}: sale {record.get('Id')!r} is unreadable "
                    f"({error.error_count()} problem(s)); the sync stops and keeps its watermark"
                ) from error
            if sale.client_id is None or sale.sale_date_time is None:
                continue
            for item in sale.purchased_items:
                if counts_as_conversion(item, self._categories):
                    day = item.active_date or sale.sale_date_time.date()
                    found[sale.client_id].append((day, item.exp_date))
        return dict(found)

    def convert(self, client: MbClient, member: BillingMember) -> BillingMember:
        """The member with its catch-all agreement, or as it was without qualifying sales."""
        sales = self.qualifying_sales().get(client.id or "")
        if not sales:
            return member
        today = self._now().date()
        agreement = catch_all_agreement(client.unique_id, sales, today)
        return member.model_copy(
            update={
                "is_prospect": False,
                "is_active": agreement.is_active,
                "agreement": agreement,
                "join_date": agreement.start_date,
            }
        )
