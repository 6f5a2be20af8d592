"""Employees (spec: "Employees"): every rule by name, over memory tables."""

from __future__ import annotations

from decimal import Decimal

from clubsync.domain.employees import (
    BillingEmployee,
    Employee,
    EmployeeAccount,
    EmployeeRole,
    access_revoked,
    employee_skip_reason,
    role_from_departments,
    salesperson_account,
)
from clubsync.domain.people import ContactData
from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.records import EMPLOYEE_PREFIX, EMPLOYEES_PK, RecordRepository
from clubsync.store.state import StateRepository
from tests.unit.sync_type_helpers import employee, run_type

DEPARTMENTS = ("Front Desk", "Trainer", "Sales")


def billing(
    departments: tuple[str, ...], commission: Decimal | None = Decimal(2), **contact: str
) -> BillingEmployee:
    return BillingEmployee(
        billing_employee_id="e1",
        contact=ContactData(**({"first_name": "A", "last_name": "B"} | contact)),
        departments=departments,
        is_active=True,
        commission_level=commission,
    )


def employees(entities: EntityRepository) -> list[Employee]:
    repo = RecordRepository(entities.table)
    return list(repo.get_many(EMPLOYEES_PK, EMPLOYEE_PREFIX, _ids(entities), Employee).values())


def _ids(entities: EntityRepository) -> list[str]:
    assert isinstance(entities.table, MemoryItemTable)
    return [
        item["sk"].removeprefix(EMPLOYEE_PREFIX)
        for item in entities.table.all_items()
        if item["pk"] == EMPLOYEES_PK
    ]


def test_department_must_be_on_the_list_exactly_and_case_sensitively() -> None:
    assert employee_skip_reason(billing(("Trainer",)), DEPARTMENTS) == ""
    assert employee_skip_reason(billing(("trainer",)), DEPARTMENTS) == (
        "employee department not on the location's list"
    )
    assert employee_skip_reason(billing(("Maintenance",)), DEPARTMENTS) != ""
    assert employee_skip_reason(billing(()), DEPARTMENTS) == "employee without a department"


def test_first_and_last_name_are_required() -> None:
    assert employee_skip_reason(billing(("Trainer",), last_name=""), DEPARTMENTS) == (
        "employee without first or last name"
    )


def test_commission_level_zero_is_skipped() -> None:
    assert employee_skip_reason(billing(("Trainer",), Decimal(0)), DEPARTMENTS) == (
        "employee with commission level 0"
    )
    assert employee_skip_reason(billing(("Trainer",), None), DEPARTMENTS) == ""


def test_role_from_departments() -> None:
    assert role_from_departments(["Front Desk"]) is EmployeeRole.FRONT_DESK
    assert role_from_departments(["Trainer"]) is EmployeeRole.TRAINER
    assert role_from_departments(["Sales"]) is EmployeeRole.SALESPERSON
    assert role_from_departments(["Trainer", "Front Desk"]) is EmployeeRole.SALESPERSON


def test_access_kept_while_active_at_any_location() -> None:
    active = EmployeeAccount(location_id="a", billing_employee_id="1", is_active=True)
    inactive = EmployeeAccount(location_id="b", billing_employee_id="2", is_active=False)
    assert not access_revoked({"a": active, "b": inactive})
    assert access_revoked({"b": inactive})


def test_sync_adds_only_employees_that_pass_and_reports_why_others_are_skipped(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    run = run_type(
        SyncType.EMPLOYEES,
        settings,
        entities,
        state,
        [
            employee("e1"),
            employee("e2", "Blake", "Moreno", ("front desk",)),
            employee("e3", "Emery", "Lopez", commission="0"),
        ],
    )
    assert (run.counts.created, run.counts.skipped) == (1, 2)
    assert run.skip_reasons == {
        "employee department not on the location's list": 1,
        "employee with commission level 0": 1,
    }
    (only,) = employees(entities)
    assert only.role is EmployeeRole.TRAINER


def test_accounts_at_several_locations_with_the_same_contact_are_consolidated(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    other = settings.model_copy(update={"location_id": "shelbyville", "club_number": "0452"})
    state.put_location(other)
    run_type(SyncType.EMPLOYEES, settings, entities, state, [employee("e1")])
    run = run_type(SyncType.EMPLOYEES, other, entities, state, [employee("x9")])
    assert run.skip_reasons == {"consolidated with an account at another location": 1}
    (only,) = employees(entities)
    assert set(only.accounts) == {"springfield", "shelbyville"}


def test_access_revoked_when_inactive_restored_when_active_kept_while_active_elsewhere(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    other = settings.model_copy(update={"location_id": "shelbyville", "club_number": "0452"})
    run_type(SyncType.EMPLOYEES, settings, entities, state, [employee("e1")])
    run_type(SyncType.EMPLOYEES, settings, entities, state, [employee("e1", status="Inactive")])
    assert employees(entities)[0].access_revoked
    run_type(SyncType.EMPLOYEES, settings, entities, state, [employee("e1")])
    assert not employees(entities)[0].access_revoked
    # Active at the other location: inactive here keeps access.
    run_type(SyncType.EMPLOYEES, other, entities, state, [employee("x9")])
    run_type(SyncType.EMPLOYEES, settings, entities, state, [employee("e1", status="Inactive")])
    assert not employees(entities)[0].access_revoked


def test_no_profile_update_after_creation(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    run_type(SyncType.EMPLOYEES, settings, entities, state, [employee("e1")])
    changed = employee("e1", departments=("Front Desk",), city="Capital City")
    run = run_type(SyncType.EMPLOYEES, settings, entities, state, [changed])
    (only,) = employees(entities)
    assert only.contact.city == "Springfield"
    assert only.role is EmployeeRole.TRAINER
    assert run.counts.unchanged == 1


def test_employee_replay_writes_nothing(
    settings: LocationSettings,
    entities: EntityRepository,
    entity_table: MemoryItemTable,
    state: StateRepository,
) -> None:
    records = [employee("e1"), employee("e2", "Blake", "Moreno", ("Front Desk",))]
    run_type(SyncType.EMPLOYEES, settings, entities, state, records)
    entity_table.usage.reset()
    run = run_type(SyncType.EMPLOYEES, settings, entities, state, records)
    assert run.counts.unchanged == 2
    assert entity_table.usage.items_written == 0


def test_salesperson_is_the_account_at_the_location_else_one_elsewhere() -> None:
    def account(location_id: str, billing_id: str, active: bool = True) -> EmployeeAccount:
        return EmployeeAccount(
            location_id=location_id, billing_employee_id=billing_id, is_active=active
        )

    sam = Employee(
        employee_id="sam",
        contact=ContactData(first_name="Sam", last_name="Seller"),
        role=EmployeeRole.SALESPERSON,
        accounts={
            "ogdenville": account("ogdenville", "o-1", active=False),
            "shelbyville": account("shelbyville", "s-1"),
            "springfield": account("springfield", "p-1", active=False),
        },
    )
    # Their account here, even an inactive one: billing decides.
    assert salesperson_account(sam, "springfield") == sam.accounts["springfield"]
    # Elsewhere: an active account first (billing refuses it if that location is not
    # authorized here, and the prospect is re-sent without a salesperson).
    assert salesperson_account(sam, "capital-city") == sam.accounts["shelbyville"]
    assert salesperson_account(sam.model_copy(update={"accounts": {}}), "springfield") is None
