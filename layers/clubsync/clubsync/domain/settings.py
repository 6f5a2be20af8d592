"""Location settings: what a club chose at implementation (spec: "Club OS System Admin")."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The documented sync times (spec/followups-syncing-translations.txt, "Syncing").
FULL_SYNC_HOUR = 21
DEFAULT_PARTIAL_SYNC_HOURS: tuple[int, ...] = (12, 17)
UPGRADED_PARTIAL_SYNC_HOURS: tuple[int, ...] = tuple(range(9, 21))  # every hour 09:00-20:00

LOCATION_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class RecordOwner(StrEnum):
    """Who owns member contact and demographic data (spec: "primary record owner")."""

    CRM = "crm"
    BILLING = "billing"


class BillingProvider(StrEnum):
    ABC = "abc"


Hour = Annotated[int, Field(ge=0, le=23)]


class DuplicateProspectPermissions(BaseModel):
    """The three System Admin permissions deciding whether a matching person gets a new prospect
    at another location (spec: abc-integration-overview.txt, "Prospects")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    if_matching_prospect_at_other_location: bool = False
    if_matching_inactive_member_at_other_location: bool = False
    if_matching_active_member_at_other_location: bool = False


class LocationSettings(BaseModel):
    """One club location and how it syncs. Invalid settings are refused with the field named."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    location_id: str = Field(pattern=LOCATION_ID_PATTERN, description="Our id for the location.")
    name: str = ""
    provider: BillingProvider = BillingProvider.ABC
    club_number: str = Field(description="ABC club number, digits, leading zeros kept ('0451').")
    time_zone: str = Field(description="IANA time zone of the club, e.g. 'America/Chicago'.")
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2.")
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
        description="Secrets Manager secret holding this billing account's app_id and app_key.",
    )

    @field_validator("club_number")
    @classmethod
    def _club_number_is_digits(cls, value: str) -> str:
        if not re.fullmatch(r"\d{1,10}", value):
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

    @model_validator(mode="after")
    def _partial_sync_never_at_full_sync_hour(self) -> LocationSettings:
        if FULL_SYNC_HOUR in self.partial_sync_hours:
            raise ValueError(
                f"partial_sync_hours must not contain {FULL_SYNC_HOUR}: the full sync runs then"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

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


_ZONES: frozenset[str] | None = None


def _known_zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES
