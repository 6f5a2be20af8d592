"""ABC POS transactions: wire shape and the mapping of spec table "Invoices/POS Transactions".

Club OS field                              <- ABC field
systemId                                   <- transactionId
receiptNumber                              <- receiptNumber
member                                     <- memberId
salesperson                                <- employeeId
IntInvoiceItem.saleDate                    <- transactionTimestamp
IntInvoiceItem.systemId                    <- items|item|itemId
IntInvoiceItem.description                 <- items|item|name
IntInvoiceItem.upc                         <- items|item|upc
IntInvoiceItem.unitQty                     <- items|item|quantity
IntInvoiceItem.unitPrice                   <- items|item|unitPrice
IntInvoiceItem.packageQty                  <- items|item|packageQuantity
IntInvoiceItem.subTotal                    <- items|item|subtotal
IntInvoiceItem.tax                         <- items|item|tax
IntInvoiceItem.profitCenter                <- items|item|profitCenter
IntInvoiceItem.isPaid                      <- items|item|sale
IntInvoiceItem.systemMemberServiceAgreementId <- items|item|recurringServiceId
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field

from clubsync.domain.sales import Invoice, InvoiceItem
from clubsync.domain.windows import Sweep
from clubsync.providers.abc.client import AbcClient
from clubsync.providers.abc.resources import AbcResourceSource
from clubsync.providers.abc.wire import Amount, Flag, LocalTimestamp, Text, _Wire, one_or_many
from clubsync.providers.base import InvalidRecord

POS_PATH = "/clubs/transactions/pos"
POS_LIST_KEY = "clubs.transactions"
POS_RANGE = "transactionTimestampRange"


def _items(value: Any) -> Any:
    if isinstance(value, dict) and "item" in value:
        value = value["item"]
    return one_or_many(value)


class AbcPosItem(_Wire):
    item_id: str = Field(alias="itemId", min_length=1)
    name: Text = None
    upc: Text = None
    profit_center: Text = Field(default=None, alias="profitCenter")
    quantity: Amount = None
    unit_price: Amount = Field(default=None, alias="unitPrice")
    package_quantity: Amount = Field(default=None, alias="packageQuantity")
    subtotal: Amount = None
    tax: Amount = None
    sale: Flag = None
    recurring_service_id: Text = Field(default=None, alias="recurringServiceId")


class AbcPosTransaction(_Wire):
    transaction_id: str = Field(alias="transactionId", min_length=1)
    transaction_timestamp: LocalTimestamp = Field(default=None, alias="transactionTimestamp")
    member_id: Text = Field(default=None, alias="memberId")
    employee_id: Text = Field(default=None, alias="employeeId")
    receipt_number: Text = Field(default=None, alias="receiptNumber")
    is_return: Flag = Field(default=None, alias="return")
    items: Annotated[list[AbcPosItem], BeforeValidator(_items)] = Field(default_factory=list)


def pos_source(client: AbcClient | None, zone: ZoneInfo, location_id: str) -> AbcResourceSource:
    def mapping(wire: AbcPosTransaction) -> Invoice:
        if wire.transaction_timestamp is None:
            raise InvalidRecord("transactionTimestamp: missing")
        sale_date = wire.transaction_timestamp.replace(tzinfo=zone).astimezone(UTC)
        return Invoice(
            system_id=wire.transaction_id,
            location_id=location_id,
            receipt_number=wire.receipt_number,
            billing_member_id=wire.member_id,
            salesperson_billing_id=wire.employee_id,
            sale_date=sale_date,
            is_return=bool(wire.is_return),
            items=[
                InvoiceItem(
                    system_id=item.item_id,
                    description=item.name,
                    upc=item.upc,
                    unit_qty=item.quantity,
                    unit_price=item.unit_price,
                    package_qty=item.package_quantity,
                    sub_total=item.subtotal,
                    tax=item.tax,
                    profit_center=item.profit_center,
                    is_paid=item.sale,
                    system_member_service_agreement_id=item.recurring_service_id,
                    sale_date=sale_date,
                )
                for item in wire.items
            ],
        )

    return AbcResourceSource(
        client,
        zone,
        path=POS_PATH,
        list_key=POS_LIST_KEY,
        id_field="transactionId",
        wire=AbcPosTransaction,
        mapping=mapping,
        range_params={Sweep.OCCURRED: POS_RANGE},
    )
