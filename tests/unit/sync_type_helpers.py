"""Builders of ABC-shaped records of the other sync types, and a runner over memory tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from clubsync.domain.runs import RunRecord, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.engine.sync_types import record_engine
from clubsync.providers.abc.sources import abc_record_source
from clubsync.resources.members import MemberSync
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository
from tests.conftest import abc_member
from tests.fakes import ListMemberSource, ListRecordSource

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 21:00 on 2026-11-21 in Chicago


def employee(
    employee_id: str,
    first: str = "Avery",
    last: str = "Stone",
    departments: Any = ("Trainer",),
    *,
    status: str = "Active",
    commission: str | None = "2",
    email: str | None = None,
    city: str = "Springfield",
) -> dict[str, Any]:
    employment: dict[str, Any] = {
        "employeeStatus": status,
        "departments": {"department": [{"name": d} for d in departments]},
    }
    if commission is not None:
        employment["commissionLevel"] = commission
    return {
        "employeeId": employee_id,
        "personal": {"firstName": first, "lastName": last},
        "contact": {
            "email": email or f"{first.lower()}.{last.lower()}@example.com",
            "city": city,
        },
        "employment": employment,
    }


def event(
    event_id: str,
    *,
    name: str = "PT Session",
    when: str = "2026-11-21 10:00:00",
    employee_id: str = "e1",
    member_id: str = "m1",
    attended: str = "",
) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "eventName": name,
        "eventTimestamp": when,
        "status": "Scheduled",
        "duration": "45",
        "employeeId": employee_id,
        "modifiedTimestamp": "2026-11-20 10:00:00",
        "members": [{"memberId": member_id, "attendedStatus": attended}],
    }


def checkin(
    checkin_id: str, member_id: str = "m1", when: str = "2026-11-21 09:55:00"
) -> dict[str, Any]:
    return {
        "checkInId": checkin_id,
        "checkInTimestamp": when,
        "checkInStatus": "Allowed",
        "member": {"memberId": member_id, "homeClub": "0451"},
    }


def pos(
    transaction_id: str, items: list[dict[str, Any]], member_id: str = "m1", **extra: Any
) -> dict[str, Any]:
    return {
        "transactionId": transaction_id,
        "transactionTimestamp": "2026-11-20 12:00:00",
        "memberId": member_id,
        "employeeId": "e1",
        "receiptNumber": "R1",
        "items": {"item": items},
        **extra,
    }


def pos_item(
    item_id: str, name: str, center: str, upc: str = "", qty: str = "1", **extra: Any
) -> dict[str, Any]:
    return {
        "itemId": item_id,
        "name": name,
        "upc": upc,
        "profitCenter": center,
        "quantity": qty,
        **extra,
    }


def service(
    service_id: str,
    member_id: str = "m1",
    *,
    item: str = "Personal Training",
    status: str = "Active",
    frequency: str = "Monthly",
    sale: str = "2026-11-10",
) -> dict[str, Any]:
    return {
        "recurringServiceId": service_id,
        "memberId": member_id,
        "serviceItem": item,
        "recurringTypeDesc": "Monthly Draft",
        "recurringServiceStatus": status,
        "frequency": frequency,
        "totalPeriods": "12",
        "invoiceTotal": "99.00",
        "recurringServiceDates": {"saleDate": sale, "firstBillingDate": "2026-12-10"},
    }


def sync_members(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    member_ids: tuple[str, ...] = ("m1",),
) -> None:
    records = [
        abc_member(
            member_id,
            personal__email=f"{member_id}@example.org",
            personal__mobilePhone=f"55501{index:05d}",
            personal__primaryPhone="",
            personal__firstName=f"P{member_id}",
            agreement__agreementNumber=f"{index:05d}",
        )
        for index, member_id in enumerate(member_ids, start=1)
    ]
    source = ListMemberSource(records, settings.zone)
    MemberSync(settings, source, entities, state, clock=lambda: NOW).run(SyncKind.FULL, NOW)


def source_for(
    sync_type: SyncType, settings: LocationSettings, records: list[dict[str, Any]]
) -> ListRecordSource:
    return ListRecordSource(abc_record_source(sync_type, None, settings), records)


def run_type(
    sync_type: SyncType,
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    records: list[dict[str, Any]] | ListRecordSource,
    *,
    now: datetime = NOW,
    kind: SyncKind = SyncKind.FULL,
) -> RunRecord:
    source = (
        records
        if isinstance(records, ListRecordSource)
        else source_for(sync_type, settings, records)
    )
    engine = record_engine(
        sync_type,
        settings=settings,
        source=source,
        entities=entities,
        state=state,
        clock=lambda: now,
    )
    return engine.run(kind, now)
