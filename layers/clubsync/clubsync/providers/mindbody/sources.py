"""Mindbody resources other than clients as `RecordSource`s (docs/providers/mindbody.md):

* employees   <- GET /staff/staff (the whole staff list; Mindbody has no modified filter)
* billing prospects (onboarding) <- GET /client/clients with isProspect
* check-ins   <- visits signed in (GET /client/clientvisits)
* events      <- appointment visits: attended, missed or late-cancelled
* service agreements <- packs (GET /client/clientservices: sessions bought once)

Visits and packs are per client. The fan-out rule: they are read only for the clients modified
in the window (GET /client/clients with lastModifiedDate at the window's start), visits with
the window as their date range, packs 20 clients to a call (`clientIds`). A page of such a
source is one page of changed clients and the dependants read for them, so a paused run
continues at the next page of clients.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from clubsync.domain.activity import BillingCheckIn, BillingEvent, BillingEventAttendee
from clubsync.domain.runs import SyncType
from clubsync.domain.sales import ServiceAgreement
from clubsync.domain.windows import Window
from clubsync.providers.base import InvalidRecord, RawRecord, SourceError, SourcePage
from clubsync.providers.mindbody.client import MindbodyClient, MindbodyError, mindbody_time
from clubsync.providers.mindbody.mapping import map_prospect, map_staff
from clubsync.providers.mindbody.members import (
    CLIENTS_LIST_KEY,
    CLIENTS_PATH,
    describe_validation_error,
    read_client,
)
from clubsync.providers.mindbody.wire import MbClientService, MbStaff, MbVisit

STAFF_PATH = "/staff/staff"
VISITS_PATH = "/client/clientvisits"
SERVICES_PATH = "/client/clientservices"
# Mindbody takes at most 20 client ids in one list parameter (README: clientIDs).
CLIENT_IDS_PER_CALL = 20
# Mindbody's visits and packs default their start to today: history needs an early start.
EARLIEST_VISIT = datetime(2000, 1, 1, tzinfo=UTC)


def _validated(wire: type[BaseModel], record: RawRecord) -> Any:
    try:
        return wire.model_validate(record)
    except ValidationError as error:
        raise InvalidRecord(describe_validation_error(error)) from error


class MindbodyListSource:
    """One Mindbody list read whole, page by page (staff; the site's prospects)."""

    provider = "mindbody"

    def __init__(
        self,
        client: MindbodyClient,
        *,
        path: str,
        list_key: str,
        mapping: Callable[[RawRecord], Any],
        params: dict[str, str] | None = None,
        id_field: str = "Id",
        keep: Callable[[RawRecord], bool] = lambda record: True,
    ) -> None:
        self._client = client
        self.path = path
        self.list_key = list_key
        self._mapping = mapping
        self._params = params or {}
        self._id_field = id_field
        self._keep = keep

    @property
    def request_count(self) -> int:
        return self._client.request_count

    def pages(self, query: Window, start_page: int = 1) -> Iterator[SourcePage]:
        size = self._client.config.page_size
        try:
            for page in self._client.iter_pages(
                self.path, self.list_key, self._params, offset=(start_page - 1) * size
            ):
                number = page.offset // size + 1
                yield SourcePage(
                    number=number,
                    next_page=number + 1 if page.next_offset is not None else None,
                    records=[r for r in page.records if self._keep(r)],
                    raw_bytes=page.raw_bytes,
                )
        except MindbodyError as error:
            raise SourceError(str(error)) from error

    def record_id(self, record: RawRecord) -> str | None:
        return _id(record.get(self._id_field))

    def content(self, record: RawRecord) -> bytes:
        return _canonical(record)

    def translate(self, record: RawRecord) -> Any:
        return self._mapping(record)


def staff_source(client: MindbodyClient, zone: ZoneInfo) -> MindbodyListSource:
    """Every staff member: Mindbody's staff list has no modified filter (and is short)."""
    return MindbodyListSource(
        client,
        path=STAFF_PATH,
        list_key="StaffMembers",
        mapping=lambda r: map_staff(_validated(MbStaff, r), datetime.now(zone).date()),
    )


def billing_prospect_source(client: MindbodyClient, zone: ZoneInfo) -> MindbodyListSource:
    """The site's own prospects, imported once at integration (features/onboarding.py)."""
    return MindbodyListSource(
        client,
        path=CLIENTS_PATH,
        list_key=CLIENTS_LIST_KEY,
        params={"request.isProspect": "true", "request.includeInactive": "true"},
        id_field="UniqueId",
        mapping=lambda r: map_prospect(read_client(r), zone),
        keep=lambda r: r.get("IsProspect") is True,
    )


# -- visits and packs: dependants of the clients changed in the window --------------------------
def visit_checkin(visit: MbVisit, zone: ZoneInfo) -> BillingCheckIn:
    if visit.start_date_time is None:
        raise InvalidRecord("StartDateTime: missing")
    return BillingCheckIn(
        checkin_id=str(visit.id),
        billing_member_id=str(visit.client_unique_id) if visit.client_unique_id else None,
        system_club_id=str(visit.location_id) if visit.location_id is not None else None,
        checked_in_at=visit.start_date_time,
        local_day=visit.start_date_time.astimezone(zone).date(),
        status="signed in",
        station=visit.name or visit.service_name,
    )


def visit_status(visit: MbVisit) -> str:
    """What became of a booking: attended, late-cancelled, missed, or booked (not yet)."""
    if visit.signed_in:
        return "attended"
    if visit.late_cancelled:
        return "late-cancelled"
    if visit.missed:
        return "missed"
    return "booked"


def visit_event(visit: MbVisit, zone: ZoneInfo) -> BillingEvent:
    if visit.start_date_time is None:
        raise InvalidRecord("StartDateTime: missing")
    if visit.client_unique_id is None:
        raise InvalidRecord("ClientUniqueId: missing, the visit belongs to no one we know")
    status = visit_status(visit)
    minutes = None
    if visit.end_date_time is not None:
        minutes = int((visit.end_date_time - visit.start_date_time).total_seconds() // 60) or None
    return BillingEvent(
        billing_event_id=str(visit.appointment_id or visit.id),
        event_name=visit.service_name or visit.name,
        starts_at=visit.start_date_time,
        local_day=visit.start_date_time.astimezone(zone).date(),
        duration_minutes=minutes,
        status=visit.appointment_status or status,
        billing_employee_id=str(visit.staff_id) if visit.staff_id is not None else None,
        attendees=(
            BillingEventAttendee(
                billing_member_id=str(visit.client_unique_id),
                attended={"attended": True, "missed": False, "late-cancelled": False}.get(status),
            ),
        ),
    )


def pack_agreement(
    pack: MbClientService, unique_id: str, location_id: str, today: date
) -> ServiceAgreement:
    name = pack.name or f"Mindbody service {pack.product_id or pack.id}"
    return ServiceAgreement(
        system_id=f"pack-{pack.id}",
        location_id=location_id,
        billing_member_id=unique_id,
        unit_qty=pack.count,
        description=name if pack.remaining is None else f"{name} ({pack.remaining} left)",
        agreement_name=pack.name,
        is_active=bool(pack.current)
        and not pack.returned
        and (pack.expiration_date is None or pack.expiration_date >= today)
        and (pack.remaining is None or pack.remaining > 0),
        sale_date=pack.payment_date,
        start_date=pack.active_date,
        end_date=pack.expiration_date,
        is_pt="personal training" in name.casefold() or name.casefold().startswith("pt "),
    )


class ChangedClientsSource:
    """A resource read per client, for the clients modified in the window only."""

    provider = "mindbody"

    def __init__(
        self,
        client: MindbodyClient,
        zone: ZoneInfo,
        *,
        read: Callable[[MindbodyClient, list[RawRecord], Window], list[RawRecord]],
        mapping: Callable[[RawRecord], Any],
        keep: Callable[[RawRecord], bool] = lambda record: True,
    ) -> None:
        self._client = client
        self.zone = zone
        self._read = read
        self._mapping = mapping
        self._keep = keep

    @property
    def request_count(self) -> int:
        return self._client.request_count

    def pages(self, query: Window, start_page: int = 1) -> Iterator[SourcePage]:
        if query.start is None:
            # Every client's dependants would be one call per client of the site: refuse.
            raise SourceError(
                "Mindbody visits and packs are read for the clients modified in a window; "
                "this sync has no start"
            )
        params = {
            "request.lastModifiedDate": mindbody_time(query.start),
            "request.includeInactive": "true",
        }
        size = self._client.config.page_size
        try:
            for page in self._client.iter_pages(
                CLIENTS_PATH, CLIENTS_LIST_KEY, params, offset=(start_page - 1) * size
            ):
                number = page.offset // size + 1
                clients = [c for c in page.records if _id(c.get("UniqueId")) is not None]
                records = [r for r in self._read(self._client, clients, query) if self._keep(r)]
                yield SourcePage(
                    number=number,
                    next_page=number + 1 if page.next_offset is not None else None,
                    records=records,
                    raw_bytes=page.raw_bytes,
                )
        except MindbodyError as error:
            raise SourceError(str(error)) from error

    def record_id(self, record: RawRecord) -> str | None:
        return _id(record.get("Id"))

    def content(self, record: RawRecord) -> bytes:
        return _canonical(record)

    def translate(self, record: RawRecord) -> Any:
        return self._mapping(record)


def read_visits(
    client: MindbodyClient, clients: list[RawRecord], window: Window
) -> list[RawRecord]:
    params = {"request.startDate": mindbody_time(window.start or EARLIEST_VISIT)}
    if window.end is not None:
        params["request.endDate"] = mindbody_time(window.end)
    visits: list[RawRecord] = []
    for record in clients:
        unique_id = str(record["UniqueId"])
        for visit in client.get_all(
            VISITS_PATH, "Visits", {**params, "request.uniqueClientId": unique_id}
        ):
            # Keyed on the client we asked for: a visit without it still belongs to them.
            visits.append({"ClientUniqueId": record["UniqueId"], **visit})
    return visits


def read_packs(client: MindbodyClient, clients: list[RawRecord], window: Window) -> list[RawRecord]:
    packs: list[RawRecord] = []
    for start in range(0, len(clients), CLIENT_IDS_PER_CALL):
        batch = clients[start : start + CLIENT_IDS_PER_CALL]
        unique_by_id = {str(c.get("Id")): c["UniqueId"] for c in batch if c.get("Id")}
        found = client.get_all(
            SERVICES_PATH,
            "ClientServices",
            {
                "request.uniqueClientIds": ",".join(str(c["UniqueId"]) for c in batch),
                # Mindbody lists packs purchased today unless told otherwise.
                "request.startDate": mindbody_time(EARLIEST_VISIT),
            },
        )
        for pack in found:
            owner = unique_by_id.get(str(pack.get("ClientID")))
            # A pack Mindbody answers for a client we did not ask about is not ours to place.
            if owner is not None:
                packs.append({**pack, "ClientUniqueId": owner})
    return packs


def mindbody_record_source(
    sync_type: SyncType, client: MindbodyClient, zone: ZoneInfo, location_id: str
) -> Any:
    if sync_type is SyncType.EMPLOYEES:
        return staff_source(client, zone)
    if sync_type is SyncType.CHECKINS:
        return ChangedClientsSource(
            client,
            zone,
            read=read_visits,
            mapping=lambda r: visit_checkin(_validated(MbVisit, r), zone),
            keep=lambda r: r.get("SignedIn") is True,
        )
    if sync_type is SyncType.EVENTS:
        return ChangedClientsSource(
            client,
            zone,
            read=read_visits,
            mapping=lambda r: visit_event(_validated(MbVisit, r), zone),
            keep=lambda r: r.get("AppointmentId") not in (None, 0),
        )
    if sync_type is SyncType.SERVICE_AGREEMENTS:
        return ChangedClientsSource(
            client,
            zone,
            read=read_packs,
            mapping=lambda r: pack_agreement(
                _validated(MbClientService, r),
                str(r["ClientUniqueId"]),
                location_id,
                datetime.now(zone).date(),
            ),
        )
    raise ValueError(f"no Mindbody record source for sync type {sync_type.value}")


def _id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return str(value).strip() or None


def _canonical(record: RawRecord) -> bytes:
    return json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
