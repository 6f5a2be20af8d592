"""A row of a delivered file, as a canonical billing record: the map's columns, date formats,
time zone and the club's own values. Any cell that cannot be read raises InvalidRecord naming
the row and the field (never its value: it may be personal data), and the row is quarantined."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from clubsync.domain.billing import BillingAgreement, BillingMember
from clubsync.domain.employees import BillingEmployee
from clubsync.domain.people import ContactData
from clubsync.providers.base import InvalidRecord
from clubsync.providers.feed.mapping import (
    DATE_FIELDS,
    DATETIME_FIELDS,
    MONEY_FIELDS,
    FeedMap,
    FeedValues,
    FileMap,
    parse_date,
    parse_datetime,
)
from clubsync.providers.feed.reader import ROW

CONTACT_FIELDS = frozenset(ContactData.model_fields)


@dataclass(frozen=True)
class RowTranslator:
    """Translates the rows of one kind of file of one club."""

    feed_map: FeedMap
    file_map: FileMap
    values: FeedValues
    zone: ZoneInfo

    @classmethod
    def of(
        cls, feed_map: FeedMap, file_map: FileMap, zone: ZoneInfo, club_values: FeedValues | None
    ) -> RowTranslator:
        file_zone = ZoneInfo(feed_map.time_zone) if feed_map.time_zone else zone
        return cls(feed_map, file_map, feed_map.values.merged(club_values), file_zone)

    # -- cells ---------------------------------------------------------------------------------
    def _text(self, row: dict[str, Any], name: str) -> str | None:
        value = row.get(name)
        return value if isinstance(value, str) and value else None

    def _date(self, row: dict[str, Any], name: str) -> date | None:
        value = self._text(row, name)
        if value is None:
            return None
        try:
            return parse_date(value, self.feed_map.date_formats)
        except ValueError:
            raise self._bad(
                row, name, f"not a date in {' or '.join(self.feed_map.date_formats)}"
            ) from None

    def _datetime(self, row: dict[str, Any], name: str) -> datetime | None:
        value = self._text(row, name)
        if value is None:
            return None
        try:
            return parse_datetime(value, self.feed_map.datetime_formats, self.zone)
        except ValueError:
            raise self._bad(
                row, name, f"not a date and time in {' or '.join(self.feed_map.datetime_formats)}"
            ) from None

    def _money(self, row: dict[str, Any], name: str) -> Decimal | None:
        value = self._text(row, name)
        if value is None:
            return None
        try:
            amount = Decimal(value.replace(",", "").removeprefix("$"))
        except InvalidOperation:
            raise self._bad(row, name, "not an amount") from None
        if not amount.is_finite():
            raise self._bad(row, name, "not an amount")
        return amount

    def _value(self, row: dict[str, Any], name: str, table: Mapping[str, str]) -> str | None:
        value = self._text(row, name)
        if value is None:
            return None
        meaning = table.get(value)
        if meaning is None:
            # The club's own values are not personal data; naming the value is what lets
            # someone add it to the map.
            raise self._bad(
                row,
                name,
                f"value {value!r} is not in values.{name} of map {self.feed_map.label} "
                f"(known: {', '.join(sorted(table)) or 'none'})",
            )
        return meaning

    def _bad(self, row: dict[str, Any], name: str, why: str) -> InvalidRecord:
        column = self.file_map.columns.get(name, name)
        return InvalidRecord(f"line {row.get(ROW, '?')}, column {column!r}: {why}")

    def _contact(self, row: dict[str, Any]) -> ContactData:
        fields: dict[str, Any] = {
            name: self._text(row, name) for name in self.file_map.columns if name in CONTACT_FIELDS
        }
        if "date_of_birth" in fields:
            fields["date_of_birth"] = self._date(row, "date_of_birth")
        return ContactData(**fields)

    def _required(self, row: dict[str, Any], name: str) -> str:
        value = self._text(row, name)
        if value is None:
            raise self._bad(row, name, "empty")
        return value

    # -- records -------------------------------------------------------------------------------
    def member(self, row: dict[str, Any]) -> BillingMember:
        values = self.values
        member_id = self._required(row, "member_id")
        kind = self._value(row, "membership_type", values.membership_type)
        status = self._value(row, "member_status", values.member_status)
        if kind is None:
            raise self._bad(row, "membership_type", "empty")
        if status is None:
            raise self._bad(row, "member_status", "empty")
        dated = {name: self._date(row, name) for name in DATE_FIELDS if name != "date_of_birth"}
        timed = {name: self._datetime(row, name) for name in DATETIME_FIELDS}
        try:
            return BillingMember(
                billing_member_id=member_id,
                billing_club=self._text(row, "location"),
                is_prospect=kind == "prospect",
                is_active=status == "active",
                contact=self._contact(row),
                created_at=timed["created_at"],
                join_date=dated["join_date"],
                modified_at=timed["modified_at"],
                agreement=self._agreement(row, member_id, dated),
            )
        except ValidationError as error:
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()})
            raise InvalidRecord(f"line {row.get(ROW, '?')}: invalid {', '.join(fields)}") from None

    def _agreement(
        self, row: dict[str, Any], member_id: str, dated: dict[str, date | None]
    ) -> BillingAgreement | None:
        number = self._text(row, "agreement_number")
        if number is None:
            return None
        status = self._value(row, "agreement_status", self.values.agreement_status)
        money = {name: self._money(row, name) for name in MONEY_FIELDS}
        return BillingAgreement(
            system_id=f"{member_id}#{number}",
            agreement_number=number,
            sign_date=dated["sign_date"],
            agreement_name=self._text(row, "agreement_name"),
            agreement_type=self._text(row, "agreement_type"),
            is_active=status == "active",
            start_date=dated["start_date"],
            end_date=dated["end_date"],
            recurring_payment=money["recurring_payment"],
            down_payment=money["down_payment"],
            past_due_balance=money["past_due_balance"],
        )

    def employee(self, row: dict[str, Any]) -> BillingEmployee:
        employee_id = self._required(row, "employee_id")
        status = self._value(row, "employee_status", self.values.employee_status)
        if status is None:
            raise self._bad(row, "employee_status", "empty")
        departments = self._text(row, "department")
        level = self._money(row, "commission_level")
        return BillingEmployee(
            billing_employee_id=employee_id,
            contact=self._contact(row),
            departments=tuple(
                part.strip()
                for part in (departments or "").split(self.file_map.list_separator)
                if part.strip()
            ),
            is_active=status == "active",
            commission_level=level,
        )
