"""Translation of a CRM prospect to ABC's prospect push: the table, in one place.

Two API shapes are documented, and only one is live:

* **Live: nested `personal` / `agreement` / `note`** (spec/abc-integration-overview.txt,
  "ABC/Datatrak Field Mapping" -> "Prospects"; reference/abc-api.md, "Prospect push"):
  `POST /{club}/prospects` with `{"prospects": [{"prospect": {"personal": {...},
  "agreement": {...}, "note": {"text": ...}}}]}`. `to_abc_prospect` builds it; this is what
  clubsync sends.
* **Older: one flat record** (spec/followups-syncing-translations.txt, "A. Translation to ABC
  Prospect") with `cellPhone`, `street`, `zip`, `salesPerson`, `barCode` and notes split into
  `miscellaneous1` (first 50 characters) and `miscellaneous2` (the rest). `to_legacy_prospect`
  builds it, tested, so a club on that API can be served by switching the builder; nothing
  sends it today.

Rules both shapes keep:
* A mobile phone goes to both the cell (live: `mobilePhone`) and the primary phone. The home
  phone becomes the primary phone only when there is no mobile phone: ABC has one primary.
* Notes: only the notes entered when the prospect was created (`notes_at_creation`) are sent,
  and only when the prospect is created in billing; later notes are never pushed (spec:
  "limited sync").
* Salesperson: the billing id of the membership follow-up person, or empty ("") when that
  person cannot be used (no billing id, or ABC refused them: `is_salesperson_rejection`).
* Guest pass: start -> `issueDate` and `beginDate`; end -> `expirationDate`.
* Marketing source -> `campaignId` (marketing sources are ABC campaigns).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from clubsync.domain.people import Person

LIVE_SHAPE = "nested"  # personal/agreement/note; see the module docstring
NOTES_FIELD_LIMIT = 50  # older shape: characters per miscellaneous field

# CRM contact field -> ABC `personal` field (live shape), in the order of the spec's table.
PERSONAL_FIELDS: tuple[tuple[str, str], ...] = (
    ("first_name", "firstName"),
    ("last_name", "lastName"),
    ("gender", "gender"),
    ("date_of_birth", "birthDate"),
    ("mobile_phone", "mobilePhone"),
    # primaryPhone: mobile phone, else home phone (below)
    ("work_phone", "workPhone"),
    ("email", "email"),
    ("address_line1", "addressLine1"),
    ("city", "city"),
    ("state", "state"),
    ("zip", "postalCode"),
    ("country", "country"),
    ("employer", "employer"),
    ("barcode", "barcode"),
)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def primary_phone(person: Person) -> str:
    """A mobile phone is also the primary phone (spec); else the home phone."""
    return _text(person.contact.mobile_phone) or _text(person.contact.home_phone)


def personal_block(person: Person, *, full: bool) -> dict[str, str]:
    """ABC's `personal`. `full` sends every field, empty ones as "" (a PUT merges fields, so
    a field cleared in the CRM must be sent empty to clear it in billing); otherwise empty
    fields are left out, as ABC itself does."""
    contact = person.contact
    block: dict[str, str] = {}
    for ours, theirs in PERSONAL_FIELDS:
        block[theirs] = _text(getattr(contact, ours))
        if ours == "mobile_phone":
            block["primaryPhone"] = primary_phone(person)
    return block if full else {name: value for name, value in block.items() if value}


def agreement_block(person: Person, salesperson_id: str) -> dict[str, str]:
    block = {
        # Sent even when empty: an empty salesperson is the documented fallback.
        "salesPersonId": salesperson_id,
        "campaignId": _text(person.marketing_source_id),
        "issueDate": _text(person.guest_pass_start),
        "beginDate": _text(person.guest_pass_start),
        "expirationDate": _text(person.guest_pass_end),
    }
    return {name: value for name, value in block.items() if value or name == "salesPersonId"}


def to_abc_prospect(person: Person, salesperson_id: str, *, create: bool) -> dict[str, Any]:
    """The live shape of one prospect. `create` is True for the POST that creates it in
    billing (with the notes entered at creation) and False for a PUT (full personal block,
    no notes: later notes are not pushed, and the first ones are already there)."""
    prospect: dict[str, Any] = {
        "personal": personal_block(person, full=not create),
        "agreement": agreement_block(person, salesperson_id),
    }
    notes = _text(person.notes_at_creation)
    if create and notes:
        prospect["note"] = {"text": notes}
    return prospect


def prospect_request(prospect: dict[str, Any]) -> dict[str, Any]:
    """The request body around one prospect (same for POST and PUT)."""
    return {"prospects": [{"prospect": prospect}]}


def split_notes(notes: str | None, limit: int = NOTES_FIELD_LIMIT) -> tuple[str, str]:
    """Older shape: the first `limit` characters, and the rest."""
    text = _text(notes)
    return text[:limit], text[limit:]


def to_legacy_prospect(person: Person, salesperson_id: str) -> dict[str, str]:
    """The older, flat shape (spec/followups-syncing-translations.txt, table A). Not live."""
    contact = person.contact
    misc1, misc2 = split_notes(person.notes_at_creation)
    record = {
        "firstName": _text(contact.first_name),
        "lastName": _text(contact.last_name),
        "gender": _text(contact.gender),
        "dateOfBirth": _text(contact.date_of_birth),
        "cellPhone": _text(contact.mobile_phone),
        "primaryPhone": primary_phone(person),
        "workPhone": _text(contact.work_phone),
        "email": _text(contact.email),
        "street": _text(contact.address_line1),
        "city": _text(contact.city),
        "state": _text(contact.state),
        "zip": _text(contact.zip),
        "miscellaneous1": misc1,
        "miscellaneous2": misc2,
        "salesPerson": salesperson_id,
        "employer": _text(contact.employer),
        "barCode": _text(contact.barcode),
        "issueDate": _text(person.guest_pass_start),
        "beginDate": _text(person.guest_pass_start),
        "expirationDate": _text(person.guest_pass_end),
    }
    return {name: value for name, value in record.items() if value or name == "salesPerson"}


# ABC's wording for a refused salesperson is not documented [guess]: it names the field.
_SALESPERSON_REJECTION = re.compile(r"sales\s*person", re.IGNORECASE)


def is_salesperson_rejection(message: str) -> bool:
    """ABC refused the prospect because of its salesperson (the follow-up person belongs to a
    location ABC has not authorized): re-send it with an empty salesperson (spec)."""
    return bool(_SALESPERSON_REJECTION.search(message))
