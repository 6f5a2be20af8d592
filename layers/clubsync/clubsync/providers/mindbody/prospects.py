"""The prospect push to Mindbody: `ProspectTarget` over `MindbodyClient`.

A prospect is created with `POST /client/addclient` (`IsProspect`), and later content is sent
with `POST /client/updateclient`. Before either, the prospect is checked against the fields the
site requires (`GET /client/requiredclientfields`, read once per target: one run), and a
prospect missing one is refused with the reason kept on it, as ABC's refusals are. The billing
id is the client's `UniqueId`, the key every pull matches on; `updateclient` names a client by
its `Id`, which staff can change, so an update reads the current `Id` first (one call).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from clubsync.domain.people import ContactData, Person
from clubsync.providers.mindbody.client import (
    MindbodyClient,
    MindbodyError,
    MindbodyOutcomeUnknown,
    MindbodyRejected,
    mindbody_time,
)
from clubsync.providers.mindbody.wire import MbClient
from clubsync.providers.prospects import (
    BillingProspect,
    PushOutcomeUnknown,
    PushRejected,
    PushTransient,
)

REQUIRED_FIELDS_PATH = "/client/requiredclientfields"
ADD_CLIENT_PATH = "/client/addclient"
UPDATE_CLIENT_PATH = "/client/updateclient"
REFERRAL_TYPES_PATH = "/client/clientreferraltypes"

# Mindbody's names of the fields a site can require -> what of the person fills them.
# Names Mindbody may require that clubsync never has (a credit card, an emergency contact)
# are refused as missing: the prospect cannot be created until the site stops requiring them.
_CONTACT_FIELDS = {
    "FirstName": "first_name",
    "LastName": "last_name",
    "MiddleName": "middle_name",
    "Email": "email",
    "MobilePhone": "mobile_phone",
    "HomePhone": "home_phone",
    "WorkPhone": "work_phone",
    "AddressLine1": "address_line1",
    "AddressLine2": "address_line2",
    "City": "city",
    "State": "state",
    "PostalCode": "zip",
    "Country": "country",
    "BirthDate": "date_of_birth",
    "Gender": "gender",
}


def client_body(person: Person) -> dict[str, Any]:
    """The Mindbody client fields of a prospect (blank ones left out, never sent empty)."""
    contact = person.contact
    body: dict[str, Any] = {}
    for field, attribute in _CONTACT_FIELDS.items():
        value = getattr(contact, attribute)
        if value is not None and value != "":
            body[field] = value.isoformat() if field == "BirthDate" else value
    if person.marketing_source:
        body["ReferredBy"] = person.marketing_source
    if person.notes:
        body["Notes"] = person.notes
    body["SendPromotionalEmails"] = person.opt_ins.email
    body["SendPromotionalTexts"] = person.opt_ins.sms
    return body


def refusal(missing: list[str]) -> str:
    return (
        "Mindbody requires " + ", ".join(missing) + " for a new client at this site; fill them in"
    )


@contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except MindbodyRejected as error:
        raise PushRejected(str(error)) from error
    except MindbodyOutcomeUnknown as error:
        raise PushOutcomeUnknown(str(error)) from error
    except MindbodyError as error:
        raise PushTransient(str(error)) from error


class MindbodyProspectTarget:
    provider = "mindbody"

    def __init__(self, client: MindbodyClient, zone: ZoneInfo) -> None:
        self.client = client
        self.zone = zone
        self._required: list[str] | None = None
        self._referral_types: set[str] | None = None

    def required_fields(self) -> list[str]:
        if self._required is None:
            with translated_errors():
                answer = self.client.call("GET", REQUIRED_FIELDS_PATH).json()
            fields = answer.get("RequiredClientFields") if isinstance(answer, dict) else None
            if not isinstance(fields, list):
                raise PushTransient(f"Mindbody {REQUIRED_FIELDS_PATH}: no RequiredClientFields")
            # First and last name are required everywhere (the API refuses a client without).
            self._required = list(dict.fromkeys(["FirstName", "LastName", *map(str, fields)]))
        return self._required

    def checked_body(self, person: Person) -> dict[str, Any]:
        body = client_body(person)
        missing = [field for field in self.required_fields() if field not in body]
        if missing:
            raise PushRejected(refusal(missing))
        return body

    def create(self, person: Person, salesperson_id: str) -> str:
        body = {**self.checked_body(person), "IsProspect": True}
        with translated_errors():
            answer = self.client.post(ADD_CLIENT_PATH, body)
        return str(_answered_client(answer, ADD_CLIENT_PATH).unique_id)

    def update(self, billing_id: str, person: Person, salesperson_id: str) -> None:
        body = self.checked_body(person)
        with translated_errors():
            found = self.client.get_all(
                "/client/clients", "Clients", {"request.uniqueIds": billing_id}
            )
            current = next((c for c in found if str(c.get("UniqueId")) == billing_id), None)
            if current is None or not current.get("Id"):
                raise PushRejected(
                    f"Mindbody has no client with UniqueId {billing_id}; it was merged or deleted"
                )
            self.client.post(
                UPDATE_CLIENT_PATH,
                {"Client": {**body, "Id": current["Id"]}, "CrossRegionalUpdate": False},
            )

    def created_since(self, since: datetime) -> list[BillingProspect]:
        params = {"request.isProspect": "true", "request.lastModifiedDate": mindbody_time(since)}
        found: list[BillingProspect] = []
        with translated_errors():
            records = self.client.get_all("/client/clients", "Clients", params)
        for record in records:
            try:
                client = MbClient.model_validate(record)
            except ValidationError:
                continue
            if client.creation_date is not None and client.creation_date < since:
                continue
            contact = ContactData(
                first_name=client.first_name,
                last_name=client.last_name,
                email=client.email,
                mobile_phone=client.mobile_phone,
                home_phone=client.home_phone,
            )
            found.append(BillingProspect(str(client.unique_id), contact))
        return found

    def campaign_type(self, campaign_id: str) -> str | None:
        """Mindbody's marketing sources are referral types (names); a known one is a
        "referral" source, an unknown one None (the push refuses it with the reason)."""
        if self._referral_types is None:
            with translated_errors():
                answer = self.client.call("GET", REFERRAL_TYPES_PATH).json()
            names = answer.get("ReferralTypes") if isinstance(answer, dict) else None
            self._referral_types = {str(n) for n in names} if isinstance(names, list) else set()
        return "referral" if campaign_id in self._referral_types else None


def _answered_client(answer: dict[str, Any], path: str) -> MbClient:
    try:
        return MbClient.model_validate(answer.get("Client"))
    except ValidationError as error:
        # Mindbody acted but its answer names no client: the next attempt looks first.
        raise PushOutcomeUnknown(f"Mindbody {path}: the answer names no client UniqueId") from error
