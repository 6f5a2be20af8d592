"""ABC employees: wire shape and the mapping of spec table "Employees".

Club OS field  <- ABC field
firstName      <- personal|firstName        middleName <- personal|middleInitial
lastName       <- personal|lastName         dateOfBirth <- personal|birthDate
email          <- contact|email             mobilePhone <- contact|cellPhone
homePhone      <- contact|homePhone         workPhone  <- contact|workPhone
addressLine1   <- contact|address           city <- contact|city, state <- contact|state
zip            <- contact|postalCode        barcode <- barcode
(role from employment|departments, access from employment|employeeStatus, commission level
from employment|commissionLevel: that field name is a guess, reference/abc-api.md)
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field

from clubsync.domain.employees import BillingEmployee
from clubsync.domain.people import ContactData
from clubsync.providers.abc.client import AbcClient
from clubsync.providers.abc.resources import AbcResourceSource
from clubsync.providers.abc.wire import Amount, Day, Text, _Wire, one_or_many

EMPLOYEES_PATH = "/employees"
ACTIVE_EMPLOYEE_STATUSES = frozenset({"active"})


def _department_names(value: Any) -> list[str]:
    """`departments.department[]` of strings or of objects with a name; one may be bare."""
    if isinstance(value, dict) and "department" in value:
        value = value["department"]
    names: list[str] = []
    for entry in one_or_many(value):
        if isinstance(entry, dict):
            entry = entry.get("name") or entry.get("departmentName") or entry.get("department")
        if isinstance(entry, str) and entry.strip():
            # Exact and case-sensitive: only the surrounding blanks go.
            names.append(entry.strip())
    return names


class AbcEmployeePersonal(_Wire):
    first_name: Text = Field(default=None, alias="firstName")
    last_name: Text = Field(default=None, alias="lastName")
    middle_initial: Text = Field(default=None, alias="middleInitial")
    birth_date: Day = Field(default=None, alias="birthDate")


class AbcEmployeeContact(_Wire):
    email: Text = None
    cell_phone: Text = Field(default=None, alias="cellPhone")
    home_phone: Text = Field(default=None, alias="homePhone")
    work_phone: Text = Field(default=None, alias="workPhone")
    address: Text = None
    city: Text = None
    state: Text = None
    postal_code: Text = Field(default=None, alias="postalCode")


class AbcEmployment(_Wire):
    employee_status: Text = Field(default=None, alias="employeeStatus")
    departments: Annotated[list[str], BeforeValidator(_department_names)] = Field(
        default_factory=list
    )
    commission_level: Amount = Field(default=None, alias="commissionLevel")


class AbcEmployee(_Wire):
    employee_id: str = Field(alias="employeeId", min_length=1)
    barcode: Text = None
    personal: AbcEmployeePersonal = Field(default_factory=AbcEmployeePersonal)
    contact: AbcEmployeeContact = Field(default_factory=AbcEmployeeContact)
    employment: AbcEmployment = Field(default_factory=AbcEmployment)


def map_employee(wire: AbcEmployee) -> BillingEmployee:
    personal, contact = wire.personal, wire.contact
    return BillingEmployee(
        billing_employee_id=wire.employee_id,
        contact=ContactData(
            first_name=personal.first_name,
            middle_name=personal.middle_initial,
            last_name=personal.last_name,
            date_of_birth=personal.birth_date,
            email=contact.email,
            mobile_phone=contact.cell_phone,
            home_phone=contact.home_phone,
            work_phone=contact.work_phone,
            address_line1=contact.address,
            city=contact.city,
            state=contact.state,
            zip=contact.postal_code,
            barcode=wire.barcode,
        ),
        departments=tuple(wire.employment.departments),
        is_active=(wire.employment.employee_status or "").casefold() in ACTIVE_EMPLOYEE_STATUSES,
        commission_level=wire.employment.commission_level,
    )


def employee_source(client: AbcClient | None, zone: ZoneInfo) -> AbcResourceSource:
    return AbcResourceSource(
        client,
        zone,
        path=EMPLOYEES_PATH,
        list_key="employees",
        id_field="employeeId",
        wire=AbcEmployee,
        mapping=map_employee,
    )
