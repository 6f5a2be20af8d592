"""A prospect enters the CRM: the digital guest waiver, web lead and referral forms (through
functions/prospect_intake) and staff (`clubsync prospects add`). One validation for all.

Writing the prospect is all intake does: the entities table's stream then pushes it to billing
(features/prospect_push.py). What billing would refuse is not refused here; the prospect is kept
and the problems are returned at once (and later recorded on it by the push), so staff can fix
them (DESIGN.md: "bad input is kept, not dropped").

Duplicates (spec: abc-integration-overview.txt, "Prospects", the three System Admin
permissions): a new prospect matching (same full name and the same email or phone) ...
* a prospect or member of the *same* location: the existing prospect is updated (a member is
  left alone: members are billing's);
* an account at *another* location: the strongest match decides (active member, then inactive
  member, then prospect). If the location's permission for that kind allows a duplicate, a new
  prospect is created here. If not: a matching prospect is moved to this location (its
  location changes, which pushes it to this location's billing club); a matching member gets
  no new prospect.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from clubsync.domain.follow_up_rules import STARTING_STATUS_BY_SOURCE
from clubsync.domain.match_keys import email_key, name_key, phone_keys
from clubsync.domain.people import (
    ContactData,
    Person,
    PersonKind,
    ProspectPush,
)
from clubsync.domain.settings import LocationSettings
from clubsync.domain.text import text_problem
from clubsync.features.public_url import (
    INTAKE_MAX_BODY_BYTES,
    BodyRefused,
    intake_refusal,
    json_response,
    load_json_object,
    raw_body,
    secret_matches,
)
from clubsync.features.public_url import INTAKE_SECRET_HEADER as SECRET_HEADER
from clubsync.providers.prospects import ValidationContext
from clubsync.store.entities import EntityRepository, person_key
from clubsync.store.state import StateRepository

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTACT_FIELDS = tuple(ContactData.model_fields)


class FieldError(BaseModel):
    field: str
    message: str


# A pydantic error of this type is a malformed request (400), not a form to correct (422).
UNSAFE_TEXT = "unsafe_text"
# Free text that may span lines: tab and line breaks are allowed there (domain/text.py).
MULTILINE_FIELDS = frozenset({"notes"})


class IntakeInvalid(Exception):
    """`status` 422 (a field to correct) or 400 (a malformed request: characters no form
    types, such as NUL or a right-to-left override)."""

    def __init__(self, errors: list[FieldError], status: int = 422) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors
        self.status = status


class ProspectForm(BaseModel):
    """What the forms and the CLI send. Unknown fields are refused (a typo would lose data)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    location_id: str = Field(min_length=1)
    source: Literal["dgw", "web_lead", "referral", "staff"] = "staff"
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=254)
    mobile_phone: str | None = None
    home_phone: str | None = None
    work_phone: str | None = None
    address_line1: str | None = Field(default=None, max_length=200)
    address_line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=50)
    zip: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=60)
    gender: str | None = Field(default=None, max_length=20)
    date_of_birth: date | None = None
    employer: str | None = Field(default=None, max_length=100)
    barcode: str | None = Field(default=None, max_length=50)
    notes: str | None = Field(default=None, max_length=4000)
    follow_up_person_id: str | None = None
    marketing_source_id: str | None = None
    marketing_source: str | None = None
    guest_pass_start: date | None = None
    guest_pass_end: date | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _text_then_blank_is_none(cls, value: Any, info: ValidationInfo) -> Any:
        # Before stripping: str.strip() would silently drop some controls (U+001C-U+001F).
        if isinstance(value, str):
            multiline = info.field_name in MULTILINE_FIELDS
            problem = text_problem(value, multiline=multiline)
            if problem is not None:
                raise PydanticCustomError(UNSAFE_TEXT, problem)
            if not value.strip():
                return None
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("not an email address")
        return value

    @field_validator("mobile_phone", "home_phone", "work_phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None:
            digits = re.sub(r"\D", "", value)
            if not 7 <= len(digits) <= 15 or re.search(r"[^\d\s()+.\-]", value):
                raise ValueError("not a phone number (7 to 15 digits)")
        return value

    @field_validator("date_of_birth")
    @classmethod
    def _born(cls, value: date | None) -> date | None:
        if value is not None and value > datetime.now(UTC).date():
            raise ValueError("is in the future")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ProspectForm:
        if (
            self.guest_pass_start
            and self.guest_pass_end
            and self.guest_pass_end < self.guest_pass_start
        ):
            raise ValueError("guest_pass_end: is before guest_pass_start")
        if self.guest_pass_end and not self.guest_pass_start:
            raise ValueError("guest_pass_start: required with guest_pass_end")
        if not (
            self.first_name or self.last_name or self.email or self.mobile_phone or self.home_phone
        ):
            raise ValueError("first_name: a name, an email or a phone number is required")
        return self

    def contact(self) -> ContactData:
        return ContactData(
            **{name: getattr(self, name) for name in CONTACT_FIELDS if hasattr(self, name)}
        )


def parse_form(data: Mapping[str, Any]) -> ProspectForm:
    """The form, or IntakeInvalid naming each field at fault."""
    try:
        return ProspectForm.model_validate(dict(data))
    except ValidationError as error:
        details = error.errors()
        status = 400 if any(e.get("type") == UNSAFE_TEXT for e in details) else 422
        raise IntakeInvalid([_field_error(e) for e in details], status) from None


def _field_error(error: Mapping[str, Any]) -> FieldError:
    location = [str(part) for part in error.get("loc", ())]
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    if not location and ": " in message:  # model-level checks name their field first
        name, _, rest = message.partition(": ")
        return FieldError(field=name, message=rest)
    if error.get("type") == "extra_forbidden":
        message = "unknown field"
    return FieldError(field=".".join(location) or "body", message=message)


class IntakeOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"  # an existing prospect of this location
    MOVED = "moved"  # an existing prospect of another location, now at this one
    MATCHED_MEMBER = "matched_member"  # a member: no prospect created


@dataclass
class IntakeResult:
    outcome: IntakeOutcome
    person_id: str
    location_id: str
    duplicate_of: str | None = None
    # What billing will refuse or get wrong; the push records the same on the prospect.
    billing_problems: list[str] = field(default_factory=list)


_FOLLOW_UP_BY_SOURCE = STARTING_STATUS_BY_SOURCE  # the rule: domain/follow_up_rules.py


@dataclass(frozen=True)
class _Found:
    person: Person

    @property
    def strength(self) -> int:
        """Active member > inactive member > prospect."""
        if self.person.kind is PersonKind.MEMBER:
            return 3 if self.person.is_active else 2
        return 1


class ProspectIntake:
    def __init__(
        self,
        entities: EntityRepository,
        state: StateRepository,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.entities = entities
        self.state = state
        self.clock = clock
        self.new_id = new_id

    def add(self, form: ProspectForm) -> IntakeResult:
        settings = self.state.get_location(form.location_id)
        if settings is None:
            raise IntakeInvalid([FieldError(field="location_id", message="unknown location")])
        contact = form.contact()
        matches = self._matches(contact, settings.country)
        here = [m for m in matches if m.person.location_id == settings.location_id]
        elsewhere = [m for m in matches if m.person.location_id != settings.location_id]
        if here:
            found = min(here, key=lambda m: (m.strength, m.person.person_id))
            if found.person.kind is PersonKind.MEMBER:
                return IntakeResult(
                    IntakeOutcome.MATCHED_MEMBER, found.person.person_id, settings.location_id
                )
            updated = self._updated(found.person, form)
            self.entities.save([updated], default_region=settings.country)
            return self._result(IntakeOutcome.UPDATED, updated, settings)
        if elsewhere:
            found = max(elsewhere, key=lambda m: (m.strength, m.person.person_id))
            if not self._duplicate_allowed(settings, found):
                if found.person.kind is PersonKind.MEMBER:
                    return IntakeResult(
                        IntakeOutcome.MATCHED_MEMBER,
                        found.person.person_id,
                        found.person.location_id,
                    )
                moved = self.move(found.person, settings, form)
                return self._result(IntakeOutcome.MOVED, moved, settings)
            created = self._create(form, settings)
            return self._result(
                IntakeOutcome.CREATED, created, settings, duplicate_of=found.person.person_id
            )
        return self._result(IntakeOutcome.CREATED, self._create(form, settings), settings)

    # -- steps ---------------------------------------------------------------------------
    @staticmethod
    def _duplicate_allowed(settings: LocationSettings, found: _Found) -> bool:
        permissions = settings.duplicate_prospects
        if found.strength == 3:
            return permissions.if_matching_active_member_at_other_location
        if found.strength == 2:
            return permissions.if_matching_inactive_member_at_other_location
        return permissions.if_matching_prospect_at_other_location

    def _create(self, form: ProspectForm, settings: LocationSettings) -> Person:
        person = Person(
            person_id=self.new_id(),
            location_id=settings.location_id,
            kind=PersonKind.PROSPECT,
            follow_up_status=_FOLLOW_UP_BY_SOURCE[form.source],
            contact=form.contact(),
            marketing_source=form.marketing_source,
            marketing_source_id=form.marketing_source_id,
            notes=form.notes,
            notes_at_creation=form.notes,  # set once: only these reach billing
            follow_up_person_id=form.follow_up_person_id,
            guest_pass_start=form.guest_pass_start,
            guest_pass_end=form.guest_pass_end,
            created_at=self.clock(),
            push=ProspectPush(),
        )
        self.entities.save([person], default_region=settings.country)
        return person

    @staticmethod
    def _updated(person: Person, form: ProspectForm) -> Person:
        """The newer form's values win where it has one; notes are added to the notes (they
        are not pushed: only the notes at creation are)."""
        given = {name: value for name, value in form.contact().model_dump().items() if value}
        changes: dict[str, Any] = {"contact": person.contact.model_copy(update=given)}
        for name in (
            "follow_up_person_id",
            "marketing_source_id",
            "marketing_source",
            "guest_pass_start",
            "guest_pass_end",
        ):
            value = getattr(form, name)
            if value is not None:
                changes[name] = value
        if form.notes and form.notes != person.notes:
            changes["notes"] = f"{person.notes}\n{form.notes}" if person.notes else form.notes
        return person.model_copy(update=changes)

    def move(
        self, person: Person, to: LocationSettings, form: ProspectForm | None = None
    ) -> Person:
        """A prospect's location changes: the item moves to the new location's partition (the
        stream sees a new prospect there and pushes it). In another billing club it is a new
        billing prospect, so the old billing id and push outcome do not come along."""
        source = self.state.get_location(person.location_id)
        same_club = source is not None and source.club_number == to.club_number
        moved = (self._updated(person, form) if form else person).model_copy(
            update={"location_id": to.location_id}
        )
        if not same_club:
            moved = moved.model_copy(update={"billing_member_id": None, "push": ProspectPush()})
        self.entities.save([moved], default_region=to.country)
        self.entities.table.delete(person_key(person.location_id, person.person_id))
        return moved

    def _matches(self, contact: ContactData, region: str) -> list[_Found]:
        """Accounts at any registered location with the same full name and the same email or
        phone (docs/matching.md). One query per location: intake is one person at a time."""
        wanted = name_key(contact.first_name, contact.last_name)
        if wanted is None:
            return []
        email = email_key(contact.email)
        # Read in the intake location's country; stored keys are E.164, so they compare across
        # locations in different countries.
        phones = set(phone_keys(contact, region))
        found: list[_Found] = []
        for location in self.state.locations():
            ids = [
                entry.person_id
                for entry in self.entities.person_index(location.location_id, location.country)
                if entry.name_key == wanted
                and (
                    (email is not None and entry.email_key == email)
                    or bool(phones & set(entry.phone_keys))
                )
            ]
            if ids:
                people = self.entities.get_people(location.location_id, ids)
                found.extend(_Found(person) for person in people.values())
        return found

    def _result(
        self,
        outcome: IntakeOutcome,
        person: Person,
        settings: LocationSettings,
        duplicate_of: str | None = None,
    ) -> IntakeResult:
        return IntakeResult(
            outcome,
            person.person_id,
            person.location_id,
            duplicate_of=duplicate_of,
            billing_problems=billing_problems(person, settings),
        )


def billing_problems(person: Person, settings: LocationSettings) -> list[str]:
    """A preview of what the push will meet (the campaign type is checked at push time, when
    billing's campaign list is read)."""
    # Imported here: the registry loads every provider, which the intake URL's cold start does
    # not need to answer a form.
    from clubsync.providers.registry import prospect_rules_for

    rules = prospect_rules_for(settings)
    return rules.preview(person, ValidationContext(default_country=settings.country))


# -- the HTTP endpoint (functions/prospect_intake) -------------------------------------------


def is_authorized(headers: Mapping[str, str] | None, expected_secret: str) -> bool:
    """The forms send a shared secret in a header (`SECRET_HEADER`); compared in constant
    time. An empty configured secret authorizes nobody."""
    given = {name.lower(): value for name, value in (headers or {}).items()}.get(SECRET_HEADER, "")
    return secret_matches(given, expected_secret)


def _errors(status: int, errors: list[FieldError]) -> dict[str, Any]:
    return json_response(status, {"errors": [e.model_dump() for e in errors]})


def handle_intake_event(
    event: Mapping[str, Any], intake: ProspectIntake, expected_secret: str
) -> dict[str, Any]:
    """A Lambda function URL (payload 2.0) or API Gateway proxy event -> HTTP answer:
    201 with the new prospect's id, 200 when an existing account was updated or matched,
    401 without the secret, 413 over 64 KB, 400 for a body that is not a flat JSON object or
    holds control characters, 422 for a field to correct; errors as
    `{"errors": [{"field", "message"}]}`. The handler runs the same gate (secret, method)
    before importing this module."""
    refusal = intake_refusal(event, expected_secret)
    if refusal is not None:
        return _errors(refusal.status, [FieldError(field=refusal.field, message=refusal.message)])
    try:
        data = load_json_object(raw_body(event, INTAKE_MAX_BODY_BYTES))
    except BodyRefused as refused:
        return _errors(refused.status, [FieldError(field="body", message=refused.message)])
    try:
        result = intake.add(parse_form(data))
    except IntakeInvalid as error:
        return _errors(error.status, error.errors)
    status = 201 if result.outcome is IntakeOutcome.CREATED else 200
    return json_response(
        status,
        {
            "person_id": result.person_id,
            "location_id": result.location_id,
            "outcome": result.outcome.value,
            "duplicate_of": result.duplicate_of,
            "billing_problems": result.billing_problems,
        },
    )
