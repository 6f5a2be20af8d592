"""Synced records other than people and agreements in the entities table (keys:
docs/data-model.md, "Other sync types"): one item per record under the location's partition,
`{PREFIX}{id}`, carrying the `source_hash` of the billing record it came from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel

from clubsync.domain.employees import Employee
from clubsync.store.entities import location_pk
from clubsync.store.items import Item, ItemTable

M = TypeVar("M", bound=BaseModel)

EMPLOYEES_PK = "EMPLOYEES"
EMPLOYEE_PREFIX = "EMPLOYEE#"
EMPLOYEE_REF_PREFIX = "EMPLOYEEREF#"
# Check-ins, events and POS transactions sort by their club-local day, `{PREFIX}{day}#{id}`,
# so a sync reads the days of its window and not every record the location ever stored; each
# item expires (DynamoDB TTL, `expires_at`) after the location's retention for its type.
CHECKIN_DAY_PREFIX = "CHECKINDAY#"
EVENT_DAY_PREFIX = "EVENTDAY#"
INVOICE_DAY_PREFIX = "INVOICEDAY#"
# Where they were kept before, by id alone: the sync types move what they find there
# (`RecordJob.move_to_day_keys`).
CHECKIN_PREFIX = "CHECKIN#"
EVENT_PREFIX = "EVENT#"
INVOICE_PREFIX = "INVOICE#"
EXPIRES_AT = "expires_at"
# Sorts after every character of a record id.
_LAST = "\uffff"
SERVICE_AGREEMENT_PREFIX = "SERVICEAGREEMENT#"
MARKETING_SOURCE_PREFIX = "MARKETINGSOURCE#"
PT_FOLLOW_UP_PREFIX = "PTFOLLOWUP#"


def employee_item(employee: Employee) -> Item:
    """The employee sync's item of a CRM employee, `EMPLOYEES / EMPLOYEE#{id}`: one item for
    all their locations (accounts are consolidated), each location's billing account in
    `accounts`. Read back with `RecordRepository.employees`; nothing else writes or reads it."""
    return record_item(EMPLOYEES_PK, EMPLOYEE_PREFIX, employee.employee_id, "employee", employee)


def record_item(
    pk: str, prefix: str, record_id: str, entity: str, model: BaseModel, **extra: Any
) -> Item:
    return {
        "pk": pk,
        "sk": f"{prefix}{record_id}",
        "entity": entity,
        **model.model_dump(mode="json", exclude_none=True),
        **{name: value for name, value in extra.items() if value is not None},
    }


def day_sort_key(prefix: str, day: date, record_id: str) -> str:
    return f"{prefix}{day.isoformat()}#{record_id}"


def record_id_of_day_key(prefix: str, sort_key: str) -> str:
    """The record id of a day-keyed sort key (`{prefix}{day}#{id}`)."""
    return sort_key.removeprefix(prefix).split("#", 1)[1]


def expiry_epoch(day: date, retention_days: int) -> int:
    """When a record of this club-local day expires: `retention_days` days after it (UTC
    midnight; DynamoDB deletes expired items within a few days, reads may still see them)."""
    end = datetime.combine(day + timedelta(days=retention_days), time(0), tzinfo=UTC)
    return int(end.timestamp())


def day_record_item(
    location_id: str,
    prefix: str,
    day: date,
    record_id: str,
    entity: str,
    model: BaseModel,
    *,
    retention_days: int,
    **extra: Any,
) -> Item:
    item = record_item(location_pk(location_id), prefix, record_id, entity, model, **extra)
    item["sk"] = day_sort_key(prefix, day, record_id)
    item[EXPIRES_AT] = expiry_epoch(day, retention_days)
    return item


def model_of(item: Item, model: type[M]) -> M:
    return model.model_validate({k: v for k, v in item.items() if k in model.model_fields})


class RecordRepository:
    def __init__(self, table: ItemTable) -> None:
        self.table = table

    def hashes(self, location_id: str, prefix: str) -> dict[str, str]:
        """record id -> source hash, for every record of a kind at a location (one query)."""
        return {
            item["sk"].removeprefix(prefix): item.get("source_hash", "")
            for item in self.table.query(location_pk(location_id), prefix, ("sk", "source_hash"))
        }

    def items_between(
        self,
        location_id: str,
        prefix: str,
        first: date,
        last: date | None,
        projection: tuple[str, ...] | None = None,
    ) -> dict[str, Item]:
        """record id -> item, for the day-keyed records of days `first` to `last` (None: up
        to the newest), one query over that range of sort keys."""
        low = f"{prefix}{first.isoformat()}"
        high = f"{prefix}{last.isoformat()}#{_LAST}" if last else f"{prefix}{_LAST}"
        return {
            record_id_of_day_key(prefix, item["sk"]): item
            for item in self.table.query_between(location_pk(location_id), low, high, projection)
        }

    def hashes_between(
        self, location_id: str, prefix: str, first: date, last: date | None
    ) -> dict[str, str]:
        """record id -> source hash of the day-keyed records of those days."""
        found = self.items_between(location_id, prefix, first, last, ("sk", "source_hash"))
        return {record_id: item.get("source_hash", "") for record_id, item in found.items()}

    def load_between(
        self, location_id: str, prefix: str, first: date, last: date | None, model: type[M]
    ) -> dict[str, M]:
        found = self.items_between(location_id, prefix, first, last)
        return {record_id: model_of(item, model) for record_id, item in found.items()}

    def items(self, pk: str, prefix: str) -> list[Item]:
        return list(self.table.query(pk, prefix))

    def load(self, location_id: str, prefix: str, model: type[M]) -> dict[str, M]:
        return {
            item["sk"].removeprefix(prefix): model_of(item, model)
            for item in self.table.query(location_pk(location_id), prefix)
        }

    def employees(self, employee_ids: Iterable[str]) -> dict[str, Employee]:
        """CRM employees by id, as the employee sync wrote them (`employee_item`)."""
        return self.get_many(EMPLOYEES_PK, EMPLOYEE_PREFIX, employee_ids, Employee)

    def get_many(self, pk: str, prefix: str, ids: Iterable[str], model: type[M]) -> dict[str, M]:
        keys = [(pk, f"{prefix}{record_id}") for record_id in ids]
        found = self.table.batch_get(keys) if keys else []
        return {item["sk"].removeprefix(prefix): model_of(item, model) for item in found}
