"""The scenario file: a location's sync timeline, as support engineers write it down.

A scenario names one location (its `LocationSettings`), the billing data it starts with,
optional CRM prospects that already exist, then a list of steps at club-LOCAL times: syncs,
billing changes, faults, settings changes and intermediate expectations. docs/scenarios.md
describes every field with examples.

Every model refuses unknown fields (`extra="forbid"`), so a typo such as `"synk"` is refused
with a message naming the field path (`steps[3].synk: Extra inputs are not permitted`).
Times are naive ISO strings (`"2026-11-20T21:00"`) read in the location's time zone; a wall
time that does not exist there (inside a DST gap) is refused, an ambiguous one (the repeated
hour when DST ends) is read as its first occurrence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from clubsync.domain.people import ContactData, FollowUpStatus
from clubsync.domain.runs import PullKind, RunCounts
from clubsync.domain.settings import LocationSettings
from clubsync.sandbox import FaultKind

# Settings a step may not change: they identify the location and its billing account.
# `club_number` is the ABC account's field from before providers had accounts (still accepted).
FIXED_SETTINGS = frozenset({"location_id", "club_number", "account", "time_zone", "provider"})
MAX_GENERATED_MEMBERS = 5000


def _local_time(value: str) -> str:
    """A club-local wall time without zone: 'YYYY-MM-DDTHH:MM[:SS]'. Kept as written."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a local time; write it like 2026-11-20T21:00 (club-local, no zone)"
        ) from None
    if parsed.tzinfo is not None:
        raise ValueError(
            f"{value!r} carries a zone offset; scenario times are club-local wall times "
            "(the location's time_zone applies), e.g. 2026-11-20T21:00"
        )
    return value


LocalTime = Annotated[str, AfterValidator(_local_time)]


def parse_local(value: str) -> datetime:
    """The naive datetime a validated LocalTime stands for."""
    return datetime.fromisoformat(value)


def local_to_aware(value: str, zone: ZoneInfo) -> datetime:
    """The instant a club-local wall time stands for (first occurrence when ambiguous)."""
    return parse_local(value).replace(tzinfo=zone, fold=0)


def exists_in_zone(value: str, zone: ZoneInfo) -> bool:
    """False for wall times skipped by a DST change (e.g. 02:30 on a spring-forward night)."""
    naive = parse_local(value)
    round_trip = naive.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")).astimezone(zone)
    return round_trip.replace(tzinfo=None) == naive


def describe_errors(error: ValidationError) -> str:
    """'path.to.field: message; ...' for each problem pydantic found."""
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        problems.append(f"{path}: {message}" if path else message)
    return "; ".join(problems)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- billing -----------------------------------------------------------------------------------


def _raw_member(value: dict[str, Any]) -> dict[str, Any]:
    member_id = value.get("memberId")
    if not isinstance(member_id, str) or not member_id.strip():
        raise ValueError("a billing member record needs a non-empty string 'memberId'")
    return value


RawMember = Annotated[dict[str, Any], AfterValidator(_raw_member)]


def _unique_member_ids(records: list[dict[str, Any]], where: str) -> None:
    seen: set[str] = set()
    for index, record in enumerate(records):
        member_id = record["memberId"]
        if member_id in seen:
            raise ValueError(f"{where}[{index}].memberId: {member_id!r} appears twice")
        seen.add(member_id)


class GeneratedMembers(_Strict):
    """Fictional members made by the sandbox generator (same seed, same members)."""

    members: int = Field(ge=0, le=MAX_GENERATED_MEMBERS)
    seed: int = 0


class BillingSetup(_Strict):
    """What the billing system holds when the scenario starts."""

    start: LocalTime = Field(
        description="Club-local time the initial data is loaded at; the sandbox clock starts "
        "here and stamps records that carry no createTimestamp/lastModifiedTimestamp."
    )
    generate: GeneratedMembers | None = None
    members: list[RawMember] = Field(
        default_factory=list, description="ABC-shaped raw member records (values are strings)."
    )

    @field_validator("members")
    @classmethod
    def _ids_unique(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        _unique_member_ids(value, "billing.members")
        return value


class MemberChange(_Strict):
    """Changes to one billing record: dotted paths ("personal.city") to new values; null
    removes a field. The sandbox stamps lastModifiedTimestamp with the step's time."""

    member_id: str = Field(min_length=1)
    changes: dict[str, Any] = Field(min_length=1)

    @field_validator("changes")
    @classmethod
    def _paths(cls, value: dict[str, Any]) -> dict[str, Any]:
        for path in value:
            if not path or any(not part for part in path.split(".")):
                raise ValueError(f"{path!r} is not a dotted field path like personal.city")
            if path == "memberId" or path.startswith("memberId."):
                raise ValueError("memberId cannot be changed; add a new record instead")
        return value


class BillingChanges(_Strict):
    """Edits made in the billing system at the step's time."""

    modify: list[MemberChange] = Field(default_factory=list)
    add: list[RawMember] = Field(
        default_factory=list,
        description="New raw records; missing createTimestamp/lastModifiedTimestamp are stamped "
        "with the step's time.",
    )

    @field_validator("add")
    @classmethod
    def _ids_unique(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        _unique_member_ids(value, "add")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> BillingChanges:
        if not self.modify and not self.add:
            raise ValueError("give 'modify' and/or 'add'")
        return self


class FaultSpec(_Strict):
    """A fault the sandbox injects into the next `count` requests. The sync's ABC client tries
    each request up to 5 times, so 5 or more "500"/"429" in a row fail the sync."""

    kind: FaultKind
    count: int = Field(default=1, ge=1, le=1000)
    delay_seconds: float = Field(default=2.0, ge=0.0, le=60.0, description="'slow' only")
    message: str = Field(default="Invalid date range.", description="'silent_rejection' only")


# -- CRM -------------------------------------------------------------------------------------


class ProspectSpec(ContactData):
    """A prospect that exists in the CRM before the scenario starts. Contact fields
    (first_name, email, mobile_phone, city, ...) sit flat next to the others."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: str = Field(min_length=1)
    follow_up_status: FollowUpStatus = FollowUpStatus.LEAD
    billing_member_id: str | None = Field(
        default=None, description="Set when the prospect was pushed to billing and got an id."
    )
    notes: str | None = None
    marketing_source: str | None = None
    created_at: LocalTime | None = Field(
        default=None, description="Club-local; defaults to billing.start."
    )

    def contact(self) -> ContactData:
        return ContactData.model_validate(
            self.model_dump(include=set(ContactData.model_fields), exclude_none=True)
        )


class CrmSetup(_Strict):
    prospects: list[ProspectSpec] = Field(default_factory=list)

    @field_validator("prospects")
    @classmethod
    def _unique(cls, value: list[ProspectSpec]) -> list[ProspectSpec]:
        seen: set[str] = set()
        for index, prospect in enumerate(value):
            if prospect.person_id in seen:
                raise ValueError(f"prospects[{index}].person_id {prospect.person_id!r} repeats")
            seen.add(prospect.person_id)
        return value


# -- expectations ----------------------------------------------------------------------------


class PersonCheck(_Strict):
    """Checks one person, found by `person_id` or `billing_member_id` (people created from
    billing have person_id "abc-<memberId>"). `fields` maps dotted paths into the person as
    the result shows it ("kind", "contact.city", "agreements.0.is_active") plus two derived
    names: "agreement_count" and "current_agreement" (e.g. "current_agreement.agreement_number")
    to the expected JSON value."""

    person_id: str | None = None
    billing_member_id: str | None = None
    exists: bool = True
    fields: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_key(self) -> PersonCheck:
        if (self.person_id is None) == (self.billing_member_id is None):
            raise ValueError("give exactly one of person_id and billing_member_id")
        if not self.exists and self.fields:
            raise ValueError("fields cannot be checked on a person expected not to exist")
        return self

    @property
    def label(self) -> str:
        if self.person_id is not None:
            return f"person {self.person_id}"
        return f"person with billing id {self.billing_member_id}"


class QuarantineCheck(_Strict):
    """A record expected in quarantine, with a piece of its reason."""

    record_id: str
    reason_contains: str = ""


SUMMARY_COUNTS = frozenset(
    {
        "people",
        "members",
        "prospects",
        "active_members",
        "agreements",
        "active_agreements",
        "current_agreements",
        "duplicate_agreements",
        "quarantined",
        "runs",
        "failed_runs",
    }
)


class Expectations(_Strict):
    """What the CRM state must look like. Every count is optional; only the ones given are
    checked. The names are those of the result's `summary`."""

    people: int | None = Field(default=None, ge=0)
    members: int | None = Field(default=None, ge=0)
    prospects: int | None = Field(default=None, ge=0)
    active_members: int | None = Field(default=None, ge=0)
    agreements: int | None = Field(default=None, ge=0)
    active_agreements: int | None = Field(default=None, ge=0)
    current_agreements: int | None = Field(default=None, ge=0)
    duplicate_agreements: int | None = Field(default=None, ge=0)
    quarantined: int | None = Field(default=None, ge=0)
    runs: int | None = Field(default=None, ge=0)
    failed_runs: int | None = Field(default=None, ge=0)
    watermark: LocalTime | None = Field(
        default=None, description="Club-local time of the members watermark (last success)."
    )
    last_run: dict[str, int] | None = Field(
        default=None,
        description='Counts of the latest sync run so far, e.g. {"created": 3, "ignored": 1}.',
    )
    persons: list[PersonCheck] = Field(default_factory=list)
    quarantine: list[QuarantineCheck] = Field(default_factory=list)

    @field_validator("last_run")
    @classmethod
    def _run_count_names(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        for name in value or {}:
            if name not in RunCounts.model_fields:
                known = ", ".join(RunCounts.model_fields)
                raise ValueError(f"{name!r} is not a run count; known: {known}")
        return value

    def counts(self) -> dict[str, int]:
        """The summary counts this expectation names."""
        return {
            name: value
            for name, value in self.model_dump(include=set(SUMMARY_COUNTS)).items()
            if value is not None
        }


# -- steps -----------------------------------------------------------------------------------

ACTIONS = ("sync", "billing", "fault", "clear_faults", "settings", "intake", "expect")


class Step(_Strict):
    """One thing that happens at `at` (club-local). Exactly one action per step:
    `sync`, `billing`, `fault`, `clear_faults`, `settings`, `intake` or `expect`."""

    at: LocalTime
    note: str = Field(default="", description="Free text for the reader, e.g. a ticket line.")
    sync: PullKind | None = None
    expect_failure: bool = Field(
        default=False, description="With `sync`: the sync is meant to fail (SyncFailed)."
    )
    billing: BillingChanges | None = None
    fault: FaultSpec | None = None
    clear_faults: Literal[True] | None = Field(
        default=None, description="Drop every fault still queued in the sandbox."
    )
    settings: dict[str, Any] | None = Field(
        default=None,
        description="Location settings changed at this time (e.g. ignored_membership_types).",
    )
    intake: dict[str, Any] | None = Field(
        default=None,
        description="A prospect form (as the guest waiver or `clubsync prospects add` sends it; "
        "location_id defaults to the scenario's). The prospect is pushed to billing through the "
        "entities stream, as in AWS.",
    )
    expect: Expectations | None = None

    @field_validator("settings")
    @classmethod
    def _settings_fields(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("settings: name at least one location setting to change")
        for name in value:
            if name in FIXED_SETTINGS:
                raise ValueError(f"{name!r} identifies the location and cannot change")
            if name not in LocationSettings.model_fields:
                known = ", ".join(sorted(set(LocationSettings.model_fields) - FIXED_SETTINGS))
                raise ValueError(f"{name!r} is not a location setting; known: {known}")
        return value

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        given = [name for name in ACTIONS if getattr(self, name) is not None]
        if len(given) != 1:
            named = ", ".join(given) if given else "none"
            raise ValueError(
                f"a step does exactly one of {', '.join(ACTIONS)}; this one has: {named}"
            )
        if self.expect_failure and self.sync is None:
            raise ValueError("expect_failure belongs to a sync step")
        return self

    @property
    def action(self) -> str:
        return next(name for name in ACTIONS if getattr(self, name) is not None)


# -- the scenario ----------------------------------------------------------------------------


class Scenario(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    location: LocationSettings
    billing: BillingSetup
    crm: CrmSetup = Field(default_factory=CrmSetup)
    steps: list[Step] = Field(min_length=1)
    every_sync_type: bool = Field(
        default=False,
        description="Full sync steps run every sync type after members (employees, events, "
        "check-ins, POS, service agreements, marketing sources), like the nightly full sync.",
    )
    expect: Expectations = Field(
        default_factory=Expectations, description="Checked after the last step."
    )

    @field_validator("steps")
    @classmethod
    def _in_time_order(cls, value: list[Step]) -> list[Step]:
        for index in range(1, len(value)):
            earlier, later = value[index - 1], value[index]
            if parse_local(later.at) < parse_local(earlier.at):
                raise ValueError(
                    f"steps[{index}].at {later.at} is earlier than steps[{index - 1}].at "
                    f"{earlier.at}; steps must be in time order"
                )
        return value

    @model_validator(mode="after")
    def _times_exist_and_follow_start(self) -> Scenario:
        zone = self.location.zone
        where_times: list[tuple[str, str]] = [("billing.start", self.billing.start)]
        where_times += [(f"steps[{i}].at", step.at) for i, step in enumerate(self.steps)]
        where_times += [
            (f"crm.prospects[{i}].created_at", p.created_at)
            for i, p in enumerate(self.crm.prospects)
            if p.created_at is not None
        ]
        for i, step in enumerate(self.steps):
            if step.expect is not None and step.expect.watermark is not None:
                where_times.append((f"steps[{i}].expect.watermark", step.expect.watermark))
        if self.expect.watermark is not None:
            where_times.append(("expect.watermark", self.expect.watermark))
        for where, value in where_times:
            if not exists_in_zone(value, zone):
                raise ValueError(
                    f"{where}: {value} does not exist in {self.location.time_zone} "
                    "(clocks skip it for daylight saving time)"
                )
        if parse_local(self.steps[0].at) < parse_local(self.billing.start):
            raise ValueError(
                f"steps[0].at {self.steps[0].at} is earlier than billing.start "
                f"{self.billing.start}; the timeline starts at billing.start"
            )
        for i, step in enumerate(self.steps):
            if step.settings is not None:
                merged = {**self.location.model_dump(), **step.settings}
                try:
                    LocationSettings.model_validate(merged)
                except ValidationError as error:
                    raise ValueError(f"steps[{i}].settings: {describe_errors(error)}") from None
        return self

    @property
    def zone(self) -> ZoneInfo:
        return self.location.zone
