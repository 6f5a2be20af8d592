"""A mapping file: how one provider's extract version becomes canonical billing records.

Maps are data (TOML, read with the standard library's `tomllib`), never code: a system that can
export a file is onboarded with a map (docs/providers/file-feeds.md has the template). A map is
validated by `FeedMap`; `load_map` turns any problem into one line a person can act on.
"""

from __future__ import annotations

import codecs
import tomllib
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class MapError(ValueError):
    """A mapping file that cannot be used; the message is one line."""


class FileKind(StrEnum):
    MEMBERS = "members"
    EMPLOYEES = "employees"


# The canonical fields a column may feed, per kind of file, and which a map must name.
MEMBER_FIELDS = frozenset(
    {
        "member_id", "location", "first_name", "middle_name", "last_name", "gender",
        "date_of_birth", "email", "mobile_phone", "home_phone", "work_phone", "address_line1",
        "address_line2", "city", "state", "zip", "country", "barcode", "join_date",
        "created_at", "modified_at", "membership_type", "member_status", "agreement_number",
        "agreement_name", "agreement_type", "agreement_status", "sign_date", "start_date",
        "end_date", "recurring_payment", "down_payment", "past_due_balance",
    }
)  # fmt: skip
MEMBER_REQUIRED = frozenset(
    {"member_id", "location", "first_name", "last_name", "membership_type", "member_status"}
)
EMPLOYEE_FIELDS = frozenset(
    {
        "employee_id", "location", "first_name", "last_name", "email", "mobile_phone",
        "department", "employee_status", "commission_level",
    }
)  # fmt: skip
EMPLOYEE_REQUIRED = frozenset(
    {"employee_id", "location", "first_name", "last_name", "employee_status"}
)
FIELDS = {FileKind.MEMBERS: MEMBER_FIELDS, FileKind.EMPLOYEES: EMPLOYEE_FIELDS}
REQUIRED = {FileKind.MEMBERS: MEMBER_REQUIRED, FileKind.EMPLOYEES: EMPLOYEE_REQUIRED}
DATE_FIELDS = frozenset({"date_of_birth", "join_date", "sign_date", "start_date", "end_date"})
DATETIME_FIELDS = frozenset({"created_at", "modified_at"})
MONEY_FIELDS = frozenset({"recurring_payment", "down_payment", "past_due_balance"})
# The key of a row: two rows with the same key in one file are duplicates.
KEY_FIELD = {FileKind.MEMBERS: "member_id", FileKind.EMPLOYEES: "employee_id"}


class FileMap(BaseModel):
    """One kind of extract file of a version: which file names it has and its columns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FileKind
    # A glob on the delivered file's name (case-insensitive): "*members*.csv".
    match: str = Field(min_length=1)
    # canonical field -> the column's header in the file.
    columns: dict[str, str]
    # Headers the file has and the import does not read (a header not here nor in `columns`
    # fails the file: it is how a renamed column is caught).
    ignore_columns: tuple[str, ...] = ()
    # Several departments in one cell are separated by this.
    list_separator: str = ";"

    @model_validator(mode="after")
    def _known_fields(self) -> FileMap:
        unknown = sorted(set(self.columns) - FIELDS[self.kind])
        if unknown:
            raise ValueError(
                f"{self.kind.value} columns name unknown fields {', '.join(unknown)} "
                f"(known: {', '.join(sorted(FIELDS[self.kind]))})"
            )
        missing = sorted(REQUIRED[self.kind] - set(self.columns))
        if missing:
            raise ValueError(f"{self.kind.value} columns must name {', '.join(missing)}")
        headers = list(self.columns.values()) + list(self.ignore_columns)
        repeated = sorted({h for h in headers if headers.count(h) > 1})
        if repeated:
            raise ValueError(f"{self.kind.value}: header(s) used twice: {', '.join(repeated)}")
        return self

    @property
    def headers(self) -> frozenset[str]:
        return frozenset(self.columns.values()) | frozenset(self.ignore_columns)


Active = Literal["active", "inactive"]


class FeedValues(BaseModel):
    """The club's own values (MoSo lets each club customise them): what each one means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    membership_type: dict[str, Literal["member", "prospect"]] = Field(default_factory=dict)
    member_status: dict[str, Active] = Field(default_factory=dict)
    agreement_status: dict[str, Active] = Field(default_factory=dict)
    employee_status: dict[str, Active] = Field(default_factory=dict)

    def merged(self, override: FeedValues | None) -> FeedValues:
        """These values with a club's own put over them, table by table."""
        if override is None:
            return self
        return FeedValues(
            membership_type={**self.membership_type, **override.membership_type},
            member_status={**self.member_status, **override.member_status},
            agreement_status={**self.agreement_status, **override.agreement_status},
            employee_status={**self.employee_status, **override.employee_status},
        )


class FeedMap(BaseModel):
    """A provider's extract version: its files, text format, dates, time zone and values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: str = Field(min_length=1)
    version: str = Field(min_length=1)
    # Why the map may be wrong (a stand-in not yet confirmed against a vendor sample), or "".
    stand_in: str = ""
    encoding: str = "utf-8"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    datetime_formats: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S",)
    # The zone the file's times are written in; None: the location's zone.
    time_zone: str | None = None
    values: FeedValues = Field(default_factory=FeedValues)
    files: dict[FileKind, FileMap]

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("date_formats", "datetime_formats")
    @classmethod
    def _formats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one format is needed")
        for pattern in value:
            # A format that cannot even render is a typo; strptime would fail every row.
            datetime(2001, 2, 3, 4, 5, 6).strftime(pattern)
        return value

    @model_validator(mode="after")
    def _kinds_agree(self) -> FeedMap:
        for kind, file_map in self.files.items():
            if file_map.kind is not kind:
                raise ValueError(f"files.{kind.value} has kind {file_map.kind.value}")
        if not self.files:
            raise ValueError("files: a map describes at least one kind of file")
        return self

    @property
    def label(self) -> str:
        return f"{self.provider} {self.version}"


def parse_map(text: str, source: str) -> FeedMap:
    """A map from its TOML text; `source` names it in the one-line MapError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MapError(f"{source}: not valid TOML: {error}") from None
    files = data.get("files")
    if isinstance(files, dict):
        # The table's name is the kind; saying it twice in the file would be noise.
        for kind, table in files.items():
            if isinstance(table, dict):
                table.setdefault("kind", kind)
    try:
        return FeedMap.model_validate(data)
    except ValidationError as error:
        problems = []
        for problem in error.errors(include_url=False, include_input=False):
            where = ".".join(str(part) for part in problem["loc"]) or "map"
            problems.append(f"{where}: {problem['msg'].removeprefix('Value error, ')}")
        raise MapError(f"{source}: " + "; ".join(problems)) from None


def load_map(path: Path) -> FeedMap:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise MapError(f"{path.name}: cannot be read ({error.strerror})") from None
    return parse_map(text, path.name)


def shipped_map(package: str, name: str) -> FeedMap:
    """A map shipped as package data: `name`.toml in `package`'s `maps` folder."""
    folder = resources.files(package).joinpath("maps")
    entry = folder.joinpath(f"{name}.toml")
    if not entry.is_file():
        known = sorted(
            p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
        )
        raise MapError(f"no shipped map {name!r} (shipped: {', '.join(known) or 'none'})")
    return parse_map(entry.read_text(encoding="utf-8"), f"{name}.toml")


# ISO patterns read with fromisoformat: strptime costs about ten times as much, and dates are
# most of a row's translation (bench/feed_import.py).
ISO_DATE = "%Y-%m-%d"
ISO_DATETIMES = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S")


@lru_cache(maxsize=65_536)
def parse_date(value: str, formats: tuple[str, ...]) -> date:
    """The date `value` in the first of `formats` that reads it; ValueError if none does.
    Cached: a file repeats its join and sign dates many times."""
    for pattern in formats:
        try:
            if pattern == ISO_DATE and len(value) == len("2026-01-01"):
                return date.fromisoformat(value)
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(value)


def parse_datetime(value: str, formats: tuple[str, ...], zone: ZoneInfo) -> datetime:
    """The instant `value` in the first of `formats` that reads it, in `zone` when it has no
    offset of its own; ValueError if none does."""
    for pattern in formats:
        try:
            if pattern in ISO_DATETIMES and len(value) >= len("2026-01-01T00:00:00"):
                parsed = datetime.fromisoformat(value)
                has_offset = parsed.tzinfo is not None
                if has_offset != pattern.endswith("%z") or (value[10] == "T") != ("T" in pattern):
                    raise ValueError(value)
            else:
                parsed = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)
    raise ValueError(value)
