"""What the prospect push needs from a billing provider (ABC now; others later)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from clubsync.domain.people import ContactData, Person


@dataclass(frozen=True)
class BillingProspect:
    """A prospect as billing holds it: its id and the contact fields used to match it."""

    billing_id: str
    contact: ContactData


class PushError(Exception):
    """Base of every push failure; the message is meant for a person (support, staff)."""


class PushRejected(PushError):
    """Billing refused the prospect; the same content will be refused again."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SalespersonRefused(PushRejected):
    """Billing refused the prospect's salesperson (a follow-up person of a location billing
    has not authorized). The push is repeated with an empty salesperson (spec)."""


class PushTransient(PushError):
    """Billing could not be reached or kept failing; it did not create anything."""


class PushOutcomeUnknown(PushTransient):
    """A create failed without saying whether billing created the prospect (a 500, a read
    timeout). The next attempt looks for it before creating again."""


class ProspectTarget(Protocol):
    """A billing system's prospect endpoint, for one club."""

    provider: str

    def create(self, person: Person, salesperson_id: str) -> str:
        """Creates the prospect with the notes entered at creation; returns billing's id."""
        ...

    def update(self, billing_id: str, person: Person, salesperson_id: str) -> None:
        """Sends the prospect's full current content to the known billing record."""
        ...

    def created_since(self, since: datetime) -> list[BillingProspect]:
        """Prospects created in billing at or after `since`. Used only after an unknown
        outcome, to find the one an interrupted create may have made."""
        ...

    def campaign_type(self, campaign_id: str) -> str | None:
        """The type of a campaign (marketing source) in billing, None when unknown there."""
        ...
