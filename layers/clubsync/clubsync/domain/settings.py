"""Location settings: what a club chose at implementation (spec: "Club OS System Admin")."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from clubsync.domain.follow_up_schedule import DEFAULT_SCHEDULE, FollowUpSchedule
from clubsync.domain.people import DEFAULT_REGION

# The documented sync times (spec/followups-syncing-translations.txt, "Syncing").
FULL_SYNC_HOUR = 21
DEFAULT_PARTIAL_SYNC_HOURS: tuple[int, ...] = (12, 17)
UPGRADED_PARTIAL_SYNC_HOURS: tuple[int, ...] = tuple(range(9, 21))  # every hour 09:00-20:00

LOCATION_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class RecordOwner(StrEnum):
    """Who owns member contact and demographic data (spec: "primary record owner")."""

    CRM = "crm"
    BILLING = "billing"


# The provider a location names, by its registry name (clubsync.providers.registry). The
# domain knows no provider: which names exist, and what an account holds, is the registry's.
PROVIDER_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
DEFAULT_PROVIDER = "abc"
# Before issue 12 a location had only ABC's `club_number`, at the top level; stored registry
# items, location files and scenarios still say so. It is lifted into the ABC account.
LEGACY_ABC_ACCOUNT_FIELD = "club_number"

# An account's fields as JSON gives them (a club number, a site id, a company and club id).
AccountFields = dict[str, str | int]


Hour = Annotated[int, Field(ge=0, le=23)]


class DuplicateProspectPermissions(BaseModel):
    """The three System Admin permissions deciding whether a matching person gets a new prospect
    at another location (spec: abc-integration-overview.txt, "Prospects")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    if_matching_prospect_at_other_location: bool = False
    if_matching_inactive_member_at_other_location: bool = False
    if_matching_active_member_at_other_location: bool = False


class EventKind(StrEnum):
    """The CRM event kinds synced from ABC (spec: "Training Events (PT) and Orientation Events
    (ORT/FA/FC)")."""

    PT = "PT"
    ORT = "ORT"
    FA = "FA"
    FC = "FC"

    @property
    def is_orientation(self) -> bool:
        return self is not EventKind.PT


class EventTypeMapping(BaseModel):
    """One ABC event name matched to a CRM event type (System Admin, "Event Types")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    abc_event_name: str = Field(min_length=1, description="ABC eventName, matched exactly.")
    event_type: str = Field(min_length=1, description="The CRM event type it becomes.")
    kind: EventKind
    enabled: bool = True
    default_duration_minutes: int = Field(default=60, ge=1, le=24 * 60)
    attendee_reminder_minutes: int | None = Field(default=None, ge=0)
    missed_event_status: str | None = None


class ProfitCenterType(StrEnum):
    PT = "PT"
    PRODUCT = "product"
    SERVICE = "service"


class ProfitCenter(BaseModel):
    """A POS profit center the location processes (System Admin, Lists -> Profit Centers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="ABC item profitCenter, matched exactly.")
    type: ProfitCenterType = ProfitCenterType.SERVICE


class Product(BaseModel):
    """A product on the location's list (Lists -> Products), for product drip campaigns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    upc: str = Field(min_length=1)


DEFAULT_DEPARTMENTS: tuple[str, ...] = ("Front Desk", "Trainer", "Sales", "Management")
DEFAULT_EVENT_TYPES: tuple[EventTypeMapping, ...] = (
    EventTypeMapping(abc_event_name="PT Session", event_type="PT Session", kind=EventKind.PT),
    EventTypeMapping(abc_event_name="Orientation", event_type="Orientation", kind=EventKind.ORT),
    EventTypeMapping(
        abc_event_name="Fitness Assessment", event_type="Fitness Assessment", kind=EventKind.FA
    ),
    EventTypeMapping(
        abc_event_name="Fitness Consultation", event_type="Fitness Consultation", kind=EventKind.FC
    ),
)
DEFAULT_PROFIT_CENTERS: tuple[ProfitCenter, ...] = (
    ProfitCenter(name="Personal Training", type=ProfitCenterType.PT),
    ProfitCenter(name="Pro Shop", type=ProfitCenterType.PRODUCT),
)


class RetentionDays(BaseModel):
    """How long synced activity is kept, in days after its club-local day: then DynamoDB's
    TTL deletes it. The syncs read only their window's days, so retention costs storage, not
    reads; the follow-up due list reads the events kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkins: int = Field(default=400, ge=1, description="Days a check-in is kept.")
    events: int = Field(default=400, ge=1, description="Days a calendar event is kept.")
    invoices: int = Field(default=400, ge=1, description="Days a POS transaction is kept.")


class LocationSettings(BaseModel):
    """One club location and how it syncs. Invalid settings are refused with the field named."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    location_id: str = Field(pattern=LOCATION_ID_PATTERN, description="Our id for the location.")
    name: str = ""
    provider: str = Field(
        default=DEFAULT_PROVIDER,
        pattern=PROVIDER_NAME_PATTERN,
        description="The billing system, by its registry name ('abc', 'clubhub', ...).",
    )
    account: AccountFields = Field(
        default_factory=dict,
        description="The location's account in that billing system, validated by the "
        "provider's account model (ABC: {'club_number': '0451'}).",
    )
    time_zone: str = Field(description="IANA time zone of the club, e.g. 'America/Chicago'.")
    country: str = Field(
        default=DEFAULT_REGION,
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166 alpha-2; also the default region of phone numbers for matching.",
    )
    partial_sync_hours: tuple[Hour, ...] = DEFAULT_PARTIAL_SYNC_HOURS
    upgraded: bool = Field(default=False, description="Upgraded clubs sync every hour 09-20.")
    ignored_membership_types: frozenset[str] = frozenset()
    record_owner: RecordOwner = RecordOwner.CRM
    override_opt_ins_at_conversion: bool = False
    count_renewals_as_new_agreements: bool = False
    count_rewrites_as_new_agreements: bool = False
    exclude_secondary_memberships: bool = False
    duplicate_prospects: DuplicateProspectPermissions = DuplicateProspectPermissions()
    billing_secret_name: str = Field(
        default="",
        description="Secrets Manager secret holding this billing account's credentials, as "
        "the provider's credentials model reads them (ABC: app_id and app_key).",
    )
    # -- other sync types (spec: Employees, Calendar Events, Marketing Sources, POS, PT) ------
    departments: tuple[str, ...] = Field(
        default=DEFAULT_DEPARTMENTS,
        description="Employee departments (exact, case-sensitive); others are not added.",
    )
    event_types: tuple[EventTypeMapping, ...] = DEFAULT_EVENT_TYPES
    profit_centers: tuple[ProfitCenter, ...] = DEFAULT_PROFIT_CENTERS
    products: tuple[Product, ...] = ()
    sync_marketing_sources: bool = False
    pt_opportunity_session_threshold: int = Field(
        default=2, ge=0, description="Below this session balance a member is a PT Opportunity."
    )
    pt_inactive_after_days: int = Field(
        default=30, ge=1, description="Days without sessions after which PT Active lapses."
    )
    follow_up_schedule: FollowUpSchedule = Field(
        default=DEFAULT_SCHEDULE,
        description="Membership and PT follow-up schedules (docs/followups.md).",
    )
    retention_days: RetentionDays = Field(
        default=RetentionDays(),
        description="Days check-ins, events and POS transactions are kept (docs/data-model.md).",
    )

    @model_validator(mode="before")
    @classmethod
    def _lift_legacy_club_number(cls, data: Any) -> Any:
        """`club_number` at the top level (every location before issue 12) is the ABC
        account's club number: lifted into `account`, so old items and files keep working."""
        if not isinstance(data, dict) or LEGACY_ABC_ACCOUNT_FIELD not in data:
            return data
        data = dict(data)
        club_number = data.pop(LEGACY_ABC_ACCOUNT_FIELD)
        provider = data.get("provider", DEFAULT_PROVIDER)
        if provider != DEFAULT_PROVIDER:
            raise ValueError(
                f"club_number is ABC's account field; a {provider} location names its "
                "account in `account`"
            )
        account = data.get("account")
        if account is None:
            account = {}
        if not isinstance(account, dict):
            return data  # the field's own validation names the problem
        given = account.get(LEGACY_ABC_ACCOUNT_FIELD)
        if given is not None and given != club_number:
            raise ValueError(
                f"club_number {club_number!r} and account.club_number {given!r} disagree: "
                "give it once"
            )
        data["account"] = {**account, LEGACY_ABC_ACCOUNT_FIELD: club_number}
        return data

    @field_validator("account")
    @classmethod
    def _legacy_club_number_is_digits(
        cls, value: AccountFields, info: ValidationInfo
    ) -> AccountFields:
        # Kept from before issue 12 so an ABC location with a bad club number is refused
        # wherever it is built; `clubsync locations apply` and the connection validate the
        # whole account with the provider's own model as well (AbcAccount: 4-5 digits).
        if info.data.get("provider", DEFAULT_PROVIDER) != DEFAULT_PROVIDER:
            return value
        club_number = value.get(LEGACY_ABC_ACCOUNT_FIELD)
        if club_number is not None and not (
            isinstance(club_number, str) and re.fullmatch(r"\d{1,10}", club_number)
        ):
            raise ValueError("club_number must be a string of digits, leading zeros kept")
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        if value not in _known_zones():
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like America/Chicago")
        try:
            ZoneInfo(value)
        except ZoneInfoNotFoundError as error:  # pragma: no cover - guarded by the set above
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("partial_sync_hours")
    @classmethod
    def _sorted_unique_hours(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(sorted(set(value)))

    @field_validator("departments")
    @classmethod
    def _departments_named_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not name.strip() for name in value):
            raise ValueError("departments must not contain an empty name")
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValueError(f"departments lists {', '.join(repeated)} more than once")
        return value

    @field_validator("event_types")
    @classmethod
    def _event_names_mapped_once(
        cls, value: tuple[EventTypeMapping, ...]
    ) -> tuple[EventTypeMapping, ...]:
        names = [mapping.abc_event_name for mapping in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"event_types maps the ABC event name(s) {', '.join(repeated)} more than once"
            )
        return value

    @field_validator("profit_centers")
    @classmethod
    def _profit_centers_named_once(
        cls, value: tuple[ProfitCenter, ...]
    ) -> tuple[ProfitCenter, ...]:
        names = [center.name for center in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"profit_centers lists {', '.join(repeated)} more than once")
        return value

    @model_validator(mode="after")
    def _partial_sync_never_at_full_sync_hour(self) -> LocationSettings:
        if FULL_SYNC_HOUR in self.partial_sync_hours:
            raise ValueError(
                f"partial_sync_hours must not contain {FULL_SYNC_HOUR}: the full sync runs then"
            )
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        # A copy is not validated: lift a legacy `club_number` here as the validator would,
        # or it would land beside the property that reads the account.
        if update and LEGACY_ABC_ACCOUNT_FIELD in update:
            update = dict(update)
            club_number = update.pop(LEGACY_ABC_ACCOUNT_FIELD)
            account = update.get("account", self.account)
            update["account"] = {**account, LEGACY_ABC_ACCOUNT_FIELD: club_number}
        return super().model_copy(update=update, deep=deep)

    def __hash__(self) -> int:
        # Frozen and hashable (scheduling caches by settings); `account` is a dict, its sorted
        # items are not.
        return hash(
            tuple(
                tuple(sorted(value.items())) if name == "account" else value
                for name, value in self.__dict__.items()
            )
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def club_number(self) -> str:
        """The ABC club number (kept for the code written before providers had accounts):
        the account's `club_number`, empty for a provider whose account has none."""
        value = self.account.get(LEGACY_ABC_ACCOUNT_FIELD, "")
        return str(value)

    @property
    def account_key(self) -> str:
        """The account as one stable string, what two locations of a provider must not share
        (locations_sharing_a_club): the value of a one-field account ('0451'), else every
        field as name=value in name order."""
        if len(self.account) == 1:
            return str(next(iter(self.account.values())))
        return ",".join(f"{name}={value}" for name, value in sorted(self.account.items()))

    @property
    def account_label(self) -> str:
        """The account as a person reads it: "club_number '0451'", or every field."""
        if len(self.account) == 1:
            [(name, value)] = self.account.items()
            return f"{name} {str(value)!r}"
        return f"account {self.account_key!r}"

    def effective_partial_sync_hours(self) -> tuple[int, ...]:
        """Upgraded locations sync every hour 09:00-20:00; others at their chosen hours."""
        return UPGRADED_PARTIAL_SYNC_HOURS if self.upgraded else self.partial_sync_hours

    def is_ignored_membership_type(self, membership_type: str | None) -> bool:
        if not membership_type:
            return False
        wanted = membership_type.strip().casefold()
        return any(
            wanted == ignored.strip().casefold() for ignored in self.ignored_membership_types
        )

    def event_type_mapping(self, abc_event_name: str | None) -> EventTypeMapping | None:
        """The mapping of an ABC event name (exact match), enabled or not."""
        for mapping in self.event_types:
            if mapping.abc_event_name == abc_event_name:
                return mapping
        return None

    def profit_center(self, name: str | None) -> ProfitCenter | None:
        for center in self.profit_centers:
            if center.name == name:
                return center
        return None

    def is_listed_product(self, name: str | None, upc: str | None) -> bool:
        return any(product.name == name and product.upc == upc for product in self.products)


def locations_sharing_a_club(
    locations: Iterable[LocationSettings],
) -> dict[tuple[str, str], list[str]]:
    """(provider, account key) -> the location ids on it, for every billing account more than
    one location points at. In billing each location is its own club with its own number (a
    multi-location business has one club number per location), so two locations on one club
    would both sync the same members and push prospects to the same club: a typo, refused."""
    clubs: dict[tuple[str, str], list[str]] = {}
    for settings in locations:
        ids = clubs.setdefault((settings.provider, settings.account_key), [])
        if settings.location_id not in ids:
            ids.append(settings.location_id)
    return {club: ids for club, ids in clubs.items() if len(ids) > 1}


_ZONES: frozenset[str] | None = None


def _known_zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES
