"""POS transactions, member service agreements and marketing sources synced from ABC (spec:
"Point of Sale Transactions", "Member Service Agreement", "Marketing Sources")."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.settings import ProfitCenterType


class InvoiceItemUse(StrEnum):
    PRODUCT = "product"  # on the product list: product drip campaigns
    SERVICE = "service"
    PT = "PT"  # profit center of type PT: adds sessions


class InvoiceItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system_id: str
    description: str | None = None
    upc: str | None = None
    unit_qty: Decimal | None = None
    unit_price: Decimal | None = None
    package_qty: Decimal | None = None
    sub_total: Decimal | None = None
    tax: Decimal | None = None
    profit_center: str | None = None
    profit_center_type: ProfitCenterType | None = None
    use: InvoiceItemUse | None = None
    is_paid: bool | None = None
    system_member_service_agreement_id: str | None = None
    sale_date: datetime | None = None


class Invoice(BaseModel):
    """A POS transaction: only its items of configured profit centers are kept."""

    model_config = ConfigDict(extra="forbid")

    system_id: str
    location_id: str
    receipt_number: str | None = None
    billing_member_id: str | None = None
    person_id: str | None = None
    salesperson_billing_id: str | None = None
    sale_date: datetime
    is_return: bool = False
    items: list[InvoiceItem] = Field(default_factory=list)


class ServiceAgreement(BaseModel):
    """A member service agreement (ABC recurring service)."""

    model_config = ConfigDict(extra="forbid")

    system_id: str
    location_id: str
    billing_member_id: str
    person_id: str | None = None
    salesperson_billing_id: str | None = None
    service_employee_billing_id: str | None = None
    unit_qty: int | None = None
    unit_price: Decimal | None = None
    description: str
    agreement_name: str | None = None
    is_auto_renew: bool = False
    is_active: bool = False
    repeat_type: str | None = None
    sale_date: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    is_pt: bool = False


class MarketingSource(BaseModel):
    """An ABC campaign as a CRM marketing source; usable on pushed prospects only with a
    PON or PFA type."""

    model_config = ConfigDict(extra="forbid")

    system_id: str
    location_id: str
    name: str
    campaign_type: str | None = None
    usable_for_prospects: bool = False
