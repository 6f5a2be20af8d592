"""Builders for prospect tests (generated data only: example.org, 555-01xx)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from clubsync.domain.employees import consolidation_key, employee_id_for
from clubsync.domain.people import ContactData, Person, PersonKind
from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.providers.prospects import BillingProspect, PushRejected, SalespersonRefused
from clubsync.resources.employees import employee_refs
from clubsync.store.entities import EntityRepository
from clubsync.store.records import RecordRepository
from clubsync.store.state import StateRepository
from tests.unit.sync_type_helpers import employee, run_type

# The follow-up person of `make_prospect`: billing's employee "sp-1", Sam Seller in Sales.
SALESPERSON_BILLING_ID = "sp-1"
SALESPERSON_EMAIL = "sam.seller@example.org"
# Their CRM employee id, as the employee sync derives it (the same at every location).
FOLLOW_UP_EMPLOYEE_ID = employee_id_for(
    consolidation_key(
        ContactData(first_name="Sam", last_name="Seller", email=SALESPERSON_EMAIL),
        "springfield",
        SALESPERSON_BILLING_ID,
    )
)


def sync_salesperson(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    billing_id: str = SALESPERSON_BILLING_ID,
) -> str:
    """Runs the real employee sync at `settings`' location with billing's employee
    `billing_id` (Sam Seller, Sales); returns the CRM employee id it was stored under."""
    record = employee(billing_id, "Sam", "Seller", ("Sales",), email=SALESPERSON_EMAIL)
    run_type(SyncType.EMPLOYEES, settings, entities, state, [record])
    return employee_refs(RecordRepository(entities.table), settings.location_id)[billing_id]


def make_prospect(
    person_id: str = "p-1", location_id: str = "springfield", **fields: Any
) -> Person:
    """A valid prospect; `contact` overrides merge into the default contact."""
    contact = {
        "first_name": "Avery",
        "last_name": "Quinn",
        "email": "avery.quinn@example.org",
        "mobile_phone": "555-0101",
        "home_phone": "555-0102",
        "address_line1": "12 Elm St",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701",
        "country": "US",
        "gender": "Female",
        "date_of_birth": date(1990, 4, 1),
    }
    contact.update(fields.pop("contact", {}))
    values: dict[str, Any] = {
        "person_id": person_id,
        "location_id": location_id,
        "kind": PersonKind.PROSPECT,
        "contact": ContactData(**contact),
        "notes_at_creation": "Wants a morning class",
        "notes": "Wants a morning class",
        "follow_up_person_id": FOLLOW_UP_EMPLOYEE_ID,
        "guest_pass_start": date(2026, 11, 20),
        "guest_pass_end": date(2026, 11, 27),
    }
    values.update(fields)
    return Person(**values)


class FakeProspectTarget:
    """Billing's prospect endpoint in memory: records calls, applies what ABC refuses in the
    ways the tests ask for."""

    provider = "fake"

    def __init__(self) -> None:
        self.created: dict[str, tuple[Person, str]] = {}
        self.updates: list[tuple[str, Person, str]] = []
        self.create_calls: list[tuple[str, str]] = []  # (person_id, salesperson)
        self.campaigns: dict[str, str] = {}
        self.refused_salespeople: set[str] = set()
        self.reject_with: str | None = None
        self.fail_next: list[Exception] = []
        self.create_then_fail: Exception | None = None  # created, but the answer is lost
        self.created_at: dict[str, datetime] = {}
        self.now = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)

    def _check(self, salesperson: str) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)
        if self.reject_with:
            raise PushRejected(self.reject_with)
        if salesperson in self.refused_salespeople:
            raise SalespersonRefused(f"salesPersonId {salesperson} is not authorized")

    def create(self, person: Person, salesperson_id: str) -> str:
        self.create_calls.append((person.person_id, salesperson_id))
        self._check(salesperson_id)
        billing_id = f"b-{len(self.created) + 1}"
        self.created[billing_id] = (person, salesperson_id)
        self.created_at[billing_id] = self.now
        if self.create_then_fail is not None:
            error, self.create_then_fail = self.create_then_fail, None
            raise error
        return billing_id

    def update(self, billing_id: str, person: Person, salesperson_id: str) -> None:
        self._check(salesperson_id)
        assert billing_id in self.created, "PUT to an unknown billing id"
        self.updates.append((billing_id, person, salesperson_id))

    def created_since(self, since: datetime) -> list[BillingProspect]:
        return [
            BillingProspect(billing_id, person.contact)
            for billing_id, (person, _) in self.created.items()
            if self.created_at[billing_id] >= since
        ]

    def campaign_type(self, campaign_id: str) -> str | None:
        return self.campaigns.get(campaign_id)
