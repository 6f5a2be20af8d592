"""What the prospect push needs from a billing provider: where prospects go (`ProspectTarget`)
and what the provider refuses before anything is sent (`ProspectRules`)."""

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


@dataclass(frozen=True)
class ValidationContext:
    """What a provider's prospect rules need besides the prospect: the location's country, and
    the type of the prospect's campaign in billing (None when unknown there, or not read)."""

    default_country: str = "US"
    campaign_type: str | None = None


class ProspectRules(Protocol):
    """What a billing system refuses in a prospect, checked before it is sent, each reason a
    line staff can act on (providers/abc/prospect_rules.py is ABC's). A provider whose
    refusals depend on the account (Mindbody's required fields) checks them in its target and
    raises PushRejected; its rules here are `NO_PROSPECT_RULES`."""

    # Whether `refusals` looks at the campaign's type (the pusher reads it from billing only then).
    reads_campaign_type: bool

    def refusals(self, person: Person, context: ValidationContext) -> list[str]:
        """Every reason the billing system would refuse the prospect; empty when none."""
        ...

    def warnings(self, person: Person, context: ValidationContext) -> list[str]:
        """What is sent anyway but may come out wrong in billing (kept on the prospect)."""
        ...

    def preview(self, person: Person, context: ValidationContext) -> list[str]:
        """What intake can tell a form before the push: refusals that need nothing from
        billing, then warnings."""
        ...


class NoProspectRules:
    """Nothing refused before sending: the billing system's own answer is the refusal."""

    reads_campaign_type = False

    def refusals(self, person: Person, context: ValidationContext) -> list[str]:
        return []

    def warnings(self, person: Person, context: ValidationContext) -> list[str]:
        return []

    def preview(self, person: Person, context: ValidationContext) -> list[str]:
        return []


NO_PROSPECT_RULES = NoProspectRules()


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
