"""A Mindbody sandbox: Public API v6 as reference/mindbody/public-api-v6.trimmed.yml describes
it, for the endpoints clubsync calls, over the sandbox core (docs/sandbox.md, "Mindbody").

* Every request carries `API-Key` and `SiteId`; clients, their contracts, packs, visits and
  contact logs, and every write also need `Authorization: <AccessToken>` from
  `POST /usertoken/issue`. Staff without a token come with the public fields only.
* Lists page by `request.limit` (default 100, at most 200) and `request.offset`, and answer a
  `PaginationResponse` {RequestedLimit, RequestedOffset, PageSize, TotalResults}.
* Errors are `{"Error": {"Message": ..., "Code": ...}}` with the HTTP status, the core's 429
  (fault injection) included.

Records are kept as the raw PascalCase dicts the API answers, so a test can break one.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clubsync.sandbox.core import (
    BadRequest,
    FaultKind,
    Request,
    Response,
    Route,
    SandboxCore,
    json_bytes,
    json_response,
)
from clubsync.sandbox.mindbody.generator import (
    FIRST_UNIQUE_ID,
    Record,
    generate_studio,
    mb_instant,
)

PREFIX = "/public/v6"
DEFAULT_LIMIT = 100
MAX_LIMIT = 200
MAX_CLIENT_IDS = 20  # request.clientIDs: "maximum 20 clients at once"
TOKEN_LIFETIME = timedelta(days=7)
# What GET /staff/staff shows without a staff token (the OpenAPI description's list).
PUBLIC_STAFF_FIELDS = ("FirstName", "LastName", "Id", "Bio", "DisplayName", "ImageUrl", "EmpID")
# Paths (after /public/v6/) that need a staff token: staff data and writes.
TOKEN_PATHS = frozenset(
    {
        "client/clients",
        "client/clientcontracts",
        "client/clientservices",
        "client/clientvisits",
        "client/contactlogs",
        "client/addclient",
        "client/updateclient",
        "client/addcontactlog",
    }
)
STATUS_CODES = {
    HTTPStatus.BAD_REQUEST: "InvalidParameter",
    HTTPStatus.UNAUTHORIZED: "DeniedAccess",
    HTTPStatus.FORBIDDEN: "DeniedAccess",
    HTTPStatus.NOT_FOUND: "NotFound",
    HTTPStatus.TOO_MANY_REQUESTS: "TooManyRequests",
}


def mindbody_error(status: int, message: str, code: str | None = None) -> Response:
    """Mindbody's error answer: `{"Error": {"Message", "Code"}}`."""
    code = code or STATUS_CODES.get(HTTPStatus(status), "InternalError")
    return json_response({"Error": {"Message": message, "Code": code}}, status)


@dataclass
class Site:
    site_id: int
    name: str
    zone: ZoneInfo
    time_zone: str  # as GET /site/sites answers it (an IANA or a Windows name)
    clients: dict[int, Record] = field(default_factory=dict)
    contracts: dict[int, list[Record]] = field(default_factory=dict)  # by UniqueId
    services: list[Record] = field(default_factory=list)
    visits: dict[int, list[Record]] = field(default_factory=dict)  # by UniqueId
    staff: list[Record] = field(default_factory=list)
    contact_logs: list[Record] = field(default_factory=list)
    required_fields: list[str] = field(default_factory=list)
    referral_types: list[str] = field(default_factory=lambda: ["Friend", "Instagram", "Walk-in"])
    next_unique_id: int = FIRST_UNIQUE_ID
    next_log_id: int = 1


class MindbodySandbox:
    """The sandbox's Python API; `start()` serves it on 127.0.0.1 (`url` is the base URL the
    client takes, `.../public/v6`)."""

    def __init__(
        self,
        *,
        now: datetime | None = None,
        api_key: str = "sandbox",
        username: str = "sandbox",
        password: str = "sandbox",
    ) -> None:
        self.api_key = api_key
        self.username = username
        self.password = password
        self.sites: dict[int, Site] = {}
        self._tokens: dict[str, datetime] = {}
        self._issued = 0
        self._lock = threading.RLock()
        self.core = SandboxCore(_MindbodyRoutes(self), now=now)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        return self.core.start("127.0.0.1", port) + PREFIX

    def stop(self) -> None:
        self.core.stop()

    def __enter__(self) -> MindbodySandbox:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        origin = self.core.origin
        if origin is None:
            raise RuntimeError("the sandbox is not started")
        return origin + PREFIX

    @property
    def now(self) -> datetime:
        return self.core.clock.now

    def set_clock(self, now: datetime) -> None:
        self.core.clock.set(now)

    def advance_clock(self, delta: timedelta) -> None:
        self.core.clock.advance(delta)

    # -- what a studio holds --------------------------------------------------------------
    def add_site(
        self, site_id: int | str, time_zone: str = "America/New_York", *, name: str = ""
    ) -> Site:
        """`time_zone`: what GET /site/sites answers; an IANA name, or a Windows name whose
        IANA zone is given as "Eastern Standard Time=America/New_York"."""
        shown, _, iana = time_zone.partition("=")
        try:
            zone = ZoneInfo(iana or shown)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time_zone: unknown time zone {time_zone!r}") from None
        number = int(site_id)
        with self._lock:
            site = Site(number, name or f"Sandbox Studio {number}", zone, shown)
            self.sites[number] = site
            return site

    def site(self, site_id: int | str) -> Site:
        try:
            return self.sites[int(site_id)]
        except (KeyError, ValueError):
            raise KeyError(f"no site {site_id} in the sandbox") from None

    def generate_studio(self, site_id: int | str, count: int, *, seed: int = 0) -> None:
        site = self.site(site_id)
        with self._lock:
            studio = generate_studio(
                count, self.now, seed=seed, first_unique_id=site.next_unique_id
            )
            for client in studio.clients:
                site.clients[client["UniqueId"]] = client
            site.contracts.update(studio.contracts)
            site.services.extend(studio.services)
            site.visits.update(studio.visits)
            site.staff = studio.staff
            site.next_unique_id += count

    def add_client(self, site_id: int | str, record: Record) -> None:
        """Upserts a raw client by `UniqueId` (stored as given)."""
        site = self.site(site_id)
        with self._lock:
            site.clients[int(record["UniqueId"])] = copy.deepcopy(record)
            site.next_unique_id = max(site.next_unique_id, int(record["UniqueId"]) + 1)

    def modify_client(self, site_id: int | str, unique_id: int, changes: Mapping[str, Any]) -> None:
        site = self.site(site_id)
        with self._lock:
            client = site.clients[unique_id]
            client.update(changes)
            client["LastModifiedDateTime"] = mb_instant(self.now)

    def add_contract(self, site_id: int | str, unique_id: int, record: Record) -> None:
        """Sells a contract: the client's record is modified too [guess, as the provider
        assumes: docs/providers/mindbody.md]."""
        site = self.site(site_id)
        with self._lock:
            site.contracts.setdefault(unique_id, []).append(copy.deepcopy(record))
            site.clients[unique_id]["LastModifiedDateTime"] = mb_instant(self.now)

    def clients(self, site_id: int | str) -> list[Record]:
        with self._lock:
            site = self.site(site_id)
            return [copy.deepcopy(site.clients[k]) for k in sorted(site.clients)]

    def contracts(self, site_id: int | str, unique_id: int) -> list[Record]:
        with self._lock:
            return copy.deepcopy(self.site(site_id).contracts.get(unique_id, []))

    def contact_logs(self, site_id: int | str) -> list[Record]:
        with self._lock:
            return copy.deepcopy(self.site(site_id).contact_logs)

    def revoke_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # -- HTTP: tokens ---------------------------------------------------------------------
    def token_valid(self, header: str | None) -> bool:
        token = (header or "").removeprefix("Bearer ").strip()
        with self._lock:
            expires = self._tokens.get(token)
        return expires is not None and self.now < expires

    def issue(self, request: Request, site: Site) -> Response:
        body = request.json_object()
        if body.get("Username") != self.username or body.get("Password") != self.password:
            return mindbody_error(
                HTTPStatus.UNAUTHORIZED, "Invalid username or password.", "InvalidCredentials"
            )
        with self._lock:
            self._issued += 1
            token = f"sandbox-token-{self._issued}"
            expires = self.now + TOKEN_LIFETIME
            self._tokens[token] = expires
        return json_response(
            {
                "TokenType": "Bearer",
                "AccessToken": token,
                "Expires": mb_instant(expires),
                "User": {"Id": 1, "FirstName": "Sandbox", "LastName": "Staff", "Type": "Staff"},
            }
        )

    # -- HTTP: reads ----------------------------------------------------------------------
    def get_clients(self, request: Request, site: Site) -> Response:
        query = request.query
        records = [site.clients[k] for k in sorted(site.clients)]
        if not _flag(query, "request.includeInactive", False):
            records = [r for r in records if r.get("Active") is not False]
        prospect = _flag(query, "request.isProspect", None)
        if prospect is not None:
            records = [r for r in records if bool(r.get("IsProspect")) is prospect]
        since = _instant(query, "request.lastModifiedDate")
        if since is not None:
            records = [r for r in records if _at(r.get("LastModifiedDateTime")) >= since]
        client_ids = _list(query, "request.clientIDs")
        unique_ids = _list(query, "request.uniqueIds")
        if client_ids and unique_ids:
            raise BadRequest("request.uniqueIds cannot be used with request.clientIDs")
        if len(client_ids) > MAX_CLIENT_IDS:
            raise BadRequest(f"request.clientIDs: at most {MAX_CLIENT_IDS} clients at once")
        if client_ids:
            records = [r for r in records if str(r.get("Id")) in client_ids]
        if unique_ids:
            records = [r for r in records if str(r.get("UniqueId")) in unique_ids]
        return self._page(request, "Clients", records)

    def get_contracts(self, request: Request, site: Site) -> Response:
        unique_id = self._client_of(request, site, "request.uniqueClientId", "request.clientId")
        return self._page(request, "Contracts", site.contracts.get(unique_id, []))

    def get_services(self, request: Request, site: Site) -> Response:
        query = request.query
        unique_ids = _list(query, "request.uniqueClientIds") or _list(
            query, "request.uniqueClientId"
        )
        client_ids = set(_list(query, "request.clientId") or _list(query, "request.clientIds"))
        if unique_ids:
            client_ids = {
                str(site.clients[int(u)].get("Id")) for u in unique_ids if _known(site, u)
            }
        elif not client_ids:
            raise BadRequest("give request.clientId, request.clientIds or request.uniqueClientIds")
        # Purchased between startDate and endDate, both defaulting to the site's today.
        today = self.now.astimezone(site.zone).date()
        start = _day(query, "request.startDate", site.zone) or today
        end = _day(query, "request.endDate", site.zone) or today
        on = "ActiveDate" if _flag(query, "request.useActivateDate", False) else "PaymentDate"
        records = [
            r
            for r in site.services
            if str(r.get("ClientID")) in client_ids and start <= _date_of(r.get(on)) <= end
        ]
        return self._page(request, "ClientServices", records)

    def get_visits(self, request: Request, site: Site) -> Response:
        unique_id = self._client_of(request, site, "request.uniqueClientId", "request.clientId")
        query = request.query
        # endDate defaults to today, startDate to the end date (the OpenAPI description).
        end = _instant(query, "request.endDate", site.zone, end_of_day=True)
        if end is None:
            end = _end_of(self.now.astimezone(site.zone).date(), site.zone)
        start = _instant(query, "request.startDate", site.zone)
        if start is None:
            start = _start_of(end.astimezone(site.zone).date(), site.zone)
        records = [
            v for v in site.visits.get(unique_id, []) if start <= _at(v.get("StartDateTime")) <= end
        ]
        return self._page(request, "Visits", records)

    def get_contact_logs(self, request: Request, site: Site) -> Response:
        query = request.query
        client_id = query.get("request.clientId")
        if not client_id:
            raise BadRequest("request.clientId is required")
        start = _instant(query, "request.startDate", site.zone)
        if start is None:
            start = _start_of(self.now.astimezone(site.zone).date(), site.zone)
        end = _instant(query, "request.endDate", site.zone, end_of_day=True)
        if end is None:
            end = _end_of(start.astimezone(site.zone).date(), site.zone)
        records = [
            log
            for log in site.contact_logs
            if log["Client"]["Id"] == client_id and start <= _at(log["CreatedDateTime"]) < end
        ]
        return self._page(request, "ContactLogs", records)

    def get_staff(self, request: Request, site: Site) -> Response:
        ids = set(_list(request.query, "request.staffIds"))
        records = [s for s in site.staff if not ids or str(s.get("Id")) in ids]
        if not self.token_valid(request.headers.get("authorization")):
            records = [{k: s.get(k) for k in PUBLIC_STAFF_FIELDS} for s in records]
        return self._page(request, "StaffMembers", records)

    def get_sites(self, request: Request, site: Site) -> Response:
        wanted = set(_list(request.query, "request.siteIds"))
        records = [
            {
                "Id": s.site_id,
                "Name": s.name,
                "Description": None,
                "TimeZone": s.time_zone,
                "CurrencyIsoCode": "USD",
                "CountryCode": "US",
                "ContactEmail": "studio@example.org",
                "AcceptsVisa": True,
                "AllowsDashboardAccess": True,
            }
            for s in self.sites.values()
            if not wanted or str(s.site_id) in wanted
        ]
        return self._page(request, "Sites", records)

    def get_required_fields(self, request: Request, site: Site) -> Response:
        return json_response({"RequiredClientFields": list(site.required_fields)})

    def get_referral_types(self, request: Request, site: Site) -> Response:
        return json_response({"ReferralTypes": list(site.referral_types)})

    # -- HTTP: writes ---------------------------------------------------------------------
    def add_client_route(self, request: Request, site: Site) -> Response:
        body = request.json_object()
        self._check_required(body, site)
        self._check_duplicate(body, site, None)
        now = mb_instant(self.now)
        with self._lock:
            unique_id = site.next_unique_id
            site.next_unique_id += 1
            record: Record = {
                "UniqueId": unique_id,
                "Id": str(body.get("NewId") or unique_id),
                "Status": "Non-Member",
                "Active": True,
                "IsProspect": bool(body.get("IsProspect", False)),
                **{k: v for k, v in body.items() if k in _CLIENT_FIELDS},
                "CreationDate": now,
                "LastModifiedDateTime": now,
            }
            site.clients[unique_id] = record
        return json_response({"Client": copy.deepcopy(record)})

    def update_client_route(self, request: Request, site: Site) -> Response:
        body = request.json_object()
        changes = body.get("Client")
        if not isinstance(changes, dict) or not changes.get("Id"):
            raise BadRequest("Client.Id is required")
        with self._lock:
            record = next(
                (c for c in site.clients.values() if str(c.get("Id")) == str(changes["Id"])), None
            )
            if record is None:
                return mindbody_error(
                    HTTPStatus.NOT_FOUND, f"Client {changes['Id']} was not found.", "ClientNotFound"
                )
            merged = {**record, **{k: v for k, v in changes.items() if k in _CLIENT_FIELDS}}
            self._check_required(merged, site)
            self._check_duplicate(merged, site, record["UniqueId"])
            merged["LastModifiedDateTime"] = mb_instant(self.now)
            record.clear()
            record.update(merged)
        return json_response({"Client": copy.deepcopy(record)})

    def add_contact_log(self, request: Request, site: Site) -> Response:
        body = request.json_object()
        client_id = body.get("ClientId")
        if not isinstance(client_id, str) or not client_id:
            raise BadRequest("ClientId is required")
        client = next((c for c in site.clients.values() if str(c.get("Id")) == client_id), None)
        if client is None:
            return mindbody_error(
                HTTPStatus.NOT_FOUND, f"Client {client_id} was not found.", "ClientNotFound"
            )
        comments = body.get("Comments") or []
        if not isinstance(comments, list) or not all(isinstance(c, str) for c in comments):
            raise BadRequest("Comments: expected a list of strings")
        staff_id = body.get("AssignedToStaffId")
        assigned = next((s for s in site.staff if s.get("Id") == staff_id), None)
        if staff_id is not None and assigned is None:
            raise BadRequest(f"AssignedToStaffId: no staff member {staff_id}")
        now = mb_instant(self.now)
        with self._lock:
            log_id = site.next_log_id
            site.next_log_id += 1
            log: Record = {
                "Id": log_id,
                "Text": body.get("Text"),
                "CreatedDateTime": now,
                "FollowupByDate": body.get("FollowupByDate"),
                "ContactMethod": body.get("ContactMethod"),
                "ContactName": body.get("ContactName"),
                "Client": {"Id": client_id, "UniqueId": client["UniqueId"]},
                "AssignedTo": {"Id": staff_id} if staff_id is not None else None,
                "Comments": [
                    {"Id": log_id * 100 + n, "Text": text, "CreatedDateTime": now}
                    for n, text in enumerate(comments)
                ],
                "Types": [],
            }
            site.contact_logs.append(log)
        return json_response(copy.deepcopy(log))

    # -- helpers --------------------------------------------------------------------------
    def _page(self, request: Request, key: str, records: list[Record]) -> Response:
        """One page of a list, with the list faults applied (docs/sandbox.md, "Mindbody")."""
        query = request.query
        limit = _int(query, "request.limit", DEFAULT_LIMIT)
        offset = _int(query, "request.offset", 0)
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"request.limit: between 1 and {MAX_LIMIT}")
        page = copy.deepcopy(records[offset : offset + limit])
        resource = request.path.rstrip("/").rsplit("/", 1)[-1]
        if page and self.core.faults.take(resource, has_records=True) is not None:
            # The record's own id is no integer: a record no reader can key or validate.
            page[0]["UniqueId" if key == "Clients" else "Id"] = "broken"
        fault = request.fault
        if fault is not None and fault.kind is FaultKind.SILENT_REJECTION:
            page, records = [], []
        body = json_bytes(
            {
                "PaginationResponse": {
                    "RequestedLimit": limit,
                    "RequestedOffset": offset,
                    "PageSize": len(page),
                    "TotalResults": len(records),
                },
                key: page,
            }
        )
        if fault is not None and fault.kind is FaultKind.UNREADABLE_PAGE:
            body = body[: len(body) // 2]
        return Response(HTTPStatus.OK, body)

    def _client_of(self, request: Request, site: Site, unique_key: str, id_key: str) -> int:
        """The client a per-client read names: UniqueClientId takes precedence over ClientId."""
        unique = request.query.get(unique_key)
        if unique:
            if not unique.isdigit():
                raise BadRequest(f"{unique_key}: expected an integer")
            return int(unique)
        client_id = request.query.get(id_key)
        if not client_id:
            raise BadRequest(f"give {id_key} or {unique_key}")
        for record in site.clients.values():
            if str(record.get("Id")) == client_id:
                return int(record["UniqueId"])
        return -1

    def _check_required(self, body: Mapping[str, Any], site: Site) -> None:
        missing = [
            f for f in ["FirstName", "LastName", *site.required_fields] if body.get(f) in (None, "")
        ]
        if missing:
            raise BadRequest(
                f"{', '.join(dict.fromkeys(missing))}: required for a client at this site"
            )

    def _check_duplicate(self, body: Mapping[str, Any], site: Site, unique_id: int | None) -> None:
        # Since May 2020 Mindbody refuses a second client with the same names and e-mail.
        key = _person_key(body)
        for record in site.clients.values():
            if record["UniqueId"] != unique_id and _person_key(record) == key:
                raise BadRequest(
                    "A client with this first name, last name and email already exists."
                )


# The client fields a write may set (the rest are Mindbody's to keep).
_CLIENT_FIELDS = frozenset(
    {
        "FirstName",
        "MiddleName",
        "LastName",
        "Email",
        "MobilePhone",
        "HomePhone",
        "WorkPhone",
        "AddressLine1",
        "AddressLine2",
        "City",
        "State",
        "PostalCode",
        "Country",
        "BirthDate",
        "Gender",
        "ReferredBy",
        "Notes",
        "IsProspect",
        "SendPromotionalEmails",
        "SendPromotionalTexts",
    }
)


def _person_key(record: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(record.get(k) or "").casefold() for k in ("FirstName", "LastName", "Email"))


def _known(site: Site, unique_id: str) -> bool:
    return unique_id.isdigit() and int(unique_id) in site.clients


def _flag(query: Mapping[str, str], name: str, default: bool | None) -> bool | None:
    value = query.get(name)
    if value is None or value == "":
        return default
    if value.lower() not in ("true", "false"):
        raise BadRequest(f"{name}: expected true or false")
    return value.lower() == "true"


def _list(query: Mapping[str, str], name: str) -> list[str]:
    """An array parameter, comma-separated (repeated parameters reach the core as the last)."""
    value = query.get(name) or ""
    return [part.strip() for part in value.split(",") if part.strip()]


def _parse(value: str, name: str, zone: ZoneInfo | None) -> tuple[datetime, bool]:
    """An instant, and whether it was a bare date. A time without an offset is the site's."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), zone or UTC), True
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name}: expected a date-time such as 2026-05-28T14:30:00Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone or UTC)
    return parsed.astimezone(UTC), False


def _instant(
    query: Mapping[str, str], name: str, zone: ZoneInfo | None = None, *, end_of_day: bool = False
) -> datetime | None:
    value = query.get(name)
    if not value:
        return None
    parsed, bare = _parse(value, name, zone)
    if bare and end_of_day:
        return _end_of(parsed.astimezone(zone or UTC).date(), zone or UTC)
    return parsed


def _day(query: Mapping[str, str], name: str, zone: ZoneInfo) -> date | None:
    value = query.get(name)
    if not value:
        return None
    return _parse(value, name, zone)[0].astimezone(zone).date()


def _start_of(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _end_of(day: date, zone: tzinfo) -> datetime:
    return _start_of(day + timedelta(days=1), zone) - timedelta(microseconds=1)


def _at(value: Any) -> datetime:
    """A stored record's UTC time; a broken one sorts first (never in a window)."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _date_of(value: Any) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return date.min


def _int(query: Mapping[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise BadRequest(f"{name}: expected a whole number of 0 or more")
    return int(value)


SiteHandler = Callable[[Request, Site], Response]


class _MindbodyRoutes:
    """Mindbody's plug-in for the sandbox core (SandboxRoutes)."""

    prefix = PREFIX

    def __init__(self, sandbox: MindbodySandbox) -> None:
        self._sandbox = sandbox

    def _route(self, method: str, path: str, handler: SiteHandler) -> Route:
        # A fault's resource is the endpoint's last path segment: "clients", "issue", "staff".
        return Route(method, path, self._on_site(handler), path.rsplit("/", 1)[-1])

    def routes(self) -> list[Route]:
        s = self._sandbox
        return [
            self._route("POST", "usertoken/issue", s.issue),
            self._route("GET", "client/clients", s.get_clients),
            self._route("GET", "client/clientcontracts", s.get_contracts),
            self._route("GET", "client/clientservices", s.get_services),
            self._route("GET", "client/clientvisits", s.get_visits),
            self._route("GET", "client/contactlogs", s.get_contact_logs),
            self._route("GET", "client/requiredclientfields", s.get_required_fields),
            self._route("GET", "client/clientreferraltypes", s.get_referral_types),
            self._route("POST", "client/addclient", s.add_client_route),
            self._route("POST", "client/updateclient", s.update_client_route),
            self._route("POST", "client/addcontactlog", s.add_contact_log),
            self._route("GET", "staff/staff", s.get_staff),
            self._route("GET", "site/sites", s.get_sites),
        ]

    def _on_site(self, handler: SiteHandler) -> Callable[[Request], Response]:
        def answer(request: Request) -> Response:
            site = self._sandbox.sites.get(int(request.headers["siteid"]))
            if site is None:  # authorize() let only known sites through
                return mindbody_error(HTTPStatus.BAD_REQUEST, "Invalid SiteId.")
            try:
                with self._sandbox._lock:
                    return handler(request, site)
            except BadRequest as refused:
                return mindbody_error(refused.status, refused.message)

        return answer

    def control_routes(self) -> list[Route]:
        return []

    def authorize(self, request: Request) -> Response | None:
        if request.headers.get("api-key") != self._sandbox.api_key:
            return mindbody_error(HTTPStatus.UNAUTHORIZED, "Missing or invalid API-Key header.")
        site_id = request.headers.get("siteid", "")
        if not site_id.lstrip("-").isdigit():
            return mindbody_error(HTTPStatus.BAD_REQUEST, "The SiteId header is required.")
        if int(site_id) not in self._sandbox.sites:
            return mindbody_error(
                HTTPStatus.FORBIDDEN,
                f"The API key is not activated for site {site_id}.",
                "DeniedAccess",
            )
        path = request.path.removeprefix(PREFIX).strip("/")
        if path in TOKEN_PATHS and not self._sandbox.token_valid(
            request.headers.get("authorization")
        ):
            return mindbody_error(
                HTTPStatus.UNAUTHORIZED,
                "This request needs a valid staff user token (Authorization header).",
            )
        return None

    def error_response(self, status: int, message: str) -> Response:
        return mindbody_error(status, message)

    def health(self) -> dict[str, Any]:
        return {"sites": {str(k): len(s.clients) for k, s in self._sandbox.sites.items()}}

    def clock(self) -> dict[str, Any]:
        return {
            "sites": {
                str(k): self._sandbox.now.astimezone(s.zone).isoformat()
                for k, s in self._sandbox.sites.items()
            }
        }
