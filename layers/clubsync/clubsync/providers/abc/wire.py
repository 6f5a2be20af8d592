"""ABC DataTrak payloads as they arrive on the wire (reference/abc-api.md).

ABC sends almost every scalar as a string, omits optional fields instead of sending them empty,
writes timestamps in the club's local time with no zone, and turns a one-element list into a
bare object. These models absorb all of that so the mapping sees typed values. A value that
cannot be read (a birth date "31/02/1990", an isActive "maybe") fails validation and the record
is quarantined with a reason naming the field; reasons never repeat the value, which may be
personal data (the quarantined payload keeps it for support).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

ABC_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def blank_to_none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return value


def parse_bool(value: Any) -> bool | None:
    value = blank_to_none(value)
    if value is None or isinstance(value, bool):
        return value
    text = str(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true or false")


def parse_decimal(value: Any) -> Decimal | None:
    value = blank_to_none(value)
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    try:
        return Decimal(str(value).replace(",", ""))
    except InvalidOperation as error:
        raise ValueError("expected a number") from error


def parse_date(value: Any) -> date | None:
    value = blank_to_none(value)
    if value is None or isinstance(value, date):
        return value
    try:
        # ABC sometimes writes a date field as a full timestamp; the date part is what counts.
        return date.fromisoformat(str(value)[:10])
    except ValueError as error:
        raise ValueError("expected a date YYYY-MM-DD") from error


def parse_local_timestamp(value: Any) -> datetime | None:
    """A club-local timestamp without zone; the mapping attaches the club's zone."""
    value = blank_to_none(value)
    if value is None or isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as error:
        raise ValueError("expected a timestamp YYYY-MM-DD HH:MM:SS[.ffffff]") from error
    if parsed.tzinfo is not None:
        raise ValueError("expected a club-local timestamp without zone")
    return parsed


def one_or_many(value: Any) -> Any:
    """ABC's XML-shaped JSON sends a one-element list as the bare element."""
    if value is None or value == "":
        return []
    if isinstance(value, dict):
        return [value]
    return value


Text = Annotated[str | None, BeforeValidator(blank_to_none)]
Flag = Annotated[bool | None, BeforeValidator(parse_bool)]
Amount = Annotated[Decimal | None, BeforeValidator(parse_decimal)]
Day = Annotated[date | None, BeforeValidator(parse_date)]
LocalTimestamp = Annotated[datetime | None, BeforeValidator(parse_local_timestamp)]


class _Wire(BaseModel):
    # ABC adds fields freely; we read the ones the mapping names and ignore the rest.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class AbcPersonal(_Wire):
    first_name: Text = Field(default=None, alias="firstName")
    last_name: Text = Field(default=None, alias="lastName")
    middle_initial: Text = Field(default=None, alias="middleInitial")
    email: Text = None
    primary_phone: Text = Field(default=None, alias="primaryPhone")
    mobile_phone: Text = Field(default=None, alias="mobilePhone")
    work_phone: Text = Field(default=None, alias="workPhone")
    address_line1: Text = Field(default=None, alias="addressLine1")
    address_line2: Text = Field(default=None, alias="addressLine2")
    city: Text = None
    state: Text = None
    postal_code: Text = Field(default=None, alias="postalCode")
    country_code: Text = Field(default=None, alias="countryCode")
    gender: Text = None
    birth_date: Day = Field(default=None, alias="birthDate")
    occupation: Text = None
    group: Text = None
    barcode: Text = None
    home_club: Text = Field(default=None, alias="homeClub")
    is_active: Flag = Field(default=None, alias="isActive")
    join_status: Text = Field(default=None, alias="joinStatus")
    member_status: Text = Field(default=None, alias="memberStatus")
    member_status_reason: Text = Field(default=None, alias="memberStatusReason")
    member_status_date: Day = Field(default=None, alias="memberStatusDate")
    create_timestamp: LocalTimestamp = Field(default=None, alias="createTimestamp")
    last_modified_timestamp: LocalTimestamp = Field(default=None, alias="lastModifiedTimestamp")
    # Field names not seen in public samples (reference/abc-api.md marks them a guess).
    email_opt_in: Flag = Field(default=None, alias="emailOptIn")
    sms_opt_in: Flag = Field(default=None, alias="smsOptIn")


class AbcAgreement(_Wire):
    agreement_number: Text = Field(default=None, alias="agreementNumber")
    is_primary_member: Flag = Field(default=None, alias="isPrimaryMember")
    membership_type: Text = Field(default=None, alias="membershipType")
    sales_person_id: Text = Field(default=None, alias="salesPersonId")
    campaign_id: Text = Field(default=None, alias="campaignId")
    campaign_name: Text = Field(default=None, alias="campaignName")
    renewal_type: Text = Field(default=None, alias="renewalType")
    down_payment: Amount = Field(default=None, alias="downPayment")
    next_due_amount: Amount = Field(default=None, alias="nextDueAmount")
    past_due_balance: Amount = Field(default=None, alias="pastDueBalance")
    current_queue: Text = Field(default=None, alias="currentQueue")
    queue_timestamp: LocalTimestamp = Field(default=None, alias="queueTimestamp")
    agreement_entry_source: Text = Field(default=None, alias="agreementEntrySource")
    station_location: Text = Field(default=None, alias="stationLocation")
    since_date: Day = Field(default=None, alias="sinceDate")
    begin_date: Day = Field(default=None, alias="beginDate")
    sign_date: Day = Field(default=None, alias="signDate")
    expiration_date: Day = Field(default=None, alias="expirationDate")
    last_renewal_date: Day = Field(default=None, alias="lastRenewalDate")
    last_rewrite_date: Day = Field(default=None, alias="lastRewriteDate")


class AbcAlert(_Wire):
    message: Text = None
    abc_code: Text = Field(default=None, alias="abcCode")


class AbcMember(_Wire):
    member_id: str = Field(alias="memberId", min_length=1)
    personal: AbcPersonal
    agreement: AbcAgreement | None = None
    alerts: Annotated[list[AbcAlert], BeforeValidator(one_or_many)] = Field(default_factory=list)


class AbcStatus(_Wire):
    message: str = ""
    count: Text = None
    next_page: Text = Field(default=None, alias="nextPage")


class AbcEnvelope(_Wire):
    """The part of every ABC answer that is the same for all resources; the records sit under a
    key named after the resource and are validated one by one, so one bad record is quarantined
    instead of failing the page."""

    status: AbcStatus
    request: dict[str, Any] = Field(default_factory=dict)
