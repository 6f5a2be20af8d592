"""The employee sync type (spec: "Employees"): add employees that pass the rules, consolidate
accounts at several locations into one employee, revoke and restore access from status, and
never update a profile after creation. The rules are in domain/employees.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from clubsync.domain.employees import (
    BillingEmployee,
    Employee,
    EmployeeAccount,
    access_revoked,
    consolidation_key,
    employee_id_for,
    employee_skip_reason,
    role_from_departments,
)
from clubsync.domain.runs import SyncKind, SyncType
from clubsync.engine.sync_engine import Accepted, PageMerge
from clubsync.resources.record_job import RecordJob
from clubsync.store.entities import location_pk
from clubsync.store.records import (
    EMPLOYEE_REF_PREFIX,
    RecordRepository,
    employee_item,
    model_of,
)


class EmployeeRef(BaseModel):
    """An ABC employee account at a location, pointing at the CRM employee it belongs to."""

    billing_employee_id: str
    employee_id: str
    is_active: bool


@dataclass
class EmployeeJob(RecordJob):
    _refs: dict[str, EmployeeRef] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.sync_type = SyncType.EMPLOYEES
        self.prefix = EMPLOYEE_REF_PREFIX
        self.merge_settings = ("departments",)

    def queries(
        self, kind: SyncKind, *, now: datetime, last_success: datetime | None
    ) -> list[BaseModel]:
        return [self.window("all-employees")]

    def begin(self) -> None:
        super().begin()
        self._refs = self.records.load(self.location_id, EMPLOYEE_REF_PREFIX, EmployeeRef)

    def employee_by_billing_id(self, billing_employee_id: str | None) -> str | None:
        if not billing_employee_id:
            return None
        ref = self._refs.get(billing_employee_id)
        return ref.employee_id if ref else None

    def merge_page(self, accepted: list[Accepted], now: datetime) -> PageMerge:
        merged = PageMerge()
        planned: list[tuple[Accepted, BillingEmployee, str]] = []
        for record in accepted:
            employee: BillingEmployee = record.value
            known = self._refs.get(employee.billing_employee_id)
            if known is None:
                reason = employee_skip_reason(employee, self.settings.departments)
                if reason:
                    merged.count("skipped", reason)
                    continue
                key = consolidation_key(
                    employee.contact, self.location_id, employee.billing_employee_id
                )
                employee_id = employee_id_for(key)
            else:
                employee_id = known.employee_id
            planned.append((record, employee, employee_id))
        # Read fresh: another location's sync may have changed the same employee.
        stored = self.records.employees({eid for _, _, eid in planned})
        changed: dict[str, Employee] = {}
        for record, billing, employee_id in planned:
            account = EmployeeAccount(
                location_id=self.location_id,
                billing_employee_id=billing.billing_employee_id,
                is_active=billing.is_active,
            )
            existing = changed.get(employee_id) or stored.get(employee_id)
            if existing is None:
                accounts = {self.location_id: account}
                result = Employee(
                    employee_id=employee_id,
                    contact=billing.contact,
                    role=role_from_departments(billing.departments),
                    departments=billing.departments,
                    accounts=accounts,
                    access_revoked=access_revoked(accounts),
                    created_at=now,
                )
                merged.count("created")
            else:
                # No profile update after creation: only this location's account and access.
                accounts = {**existing.accounts, self.location_id: account}
                result = existing.model_copy(
                    update={"accounts": accounts, "access_revoked": access_revoked(accounts)}
                )
                if result == existing:
                    merged.count("unchanged")
                elif self.location_id not in existing.accounts:
                    merged.count("updated", "consolidated with an account at another location")
                elif result.access_revoked != existing.access_revoked:
                    merged.count(
                        "updated",
                        "employee access revoked" if result.access_revoked else "access restored",
                    )
                else:
                    merged.count("updated")
            if existing is None or result != existing:
                changed[employee_id] = result
            ref = EmployeeRef(
                billing_employee_id=billing.billing_employee_id,
                employee_id=employee_id,
                is_active=billing.is_active,
            )
            self._refs[billing.billing_employee_id] = ref
            merged.commits.append(
                self.item(billing.billing_employee_id, "employee_ref", ref, record.content_hash)
            )
        merged.puts.extend(employee_item(employee) for employee in changed.values())
        return merged


def employee_refs(records: RecordRepository, location_id: str) -> dict[str, str]:
    """billing employee id -> employee id at a location (for event owners)."""
    return {
        item["sk"].removeprefix(EMPLOYEE_REF_PREFIX): model_of(item, EmployeeRef).employee_id
        for item in records.items(location_pk(location_id), EMPLOYEE_REF_PREFIX)
    }
