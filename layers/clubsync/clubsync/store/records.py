"""Synced records other than people and agreements in the entities table (keys:
docs/data-model.md, "Other sync types"): one item per record under the location's partition,
`{PREFIX}{id}`, carrying the `source_hash` of the billing record it came from."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel

from clubsync.domain.employees import Employee
from clubsync.store.entities import location_pk
from clubsync.store.items import Item, ItemTable

M = TypeVar("M", bound=BaseModel)

EMPLOYEES_PK = "EMPLOYEES"
EMPLOYEE_PREFIX = "EMPLOYEE#"
EMPLOYEE_REF_PREFIX = "EMPLOYEEREF#"
CHECKIN_PREFIX = "CHECKIN#"
EVENT_PREFIX = "EVENT#"
INVOICE_PREFIX = "INVOICE#"
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
