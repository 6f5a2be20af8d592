"""ABC recurring services: wire shape and the mapping of spec table "Member Service Agreement".

Club OS field   <- ABC field
salesperson     <- salesPersonId
serviceEmployee <- serviceEmployeeId
member          <- memberId
unitQty         <- totalPeriods
unitPrice       <- invoiceTotal
description     <- serviceItem + " - " + recurringTypeDesc
agreementName   <- serviceItem
isAutoRenew     <- autoRenew
isActive        <- recurringServiceStatus
repeatType      <- frequency
saleDate        <- recurringServiceDates|saleDate
startDate       <- recurringServiceDates|firstBillingDate
endDate         <- recurringServiceDates|finalBillingDate
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field

from clubsync.domain.sales import ServiceAgreement
from clubsync.domain.windows import Sweep
from clubsync.providers.abc.client import AbcClient
from clubsync.providers.abc.resources import AbcResourceSource
from clubsync.providers.abc.wire import Amount, Day, Flag, Text, _Wire

RECURRING_SERVICES_PATH = "/members/recurringservices"
SALE_RANGE = "saleTimestampRange"
MODIFIED_RANGE = "lastModifiedTimestampRange"
ACTIVE_SERVICE_STATUSES = frozenset({"active"})

# frequency -> CRM repeat type. Unknown frequencies keep no repeat type.
REPEAT_TYPES: dict[str, str] = {
    "weekly": "WEEKLY",
    "bi-weekly": "BIWEEKLY",
    "biweekly": "BIWEEKLY",
    "monthly": "MONTHLY",
    "semi-monthly": "SEMIMONTHLY",
    "quarterly": "QUARTERLY",
    "semi-annually": "SEMIANNUALLY",
    "annually": "YEARLY",
    "yearly": "YEARLY",
    "one time": "ONCE",
    "once": "ONCE",
    "paid in full": "ONCE",
}


def repeat_type(frequency: str | None) -> str | None:
    if not frequency:
        return None
    return REPEAT_TYPES.get(" ".join(frequency.casefold().split()))


def service_description(service_item: str | None, recurring_type_desc: str | None) -> str:
    """`serviceItem - recurringTypeDesc`; a missing part is left out with its separator."""
    return " - ".join(part for part in (service_item, recurring_type_desc) if part)


def looks_like_pt(service_item: str | None, recurring_type_desc: str | None) -> bool:
    text = f"{service_item or ''} {recurring_type_desc or ''}".casefold()
    return "personal training" in text or text.split()[:1] == ["pt"] or " pt " in f" {text} "


class AbcServiceDates(_Wire):
    sale_date: Day = Field(default=None, alias="saleDate")
    first_billing_date: Day = Field(default=None, alias="firstBillingDate")
    final_billing_date: Day = Field(default=None, alias="finalBillingDate")


class AbcRecurringService(_Wire):
    recurring_service_id: str = Field(alias="recurringServiceId", min_length=1)
    member_id: str = Field(alias="memberId", min_length=1)
    sales_person_id: Text = Field(default=None, alias="salesPersonId")
    service_employee_id: Text = Field(default=None, alias="serviceEmployeeId")
    total_periods: Amount = Field(default=None, alias="totalPeriods")
    invoice_total: Amount = Field(default=None, alias="invoiceTotal")
    service_item: Text = Field(default=None, alias="serviceItem")
    recurring_type_desc: Text = Field(default=None, alias="recurringTypeDesc")
    auto_renew: Flag = Field(default=None, alias="autoRenew")
    recurring_service_status: Text = Field(default=None, alias="recurringServiceStatus")
    frequency: Text = None
    dates: AbcServiceDates = Field(default_factory=AbcServiceDates, alias="recurringServiceDates")


def map_recurring_service(wire: AbcRecurringService, location_id: str) -> ServiceAgreement:
    return ServiceAgreement(
        system_id=wire.recurring_service_id,
        location_id=location_id,
        billing_member_id=wire.member_id,
        salesperson_billing_id=wire.sales_person_id,
        service_employee_billing_id=wire.service_employee_id,
        unit_qty=int(wire.total_periods) if wire.total_periods is not None else None,
        unit_price=wire.invoice_total,
        description=service_description(wire.service_item, wire.recurring_type_desc),
        agreement_name=wire.service_item,
        is_auto_renew=bool(wire.auto_renew),
        is_active=(wire.recurring_service_status or "").casefold() in ACTIVE_SERVICE_STATUSES,
        repeat_type=repeat_type(wire.frequency),
        sale_date=wire.dates.sale_date,
        start_date=wire.dates.first_billing_date,
        end_date=wire.dates.final_billing_date,
        is_pt=looks_like_pt(wire.service_item, wire.recurring_type_desc),
    )


def recurring_service_source(
    client: AbcClient | None, zone: ZoneInfo, location_id: str
) -> AbcResourceSource:
    return AbcResourceSource(
        client,
        zone,
        path=RECURRING_SERVICES_PATH,
        list_key="recurringServices",
        id_field="recurringServiceId",
        wire=AbcRecurringService,
        mapping=lambda wire: map_recurring_service(wire, location_id),
        volatile_fields=("lastModifiedTimestamp",),
        # Sold recently, and changed recently (an older agreement's new status).
        range_params={Sweep.OCCURRED: SALE_RANGE, Sweep.MODIFIED: MODIFIED_RANGE},
    )
