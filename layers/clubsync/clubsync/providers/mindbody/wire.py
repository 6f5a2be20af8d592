"""Mindbody Public API v6 payloads as they arrive (reference/mindbody/, the OpenAPI file).

Field names are Mindbody's PascalCase (aliases generated from the snake_case attributes);
unknown fields are ignored, so a field Mindbody adds does not quarantine a record. Client and
visit times come in UTC with `Z`; a time without an offset is refused rather than guessed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_pascal

# The client statuses Mindbody knows (ClientWithSuspensionInfo.Status).
NON_MEMBER = "Non-Member"
MEMBER_STATUSES = frozenset({"Active", "Suspended"})


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("a time without an offset; Mindbody sends UTC with Z")
    return value.astimezone(UTC) if value is not None else None


def _day(value: Any) -> Any:
    # Dates arrive as midnight date-times ("1990-04-01T00:00:00"); only the day means anything.
    value = _blank_to_none(value)
    if isinstance(value, str) and "T" in value:
        return value.split("T", 1)[0]
    return value


Text = Annotated[str | None, BeforeValidator(_blank_to_none)]
Instant = Annotated[datetime | None, BeforeValidator(_blank_to_none), AfterValidator(_aware)]
Day = Annotated[date | None, BeforeValidator(_day)]


class MbWire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_pascal, populate_by_name=True, extra="ignore", frozen=True
    )


class PaginationResponse(MbWire):
    requested_limit: int = Field(ge=0)
    requested_offset: int = Field(ge=0)
    page_size: int = Field(ge=0)
    total_results: int = Field(ge=0)


class MbError(MbWire):
    message: Text = None
    code: Text = None


class ErrorAnswer(MbWire):
    error: MbError


class IssueResponse(MbWire):
    token_type: Text = None
    access_token: str = Field(min_length=1)
    expires: Instant = None


class MbSite(MbWire):
    id: int
    name: Text = None
    time_zone: Text = None


class MbClient(MbWire):
    unique_id: int = Field(alias="UniqueId")
    id: Text = None
    status: Text = None
    active: bool = True
    is_prospect: bool = False
    first_name: Text = None
    middle_name: Text = None
    last_name: Text = None
    email: Text = None
    mobile_phone: Text = None
    home_phone: Text = None
    work_phone: Text = None
    address_line1: Text = Field(default=None, alias="AddressLine1")
    address_line2: Text = Field(default=None, alias="AddressLine2")
    city: Text = None
    state: Text = None
    postal_code: Text = None
    country: Text = None
    birth_date: Day = None
    gender: Text = None
    creation_date: Instant = None
    last_modified_date_time: Instant = None
    referred_by: Text = None
    photo_url: Text = None
    notes: Text = None
    send_promotional_emails: bool | None = None
    send_promotional_texts: bool | None = None


class MbContract(MbWire):
    """A ClientContract: one sale (`Id`) of a contract template (`ContractID`)."""

    id: int
    contract_id: int | None = Field(default=None, alias="ContractID")
    contract_name: Text = None
    agreement_date: Day = None
    start_date: Day = None
    end_date: Day = None
    termination_date: Day = None
    autopay_status: Text = None
    auto_renewing: bool | None = None
    is_month_to_month: bool | None = None


class MbStaff(MbWire):
    id: int
    first_name: Text = None
    middle_name: Text = None
    last_name: Text = None
    email: Text = None
    mobile_phone: Text = None
    home_phone: Text = None
    work_phone: Text = None
    address: Text = None
    city: Text = None
    state: Text = None
    postal_code: Text = None
    employment_start: Instant = None
    employment_end: Instant = None
    appointment_instructor: bool = False
    class_teacher: bool = False
    rep: bool = False
    independent_contractor: bool = False


class MbVisit(MbWire):
    """A Visit: one client's booking of a class or an appointment, and what became of it."""

    id: int
    client_unique_id: int | None = None
    class_id: int | None = None
    appointment_id: int | None = None
    appointment_status: Text = None
    name: Text = None
    service_name: Text = None
    start_date_time: Instant = None
    end_date_time: Instant = None
    last_modified_date_time: Instant = None
    signed_in: bool = False
    missed: bool = False
    late_cancelled: bool = False
    staff_id: int | None = None
    location_id: int | None = None


class MbClientService(MbWire):
    """A ClientService (a pack: sessions bought once); `ClientID` is the client's `Id`."""

    id: int
    client_id: Text = Field(default=None, alias="ClientID")
    name: Text = None
    program: Any = None
    product_id: int | None = None
    active_date: Day = None
    expiration_date: Day = None
    payment_date: Day = None
    count: int | None = None
    remaining: int | None = None
    current: bool | None = None
    returned: bool | None = None
