"""The billing sandbox: a local HTTP server that speaks the ABC DataTrak REST API.

Stdlib only (`http.server.ThreadingHTTPServer`). It serves the club record, generated or
file-loaded member records, prospects and activity for one or more clubs, with a controllable
clock, record modification and fault injection, so clubsync can be tried and tested without
billing-system credentials. See docs/sandbox.md for the HTTP API.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import hmac
import json
import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from xml.etree import ElementTree
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clubsync.sandbox.abc.activity import EventMembersShape, generate_activity
from clubsync.sandbox.abc.generator import (
    format_timestamp,
    generate_members,
    generate_prospects,
    make_malformed_member,
)
from clubsync.sandbox.abc.refusals import POSTAL_CODE_PATTERNS, country_code
from clubsync.sandbox.core import (
    BadRequest,
    Clock,
    Fault,
    FaultKind,
    Request,
    Route,
    SandboxCore,
    error_response,
    json_bytes,
    json_response,
)
from clubsync.sandbox.core import Response as _Response

__all__ = ["BillingSandbox", "Fault", "FaultKind"]

_CLUB_NUMBER = re.compile(r"^[0-9]{1,10}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$")

NO_RECORDS = "No records found."
# ABC fills in a state when a prospect arrives without one (spec: "No state provided").
INVENTED_STATE = "AL"
ACCEPTED_CAMPAIGN_TYPES = frozenset({"PON", "PFA"})
CLUB_NOT_FOUND = "Club not found or not authorized"
# The zone of a club added without one: the demo's and the tests' clubs are in Chicago.
DEFAULT_TIME_ZONE = "America/Chicago"

# range filters of GET /members: query parameter -> (section, field) of the record
_RANGE_FILTERS: dict[str, tuple[str, str]] = {
    "lastModifiedTimestampRange": ("personal", "lastModifiedTimestamp"),
    "createdTimestampRange": ("personal", "createTimestamp"),
    "memberSinceDateRange": ("agreement", "sinceDate"),
}


@dataclass
class _Club:
    number: str
    zone: ZoneInfo
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    # campaign id -> {"campaignId", "campaignName", "campaignType"}
    campaigns: dict[str, dict[str, str]] = field(default_factory=dict)
    unauthorized_salespeople: set[str] = field(default_factory=set)
    # clubs whose employees this club does not accept as salespeople (ABC's authorization)
    unauthorized_clubs: set[str] = field(default_factory=set)
    country: str = "US"
    # resource (employees, events, checkins, ...) -> ABC-shaped records
    activity: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # billing-side prospects (GET /prospects) by prospectId: their own id space, not members
    prospects: dict[str, dict[str, Any]] = field(default_factory=dict)
    # fields of GET /clubs set by hand over the generated ones (e.g. a misconfigured timeZone)
    profile_overrides: dict[str, Any] = field(default_factory=dict)


def _club_profile(club: _Club) -> dict[str, Any]:
    """The `club` object of GET /{club}/clubs (abc-api.md "club": name, shortName, timeZone,
    address, billingCountry, payment methods [seen]). The field names of the address and the
    payment methods are not in the reference [guess]; they live here only, to be corrected in
    one place. `timeZone` is the zone the sandbox writes the club's local timestamps in."""
    profile: dict[str, Any] = {
        "name": f"Sandbox Fitness {club.number}",
        "shortName": f"SF{club.number}",
        "timeZone": club.zone.key,
        "address1": f"{100 + int(club.number) % 900} Main St",
        "address2": "",
        "city": "Springfield",
        "state": "IL",
        "postalCode": "62701",
        "country": club.country,
        "billingCountry": club.country,
        "email": f"club{club.number}@example.org",
        "phone": "5550100199",
        "creditCardPaymentMethods": {
            "americanExpress": "true",
            "discover": "true",
            "masterCard": "true",
            "visa": "true",
        },
        "onlineSignupAllowedPaymentMethods": {"creditCard": "true", "eft": "true"},
    }
    profile.update(copy.deepcopy(club.profile_overrides))
    return profile


def _as_prospect(record: Mapping[str, Any]) -> dict[str, Any]:
    """A prospect clubsync pushed (stored with the members, `joinStatus` Prospect, as
    GET /members?joinStatus=prospect answers it) in the shape GET /prospects answers:
    `prospectId`, and `personal.createdTimestamp` where members say `createTimestamp`."""
    out = copy.deepcopy(dict(record))
    prospect: dict[str, Any] = {"prospectId": out.pop("memberId")}
    personal = out.get("personal")
    if isinstance(personal, dict) and "createTimestamp" in personal:
        personal["createdTimestamp"] = personal.pop("createTimestamp")
    prospect.update(out)
    return prospect


@dataclass(frozen=True)
class _ActivityRoute:
    """One read-only resource besides members: where it lives and how it filters."""

    resource: str  # key in _Club.activity, also the fault resource name
    list_key: str  # "clubs.transactions": nested under clubs[]
    ranges: tuple[tuple[str, str], ...] = ()  # query parameter -> dotted record field
    max_range_days: int | None = None


_ACTIVITY_ROUTES: dict[tuple[str, tuple[str, ...]], _ActivityRoute] = {
    ("employees", ()): _ActivityRoute("employees", "employees"),
    ("clubs", ("checkins", "details")): _ActivityRoute(
        "checkins", "checkins", (("checkInTimestampRange", "checkInTimestamp"),)
    ),
    ("calendars", ("events",)): _ActivityRoute(
        "events",
        "events",
        (("eventDateRange", "eventTimestamp"), ("eventModifiedDateRange", "modifiedTimestamp")),
    ),
    ("calendars", ("eventtypes",)): _ActivityRoute("eventTypes", "eventTypes"),
    ("clubs", ("transactions", "pos")): _ActivityRoute(
        "transactions",
        "clubs.transactions",
        (("transactionTimestampRange", "transactionTimestamp"),),
    ),
    ("members", ("recurringservices",)): _ActivityRoute(
        "recurringServices",
        "recurringServices",
        (
            ("saleTimestampRange", "recurringServiceDates.saleDate"),
            ("lastModifiedTimestampRange", "lastModifiedTimestamp"),
        ),
        max_range_days=180,
    ),
}


class _InvalidRange(ValueError):
    pass


def _same(given: str | None, expected: str) -> bool:
    # compare_digest: the time taken does not tell how much of a guessed key was right
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and len(name) > 1 else "item"


def _xml_fill(element: ElementTree.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _xml_fill(ElementTree.SubElement(element, str(key)), child)
    elif isinstance(value, list):
        for child in value:
            _xml_fill(ElementTree.SubElement(element, _singular(element.tag)), child)
    elif value is not None:
        element.text = str(value)


def _to_xml(payload: Mapping[str, Any]) -> bytes:
    root = ElementTree.Element("response")
    _xml_fill(root, payload)
    body: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _parse_bound(text: str, *, is_end: bool) -> datetime:
    if _DATE.match(text):
        day = datetime.strptime(text, "%Y-%m-%d")
        return day.replace(hour=23, minute=59, second=59, microsecond=999_999) if is_end else day
    if _TIMESTAMP.match(text):
        fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
        return datetime.strptime(text, fmt)
    raise ValueError(text)


def parse_range(name: str, value: str) -> tuple[datetime | None, datetime | None]:
    """`start,end` with either side a date, a timestamp or empty (open). Raises _InvalidRange."""
    parts = value.split(",")
    if len(parts) != 2:
        raise _InvalidRange(f"Invalid {name}: expected 'start,end'")
    bounds: list[datetime | None] = []
    for text, is_end in ((parts[0].strip(), False), (parts[1].strip(), True)):
        if not text:
            bounds.append(None)
            continue
        try:
            bounds.append(_parse_bound(text, is_end=is_end))
        except ValueError:
            raise _InvalidRange(f"Invalid {name}: cannot parse '{text}'") from None
    start, end = bounds
    if start is not None and end is not None and start > end:
        raise _InvalidRange(f"Invalid {name}: start is after end")
    return start, end


def _record_moment(record: Mapping[str, Any], section: str, key: str) -> datetime | None:
    return _dotted(record, f"{section}.{key}")


def _dotted(record: Mapping[str, Any], path: str) -> datetime | None:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if not isinstance(value, str):
        return None
    try:
        return _parse_bound(value.strip(), is_end=False)
    except ValueError:
        return None


def _in_window(moment: datetime | None, start: datetime | None, end: datetime | None) -> bool:
    if start is None and end is None:
        return True
    if moment is None:
        return False
    return (start is None or moment >= start) and (end is None or moment <= end)


def _personal_str(record: Mapping[str, Any], key: str) -> str:
    part = record.get("personal")
    if isinstance(part, Mapping):
        value = part.get(key)
        if isinstance(value, str):
            return value
    return ""


def _set_path(record: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    if not path or any(not key for key in keys):
        raise ValueError(f"changes: invalid field path {path!r}")
    target = record
    for key in keys[:-1]:
        child = target.get(key)
        if not isinstance(child, dict):
            if value is None:
                return  # removing below a missing object: nothing to do
            child = {}
            target[key] = child
        target = child
    if value is None:
        target.pop(keys[-1], None)
    else:
        target[keys[-1]] = copy.deepcopy(value)


def _keyed(records: list[dict[str, Any]], kind: str, id_key: str) -> dict[str, dict[str, Any]]:
    """Copies of `records` by their `id_key`; every record is checked before any is kept."""
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValueError(f"{kind}[{index}]: expected an object")
        record_id = record.get(id_key)
        if not isinstance(record_id, str) or not record_id:
            raise ValueError(f"{kind}[{index}].{id_key}: missing or not a string")
    return {record[id_key]: copy.deepcopy(record) for record in records}


class BillingSandbox:
    """An in-process fake of the ABC DataTrak member API; thread-safe.

    `now` is the sandbox clock (tz-aware, UTC); club-local timestamps derive from it in each
    club's zone. Use as a context manager to start and stop the HTTP server.
    """

    def __init__(
        self,
        *,
        now: datetime | None = None,
        app_id: str = "sandbox",
        app_key: str = "sandbox",
        page_size_limit: int = 5000,
    ) -> None:
        if page_size_limit < 1:
            raise ValueError("page_size_limit must be >= 1")
        self._lock = threading.RLock()
        self._core = SandboxCore(_AbcRoutes(self), now=now)
        self.app_id = app_id
        self.app_key = app_key
        self.page_size_limit = page_size_limit
        self._clubs: dict[str, _Club] = {}
        self._rng = random.Random(0)

    # ------------------------------------------------------------------ clubs and records

    def add_club(self, club_number: str, time_zone: str = DEFAULT_TIME_ZONE) -> None:
        """Add a club (or change its zone). `time_zone` is an IANA name like America/Chicago;
        it is the zone of the club's local timestamps and the `timeZone` GET /clubs reports
        (unless `set_club_profile` says otherwise)."""
        if not isinstance(club_number, str) or not _CLUB_NUMBER.match(club_number):
            raise ValueError(f"clubNumber: expected a digit string, got {club_number!r}")
        try:
            zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"timeZone: unknown time zone {time_zone!r}") from None
        with self._lock:
            club = self._clubs.get(club_number)
            if club is None:
                self._clubs[club_number] = _Club(club_number, zone)
            else:
                club.zone = zone

    @property
    def clubs(self) -> list[str]:
        with self._lock:
            return sorted(self._clubs)

    def load_members(self, club_number: str, records: list[dict[str, Any]]) -> None:
        """Upsert raw ABC-shaped records by `memberId` (records are stored as given)."""
        by_id = _keyed(records, "members", "memberId")
        with self._lock:
            self._club(club_number).members.update(by_id)

    def generate_members(
        self, club_number: str, count: int, *, seed: int = 0, prospects: int | None = None
    ) -> list[dict[str, Any]]:
        """Generate `count` records with the club's local now, load them and return copies.

        The first call for a club also generates its activity and its billing-side prospects
        (`prospects`, default a tenth of `count`; they are served by GET /prospects only)."""
        with self._lock:
            club = self._club(club_number)
            taken = {
                str(r["agreement"].get("agreementNumber"))
                for r in club.members.values()
                if isinstance(r.get("agreement"), dict)
            }
            records = generate_members(
                count,
                club_number=club_number,
                now_local=self.local_now(club_number),
                seed=seed,
                reserved_agreement_numbers=taken,
            )
            self.load_members(club_number, records)
            if not club.activity:
                self.generate_activity(club_number, seed=seed)
            if not club.prospects:
                self.generate_prospects(
                    club_number, count // 10 if prospects is None else prospects, seed=seed
                )
        return records

    def generate_prospects(
        self, club_number: str, count: int, *, seed: int = 0
    ) -> list[dict[str, Any]]:
        """Generate `count` billing-side prospects (referring members are the club's members),
        add them and return copies; see `clubsync.sandbox.abc.generator.generate_prospects`."""
        with self._lock:
            club = self._club(club_number)
            records = generate_prospects(
                count,
                club_number=club_number,
                now_local=self.local_now(club_number),
                seed=seed,
                member_ids=list(club.members),
            )
            self.load_prospects(club_number, records)
        return records

    def load_prospects(self, club_number: str, records: list[dict[str, Any]]) -> None:
        """Upsert raw ABC-shaped prospect records by `prospectId` (stored as given)."""
        by_id = _keyed(records, "prospects", "prospectId")
        with self._lock:
            self._club(club_number).prospects.update(by_id)

    def prospect_records(self, club_number: str) -> list[dict[str, Any]]:
        """Everything GET /prospects serves for the club, sorted by prospectId: billing-side
        prospects and, in the same shape, those pushed with POST /prospects."""
        with self._lock:
            club = self._club(club_number)
            records = [copy.deepcopy(r) for r in club.prospects.values()]
            records.extend(
                _as_prospect(r)
                for r in club.members.values()
                if _personal_str(r, "joinStatus").lower() == "prospect"
            )
        return sorted(records, key=lambda r: str(r["prospectId"]))

    def club_profile(self, club_number: str) -> dict[str, Any]:
        """The `club` object GET /{club}/clubs answers."""
        with self._lock:
            return _club_profile(self._club(club_number))

    def set_club_profile(self, club_number: str, changes: dict[str, Any]) -> None:
        """Override fields of the club object, e.g. `{"timeZone": "US/Central"}` for a club
        misconfigured in ABC; the sandbox still writes timestamps in the zone of `add_club`.
        A value of None drops the override."""
        with self._lock:
            overrides = self._club(club_number).profile_overrides
            for key, value in changes.items():
                if value is None:
                    overrides.pop(key, None)
                else:
                    overrides[key] = copy.deepcopy(value)

    def generate_activity(
        self,
        club_number: str,
        *,
        seed: int = 0,
        employees: int | None = None,
        checkin_days: int = 3,
        event_days_back: int = 35,
        event_days_forward: int = 35,
        pos_days: int = 40,
        event_members: EventMembersShape = "array",
    ) -> None:
        """(Re)generate employees, events, check-ins, POS transactions and recurring services
        from the club's current members (every memberId referenced exists). The volumes are
        those of `clubsync.sandbox.abc.activity.generate_activity`, whose defaults these are."""
        with self._lock:
            club = self._club(club_number)
            now_local = self.local_now(club_number)
            club.activity = generate_activity(
                [club.members[k] for k in sorted(club.members)],
                club_number=club_number,
                now_local=now_local,
                seed=seed,
                employees=employees,
                checkin_days=checkin_days,
                event_days_back=event_days_back,
                event_days_forward=event_days_forward,
                pos_days=pos_days,
                event_members=event_members,
            )

    def load_activity(self, club_number: str, resource: str, records: list[dict[str, Any]]) -> None:
        """Replace the records of one resource (employees, eventTypes, events, checkins,
        transactions, recurringServices) with these."""
        routes = {route.resource for route in _ACTIVITY_ROUTES.values()}
        if resource not in routes:
            raise ValueError(f"unknown resource {resource!r}; one of {sorted(routes)}")
        with self._lock:
            self._club(club_number).activity[resource] = copy.deepcopy(records)

    def activity(self, club_number: str, resource: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._club(club_number).activity.get(resource, []))

    def load_file(self, path: Path) -> None:
        """Load `{"now"?: iso, "clubs": [{"clubNumber", "timeZone", "members": [...]}]}`.

        The whole file is checked before anything is loaded; a bad file raises ValueError
        naming the offending field, e.g. `clubs[0].timeZone`.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{path}: not UTF-8 text (offset {exc.start}); save it as UTF-8"
            ) from None
        if not isinstance(data, dict):
            raise ValueError("file: expected a JSON object with a 'clubs' list")
        now: datetime | None = None
        if "now" in data:
            try:
                now = Clock.check_aware(datetime.fromisoformat(str(data["now"])))
            except ValueError:
                raise ValueError(
                    f"now: expected an ISO timestamp with a zone offset, got {data['now']!r}"
                ) from None
        clubs = data.get("clubs")
        if not isinstance(clubs, list):
            raise ValueError("clubs: expected a list")
        checked: list[tuple[str, str, list[dict[str, Any]]]] = []
        seen: set[str] = set()
        for i, club in enumerate(clubs):
            where = f"clubs[{i}]"
            if not isinstance(club, dict):
                raise ValueError(f"{where}: expected an object")
            number = club.get("clubNumber")
            if not isinstance(number, str) or not _CLUB_NUMBER.match(number):
                raise ValueError(f"{where}.clubNumber: expected a digit string, got {number!r}")
            if number in seen:
                raise ValueError(f"{where}.clubNumber: duplicate club {number!r}")
            seen.add(number)
            zone = club.get("timeZone")
            if not isinstance(zone, str):
                raise ValueError(f"{where}.timeZone: expected a time zone name, got {zone!r}")
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{where}.timeZone: unknown time zone {zone!r}") from None
            members = club.get("members", [])
            if not isinstance(members, list):
                raise ValueError(f"{where}.members: expected a list")
            for j, record in enumerate(members):
                if not isinstance(record, dict):
                    raise ValueError(f"{where}.members[{j}]: expected an object")
                member_id = record.get("memberId")
                if not isinstance(member_id, str) or not member_id:
                    raise ValueError(f"{where}.members[{j}].memberId: missing or not a string")
            checked.append((number, zone, members))
        with self._lock:
            if now is not None:
                self._core.clock.set(now)
            for number, zone, members in checked:
                self.add_club(number, zone)
                self.load_members(number, members)

    def modify_member(
        self, club_number: str, member_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Apply `changes` (dotted paths like "personal.city"; None removes the field), stamp
        `personal.lastModifiedTimestamp` with the club-local now and return a copy."""
        if not isinstance(changes, dict):
            raise ValueError("changes: expected an object of dotted field paths")
        with self._lock:
            club = self._club(club_number)
            if member_id not in club.members:
                raise KeyError(f"unknown member {member_id!r} in club {club_number!r}")
            updated = copy.deepcopy(club.members[member_id])
            for path, value in changes.items():
                if path == "memberId" or path.startswith("memberId."):
                    raise ValueError("changes: memberId cannot be changed")
                _set_path(updated, path, value)
            personal = updated.get("personal")
            if not isinstance(personal, dict):
                personal = {}
                updated["personal"] = personal
            personal["lastModifiedTimestamp"] = format_timestamp(self.local_now(club_number))
            club.members[member_id] = updated
            return copy.deepcopy(updated)

    def add_member(self, club_number: str, record: dict[str, Any]) -> None:
        """Add a new record; stamps createTimestamp/lastModifiedTimestamp when missing."""
        member_id = record.get("memberId")
        if not isinstance(member_id, str) or not member_id:
            raise ValueError("memberId: missing or not a string")
        with self._lock:
            club = self._club(club_number)
            if member_id in club.members:
                raise ValueError(f"memberId: {member_id!r} already exists in club {club_number}")
            stored = copy.deepcopy(record)
            personal = stored.get("personal")
            if not isinstance(personal, dict):
                personal = {}
                stored["personal"] = personal
            stamp = format_timestamp(self.local_now(club_number))
            personal.setdefault("createTimestamp", stamp)
            personal.setdefault("lastModifiedTimestamp", stamp)
            club.members[member_id] = stored

    # ------------------------------------------------------------------ prospects (pushed to us)

    def add_campaign(
        self, club_number: str, campaign_id: str, name: str, campaign_type: str
    ) -> None:
        """A marketing campaign; ABC accepts it on a prospect only with type PON or PFA."""
        with self._lock:
            self._club(club_number).campaigns[campaign_id] = {
                "campaignId": campaign_id,
                "campaignName": name,
                "campaignType": campaign_type,
            }

    def set_salesperson_authorized(
        self, club_number: str, employee_id: str, authorized: bool
    ) -> None:
        """An employee of a location ABC has not authorized for this club cannot be a
        prospect's salesperson; every other id is accepted."""
        with self._lock:
            refused = self._club(club_number).unauthorized_salespeople
            if authorized:
                refused.discard(employee_id)
            else:
                refused.add(employee_id)

    def set_club_authorized(self, club_number: str, other_club: str, authorized: bool) -> None:
        """Whether `club_number` accepts the employees of `other_club` (its `employees`
        records) as salespeople; accepted until refused here."""
        with self._lock:
            self._club(other_club)  # an unknown club is a mistake in the test, not a refusal
            refused = self._club(club_number).unauthorized_clubs
            if authorized:
                refused.discard(other_club)
            else:
                refused.add(other_club)

    def prospects(self, club_number: str) -> list[dict[str, Any]]:
        """Deep copies of the club's prospects (records with joinStatus Prospect)."""
        return [
            record
            for record in self.members(club_number)
            if _personal_str(record, "joinStatus").lower() == "prospect"
        ]

    def _prospect_rejection(self, club: _Club, prospect: Mapping[str, Any]) -> str | None:
        """The first reason ABC refuses a prospect (spec: "Prospects", common issues)."""
        personal = prospect.get("personal") or {}
        agreement = prospect.get("agreement") or {}
        if not isinstance(personal, dict) or not isinstance(agreement, dict):
            return "personal and agreement must be objects"

        def text(part: Mapping[str, Any], key: str) -> str:
            value = part.get(key)
            return value.strip() if isinstance(value, str) else ""

        if not text(personal, "firstName") or not text(personal, "lastName"):
            return "firstName and lastName are required"
        if text(personal, "addressLine1"):
            if "." in text(personal, "city"):
                return "Invalid city: periods are not allowed"
            code = text(personal, "postalCode")
            country = country_code(text(personal, "country"), club.country)
            pattern = POSTAL_CODE_PATTERNS.get(country)
            if code and pattern and not re.fullmatch(pattern, code, flags=re.IGNORECASE):
                return f"Invalid postalCode {code} for country {country}"
        campaign_id = text(agreement, "campaignId")
        if campaign_id:
            campaign = club.campaigns.get(campaign_id)
            if campaign is None:
                return f"Campaign {campaign_id} not found"
            if campaign["campaignType"].upper() not in ACCEPTED_CAMPAIGN_TYPES:
                return f"Campaign {campaign_id} must have type PON or PFA"
        salesperson = text(agreement, "salesPersonId")
        if salesperson and (
            salesperson in club.unauthorized_salespeople
            or any(
                record.get("employeeId") == salesperson
                for other in club.unauthorized_clubs
                for record in self._clubs[other].activity.get("employees", [])
            )
        ):
            return f"salesPersonId {salesperson} is not authorized for club {club.number}"
        return None

    def _write_prospect(self, club_number: str, member_id: str | None, body: bytes) -> _Response:
        """POST (member_id None) or PUT of one prospect, ABC's request shape."""
        try:
            data = json.loads(body.decode("utf-8") or "null")
            prospect = data["prospects"][0]["prospect"]
            if not isinstance(prospect, dict):
                raise TypeError
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, IndexError, TypeError):
            return _Response(
                HTTPStatus.BAD_REQUEST,
                json_bytes({"status": {"message": "Expected {prospects: [{prospect: {...}}]}"}}),
            )
        if member_id is not None and "personal" not in prospect:
            # reference/abc-api.md: a PUT without `personal` gives a bare 500.
            return _Response(HTTPStatus.INTERNAL_SERVER_ERROR, b"", content_type=None)
        with self._lock:
            club = self._clubs.get(club_number)
            if club is None:
                return _Response(
                    HTTPStatus.NOT_FOUND, json_bytes({"status": {"message": CLUB_NOT_FOUND}})
                )
            stamp = format_timestamp(self.local_now(club_number))
            if member_id is None:
                member_id = f"{self._rng.getrandbits(128):032x}"
                record: dict[str, Any] = {"memberId": member_id, "personal": {}, "agreement": {}}
                record["personal"].update(
                    {"joinStatus": "Prospect", "isActive": "false", "homeClub": club_number}
                )
                record["personal"]["createTimestamp"] = stamp
            else:
                existing = club.members.get(member_id)
                if existing is None or _personal_str(existing, "joinStatus").lower() != "prospect":
                    return _Response(
                        HTTPStatus.NOT_FOUND,
                        json_bytes({"status": {"message": f"Prospect {member_id} not found"}}),
                    )
                record = copy.deepcopy(existing)
            for section in ("personal", "agreement", "note"):
                given = prospect.get(section)
                if isinstance(given, dict):
                    record.setdefault(section, {}).update(copy.deepcopy(given))
            reason = self._prospect_rejection(club, record)
            if reason is not None:
                return _Response(
                    HTTPStatus.BAD_REQUEST, json_bytes({"status": {"message": reason}})
                )
            personal = record["personal"]
            if not str(personal.get("state") or "").strip():
                personal["state"] = INVENTED_STATE
            campaign = club.campaigns.get(str(record["agreement"].get("campaignId") or ""))
            if campaign is not None:
                record["agreement"]["campaignName"] = campaign["campaignName"]
            personal["lastModifiedTimestamp"] = stamp
            club.members[member_id] = record
        answer = {"status": {"message": "success", "count": "1"}, "result": {"memberId": member_id}}
        return _Response(HTTPStatus.OK, json_bytes(answer))

    def _campaigns_page(self, club_number: str) -> dict[str, Any]:
        with self._lock:
            club = self._clubs.get(club_number)
            records = [dict(c) for _, c in sorted(club.campaigns.items())] if club else []
        echo = {"clubNumber": club_number, "page": "1"}
        message = CLUB_NOT_FOUND if club is None else ("success" if records else NO_RECORDS)
        return {
            "status": {"message": message, "count": str(len(records))},
            "request": echo,
            "campaigns": records,
        }

    def members(self, club_number: str) -> list[dict[str, Any]]:
        """Deep copies of the club's records, sorted by memberId."""
        with self._lock:
            club = self._club(club_number)
            return [copy.deepcopy(club.members[k]) for k in sorted(club.members)]

    def _club(self, club_number: str) -> _Club:
        club = self._clubs.get(club_number)
        if club is None:
            raise KeyError(f"unknown club {club_number!r}")
        return club

    # ------------------------------------------------------------------ clock

    @property
    def now(self) -> datetime:
        return self._core.clock.now

    def set_clock(self, now: datetime) -> None:
        self._core.clock.set(now)

    def advance_clock(self, delta: timedelta) -> None:
        self._core.clock.advance(delta)

    def local_now(self, club_number: str) -> datetime:
        """The clock as naive club-local wall time."""
        with self._lock:
            zone = self._club(club_number).zone
        return self.now.astimezone(zone).replace(tzinfo=None)

    # ------------------------------------------------------------------ faults and bookkeeping

    def inject_fault(self, fault: Fault) -> None:
        """Queue a fault; each matching API request consumes one of its `count`."""
        self._core.faults.add(fault)

    def clear_faults(self) -> None:
        self._core.faults.clear()

    @property
    def faults(self) -> list[Fault]:
        return self._core.faults.queued

    @property
    def request_count(self) -> int:
        return len(self._core.log)

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        """(method, path, query) of every API request, oldest first."""
        return [(e.method, e.path, dict(e.query)) for e in self._core.log.entries]

    @property
    def request_bodies(self) -> list[tuple[str, str, Any]]:
        """(method, path, body) of every API request that had a body, oldest first; the body
        parsed as JSON (what billing received), or the raw text when it is not JSON."""
        out: list[tuple[str, str, Any]] = []
        for entry in self._core.log.entries:
            if not entry.body:
                continue
            text = entry.body.decode("utf-8", errors="replace")
            try:
                out.append((entry.method, entry.path, json.loads(text)))
            except json.JSONDecodeError:
                out.append((entry.method, entry.path, text))
        return out

    # ------------------------------------------------------------------ server lifecycle

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving in a daemon thread; returns the base URL `http://HOST:PORT/rest`."""
        return self._core.start(host, port) + _PREFIX

    def stop(self) -> None:
        self._core.stop()

    @property
    def url(self) -> str:
        origin = self._core.origin
        if origin is None:
            raise RuntimeError("sandbox not started")
        return origin + _PREFIX

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ API handling

    def _routes(self) -> list[Route]:
        """ABC's API under /rest/{club}; the first match wins, the last route answers the rest."""
        activity = [
            Route(
                "GET",
                "/".join(["{club}", resource, *rest]),
                functools.partial(self._activity, route=route),
                fault_resource=route.resource,
            )
            for (resource, rest), route in _ACTIVITY_ROUTES.items()
        ]
        return [
            Route("POST", "{club}/prospects", self._prospect_write, "prospects"),
            Route("PUT", "{club}/prospects/{member_id}", self._prospect_write, "prospects"),
            *activity,
            Route("GET", "{club}/clubs/campaigns", self._campaigns, "clubs"),
            Route("GET", "{club}/clubs", self._club_route, "clubs"),
            Route("GET", "{club}/prospects", self._prospects, "prospects"),
            Route("GET", "{club}/members", self._members, "members"),
            Route("GET", "{club}/members/{member_id}", self._members, "members"),
            Route("*", "{club}/{resource}/{rest*}", self._unknown, "{resource}"),
        ]

    def _prospect_write(self, request: Request) -> _Response:
        member_id = request.params.get("member_id")
        return self._write_prospect(request.params["club"], member_id, request.body)

    @staticmethod
    def _unknown(request: Request) -> _Response:
        if request.method != "GET":
            return error_response(HTTPStatus.METHOD_NOT_ALLOWED, "Method Not Allowed")
        return error_response(HTTPStatus.NOT_FOUND, "Not Found")

    @staticmethod
    def _rejected(request: Request) -> Fault | None:
        fault = request.fault
        return fault if fault is not None and fault.kind is FaultKind.SILENT_REJECTION else None

    def _activity(self, request: Request, route: _ActivityRoute) -> _Response:
        club_number = request.params["club"]
        rejection = self._rejected(request)
        if rejection is not None:
            echo = self._echo(club_number, None, request.query)
            payload = self._activity_envelope(route, rejection.message, [], echo, club_number)
        else:
            payload = self._activity_page(club_number, route, dict(request.query))
        return json_response(payload)

    def _campaigns(self, request: Request) -> _Response:
        return json_response(self._campaigns_page(request.params["club"]))

    def _club_route(self, request: Request) -> _Response:
        return json_response(self._club_answer(request.params["club"]))

    def _prospects(self, request: Request) -> _Response:
        club_number = request.params["club"]
        rejection = self._rejected(request)
        if rejection is not None:
            echo = self._echo(club_number, None, request.query)
            payload = self._envelope(rejection.message, [], echo, list_key="prospects")
        else:
            payload = self._prospects_page(club_number, dict(request.query))
        return json_response(payload)

    def _members(self, request: Request) -> _Response:
        club_number, query = request.params["club"], dict(request.query)
        member_id = request.params.get("member_id")
        rejection = self._rejected(request)
        if rejection is not None:
            payload = self._envelope(
                rejection.message, [], self._echo(club_number, member_id, query)
            )
        elif request.fault is not None and request.fault.kind is FaultKind.UNREADABLE_PAGE:
            # the start of a real page, cut off mid-way
            text = json.dumps(self._members_page(club_number, member_id, query, inject=False))
            return _Response(HTTPStatus.OK, text[: max(1, min(len(text) // 2, 4096))].encode())
        else:
            payload = self._members_page(club_number, member_id, query)
        if "application/json" in request.headers.get("accept", "").lower():
            return json_response(payload)
        return _Response(HTTPStatus.OK, _to_xml(payload), "application/xml;charset=UTF-8")

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        """The `app_id`/`app_key` headers every public client sends, or the same pair as HTTP
        Basic (`Authorization: Basic base64(app_id:app_key)`), which ABC's FAQ describes."""
        if _same(headers.get("app_id"), self.app_id) and _same(
            headers.get("app_key"), self.app_key
        ):
            return True
        scheme, _, token = headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "basic" or not token.strip():
            return False
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, colon, password = decoded.partition(":")
        return bool(colon) and _same(user, self.app_id) and _same(password, self.app_key)

    def _echo(
        self, club_number: str, member_id: str | None, query: Mapping[str, str]
    ) -> dict[str, str]:
        """The envelope's `request`: the query as strings, with clubNumber, page and size."""
        echo: dict[str, str] = {
            "clubNumber": club_number,
            "page": "1",
            "size": str(min(5000, self.page_size_limit)),
        }
        echo.update(query)
        if member_id is not None:
            echo["memberId"] = member_id
        return echo

    @staticmethod
    def _envelope(
        message: str,
        records: list[dict[str, Any]],
        request_echo: dict[str, str],
        next_page: str | None = None,
        *,
        list_key: str = "members",
    ) -> dict[str, Any]:
        status: dict[str, str] = {"message": message, "count": str(len(records))}
        if next_page is not None:
            status["nextPage"] = next_page
        return {"status": status, "request": request_echo, list_key: records}

    def _club_answer(self, club_number: str) -> dict[str, Any]:
        """GET /{club}/clubs: one object under `club`, not a list; an unknown club is a silent
        rejection like every other resource (200, no `club`, the reason in the message)."""
        echo = {"clubNumber": club_number}
        with self._lock:
            club = self._clubs.get(club_number)
            if club is None:
                return {"status": {"message": CLUB_NOT_FOUND, "count": "0"}, "request": echo}
            profile = _club_profile(club)
        return {"status": {"message": "success", "count": "1"}, "request": echo, "club": profile}

    def _prospects_page(self, club_number: str, query: dict[str, str]) -> dict[str, Any]:
        """GET /{club}/prospects: billing-side prospects and those clubsync pushed, sorted by
        prospectId, filtered by `lastCheckInTimestampRange`, paged like members."""
        echo = self._echo(club_number, None, query)

        def answer(
            message: str, records: list[dict[str, Any]], following: str | None = None
        ) -> dict[str, Any]:
            return self._envelope(message, records, echo, following, list_key="prospects")

        try:
            page = int(query.get("page", "1"))
            size = min(
                int(query.get("size", str(min(5000, self.page_size_limit)))), self.page_size_limit
            )
            if page < 1 or size < 1:
                raise ValueError
        except ValueError:
            return answer("Invalid page or size", [])
        echo["page"], echo["size"] = str(page), str(size)
        start: datetime | None = None
        end: datetime | None = None
        filtered = "lastCheckInTimestampRange" in query
        if filtered:
            try:
                start, end = parse_range(
                    "lastCheckInTimestampRange", query["lastCheckInTimestampRange"]
                )
            except _InvalidRange as exc:
                return answer(str(exc), [])
        with self._lock:
            club = self._clubs.get(club_number)
            if club is None:
                return answer(CLUB_NOT_FOUND, [])
            every = [copy.deepcopy(record) for record in club.prospects.values()]
            every.extend(
                _as_prospect(record)
                for record in club.members.values()
                if _personal_str(record, "joinStatus").lower() == "prospect"
            )
        every.sort(key=lambda record: str(record.get("prospectId", "")))
        if filtered:
            every = [
                record
                for record in every
                if _in_window(_dotted(record, "personal.lastCheckInTimestamp"), start, end)
            ]
        first = (page - 1) * size
        records = every[first : first + size]
        if not records:
            return answer(NO_RECORDS, [])
        if first + size < len(every):
            return answer("success", records, str(page + 1))
        # both last-page styles, as for members: odd pages omit nextPage, even pages send ""
        return answer("success", records, "" if page % 2 == 0 else None)

    def _members_page(
        self,
        club_number: str,
        member_id: str | None,
        query: dict[str, str],
        *,
        inject: bool = True,
    ) -> dict[str, Any]:
        echo = self._echo(club_number, member_id, query)
        try:
            page = int(query.get("page", "1"))
            if page < 1:
                raise ValueError
        except ValueError:
            return self._envelope(f"Invalid page: {query.get('page')}", [], echo)
        try:
            size = int(query.get("size", str(min(5000, self.page_size_limit))))
            if size < 1:
                raise ValueError
        except ValueError:
            return self._envelope(f"Invalid size: {query.get('size')}", [], echo)
        size = min(size, self.page_size_limit)
        echo["page"], echo["size"] = str(page), str(size)

        join_status = query.get("joinStatus", "all").strip().lower()
        if join_status not in ("member", "prospect", "all"):
            return self._envelope(f"Invalid joinStatus: {query['joinStatus']}", [], echo)
        active_status = query.get("activeStatus", "all").strip().lower()
        if active_status not in ("active", "inactive", "all"):
            return self._envelope(f"Invalid activeStatus: {query['activeStatus']}", [], echo)
        ranges: list[tuple[str, str, datetime | None, datetime | None]] = []
        for name, (section, key) in _RANGE_FILTERS.items():
            if name in query:
                try:
                    start, end = parse_range(name, query[name])
                except _InvalidRange as exc:
                    return self._envelope(str(exc), [], echo)
                ranges.append((section, key, start, end))
        wanted_ids: set[str] | None = None
        if member_id is not None:
            wanted_ids = {member_id}
        if "memberId" in query:
            one = {query["memberId"].strip()}
            wanted_ids = one if wanted_ids is None else wanted_ids & one
        if "memberIds" in query:
            many = {part.strip() for part in query["memberIds"].split(",") if part.strip()}
            wanted_ids = many if wanted_ids is None else wanted_ids & many

        with self._lock:
            club = self._clubs.get(club_number)
            if club is None:
                return self._envelope(CLUB_NOT_FOUND, [], echo)
            selected: list[dict[str, Any]] = []
            for key in sorted(club.members):
                record = club.members[key]
                if wanted_ids is not None and key not in wanted_ids:
                    continue
                if join_status != "all" and _personal_str(record, "joinStatus").lower() != (
                    join_status
                ):
                    continue
                if active_status != "all":
                    is_active = _personal_str(record, "isActive").strip().lower() == "true"
                    if is_active != (active_status == "active"):
                        continue
                if not all(
                    self._in_range(record, section, field_name, start, end)
                    for section, field_name, start, end in ranges
                ):
                    continue
                selected.append(record)
            first = (page - 1) * size
            records = [copy.deepcopy(r) for r in selected[first : first + size]]
            has_next = first + size < len(selected)

        if not records:
            return self._envelope(NO_RECORDS, [], echo)
        fault = self._core.faults.take("members", has_records=True) if inject else None
        if fault is not None:
            with self._lock:
                index = self._rng.randrange(len(records))
                records[index] = make_malformed_member(self._rng, base=records[index])
        if has_next:
            next_page: str | None = str(page + 1)
        else:  # both last-page styles seen in the wild: odd pages omit it, even pages send ""
            next_page = "" if page % 2 == 0 else None
        return self._envelope("success", records, echo, next_page)

    @staticmethod
    def _activity_envelope(
        route: _ActivityRoute,
        message: str,
        records: list[dict[str, Any]],
        echo: dict[str, str],
        club_number: str,
        next_page: str | None = None,
    ) -> dict[str, Any]:
        status: dict[str, str] = {"message": message, "count": str(len(records))}
        if next_page is not None:
            status["nextPage"] = next_page
        outer, _, inner = route.list_key.partition(".")
        body: Any = {"clubNumber": club_number, inner: records} if inner else records
        return {"status": status, "request": echo, outer: [body] if inner else body}

    def _activity_page(
        self, club_number: str, route: _ActivityRoute, query: dict[str, str]
    ) -> dict[str, Any]:
        echo = self._echo(club_number, None, query)

        def answer(
            message: str, records: list[dict[str, Any]], following: str | None = None
        ) -> dict[str, Any]:
            return self._activity_envelope(route, message, records, echo, club_number, following)

        try:
            page = int(query.get("page", "1"))
            size = min(int(query.get("size", "5000")), self.page_size_limit)
            if page < 1 or size < 1:
                raise ValueError
        except ValueError:
            return answer("Invalid page or size", [])
        echo["page"], echo["size"] = str(page), str(size)
        filters: list[tuple[str, datetime | None, datetime | None]] = []
        for name, field_path in route.ranges:
            if name not in query:
                continue
            try:
                start, end = parse_range(name, query[name])
            except _InvalidRange as exc:
                return answer(str(exc), [])
            if route.max_range_days is not None:
                # ABC silently rejects longer ranges: 200, an empty list, the reason in message.
                last = end if end is not None else self.local_now(club_number)
                if start is None or last - start > timedelta(days=route.max_range_days):
                    return answer(
                        f"Date range for {name} cannot exceed {route.max_range_days} days", []
                    )
            filters.append((field_path, start, end))
        with self._lock:
            club = self._clubs.get(club_number)
            if club is None:
                return answer(CLUB_NOT_FOUND, [])
            selected = [
                record
                for record in club.activity.get(route.resource, [])
                if all(
                    _in_window(_dotted(record, path), start, end) for path, start, end in filters
                )
            ]
            first = (page - 1) * size
            records = [copy.deepcopy(r) for r in selected[first : first + size]]
            has_next = first + size < len(selected)
        if not records:
            return answer(NO_RECORDS, [])
        return answer("success", records, str(page + 1) if has_next else "")

    @staticmethod
    def _in_range(
        record: Mapping[str, Any],
        section: str,
        key: str,
        start: datetime | None,
        end: datetime | None,
    ) -> bool:
        if start is None and end is None:
            return True
        moment = _record_moment(record, section, key)
        if moment is None:
            return False
        return (start is None or moment >= start) and (end is None or moment <= end)

    # ------------------------------------------------------------------ control API

    def _modify_route(self, request: Request) -> _Response:
        changes = request.json_object().get("changes")
        if not isinstance(changes, dict):
            raise BadRequest("changes: expected an object of dotted field paths")
        try:
            record = self.modify_member(
                request.params["club"], request.params["member_id"], changes
            )
        except KeyError as exc:
            raise BadRequest(str(exc.args[0]), HTTPStatus.NOT_FOUND) from None
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return json_response({"member": record})

    def _member_counts(self) -> dict[str, int]:
        with self._lock:
            return {n: len(c.members) for n, c in sorted(self._clubs.items())}

    def _local_clocks(self) -> dict[str, str]:
        with self._lock:
            return {n: format_timestamp(self.local_now(n)) for n in sorted(self._clubs)}


_PREFIX = "/rest"


class _AbcRoutes:
    """ABC's plug-in for the sandbox core (SandboxRoutes)."""

    prefix = _PREFIX

    def __init__(self, sandbox: BillingSandbox) -> None:
        self._sandbox = sandbox

    def routes(self) -> list[Route]:
        return self._sandbox._routes()

    def control_routes(self) -> list[Route]:
        return [Route("POST", "members/{club}/{member_id}", self._sandbox._modify_route)]

    def authorize(self, request: Request) -> _Response | None:
        if self._sandbox._authorized(request.headers):
            return None
        return error_response(HTTPStatus.UNAUTHORIZED, "Unauthorized")

    def health(self) -> dict[str, Any]:
        return {"clubs": self._sandbox._member_counts()}

    def clock(self) -> dict[str, Any]:
        return {"clubs": self._sandbox._local_clocks()}
