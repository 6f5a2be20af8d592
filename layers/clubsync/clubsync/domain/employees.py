"""CRM employees synced from ABC and their rules (spec: abc-integration-overview.txt, "Employees").

Each rule is a pure function named after it; tests/unit/test_employee_sync.py tests them by name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.people import ContactData

FRONT_DESK = "Front Desk"
TRAINER = "Trainer"


class EmployeeRole(StrEnum):
    SALESPERSON = "salesperson"
    FRONT_DESK = "front desk"
    TRAINER = "trainer"


class BillingEmployee(BaseModel):
    """An employee as billing describes it, translated from the wire."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    billing_employee_id: str
    contact: ContactData
    departments: tuple[str, ...] = ()
    is_active: bool = False
    commission_level: Decimal | None = None


class EmployeeAccount(BaseModel):
    """The employee's account at one location (ABC: one employee record per club)."""

    model_config = ConfigDict(extra="forbid")

    location_id: str
    billing_employee_id: str
    is_active: bool


class Employee(BaseModel):
    """One CRM user, consolidated over every location where billing has an account with the
    same contact data. The profile is written once, at creation."""

    model_config = ConfigDict(extra="forbid")

    employee_id: str
    contact: ContactData
    role: EmployeeRole
    departments: tuple[str, ...] = ()
    accounts: dict[str, EmployeeAccount] = Field(
        default_factory=dict, description="location id -> account there"
    )
    access_revoked: bool = False
    created_at: datetime | None = None


def employee_skip_reason(employee: BillingEmployee, location_departments: Iterable[str]) -> str:
    """Why an employee is not added ("" when it is): first and last name and a department on
    the location's list (exact, case-sensitive) are required; commission level 0 opts out."""
    if not employee.contact.first_name or not employee.contact.last_name:
        return "employee without first or last name"
    if not employee.departments:
        return "employee without a department"
    allowed = set(location_departments)
    if not any(department in allowed for department in employee.departments):
        return "employee department not on the location's list"
    if is_commission_level_zero(employee.commission_level):
        return "employee with commission level 0"
    return ""


def is_commission_level_zero(level: Decimal | None) -> bool:
    return level is not None and level == 0


def role_from_departments(departments: Iterable[str]) -> EmployeeRole:
    """Only Front Desk: front desk; only Trainer: trainer; anything else: salesperson."""
    unique = set(departments)
    if unique == {FRONT_DESK}:
        return EmployeeRole.FRONT_DESK
    if unique == {TRAINER}:
        return EmployeeRole.TRAINER
    return EmployeeRole.SALESPERSON


def consolidation_key(contact: ContactData, location_id: str, billing_employee_id: str) -> str:
    """Accounts at several locations with the same contact data (name and e-mail, else name and
    mobile phone) are one employee. Without either, the account stands alone."""
    first = " ".join((contact.first_name or "").casefold().split())
    last = " ".join((contact.last_name or "").casefold().split())
    email = (contact.email or "").strip().casefold()
    phone = re.sub(r"\D", "", contact.mobile_phone or contact.home_phone or "")[-10:]
    if first and last and (email or phone):
        return f"{first}|{last}|{email or phone}"
    return f"account|{location_id}|{billing_employee_id}"


def employee_id_for(key: str) -> str:
    """Deterministic: the same contact data is the same employee on every replay."""
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def access_revoked(accounts: Mapping[str, EmployeeAccount]) -> bool:
    """Revoked when inactive everywhere, restored when active again, kept while active at any
    location."""
    return not any(account.is_active for account in accounts.values())


def salesperson_account(employee: Employee, location_id: str) -> EmployeeAccount | None:
    """The billing account sent as the salesperson of a prospect at `location_id` (spec:
    "Prospects"): the employee's account at that location. An employee of other locations only
    is sent with their account there (active first, then by location id, so a replay sends the
    same one): billing accepts it if it authorized that location, and refuses it otherwise,
    which re-sends the prospect with no salesperson. None: the employee has no account."""
    here = employee.accounts.get(location_id)
    if here is not None:
        return here
    elsewhere = sorted(
        employee.accounts.values(),
        key=lambda account: (not account.is_active, account.location_id),
    )
    return elsewhere[0] if elsewhere else None
