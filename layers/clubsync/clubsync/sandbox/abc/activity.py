"""Generated ABC records of every resource besides members, consistent with a club's members
(every memberId referenced exists): employees, event types, calendar events, check-ins, POS
transactions, recurring services and campaigns. Shapes follow reference/abc-api.md, quirks
included (strings everywhere, a one-element list arriving as a bare object, club-local
timestamps without zone). Names and contacts are fictional.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Literal

from clubsync.sandbox.abc.generator import format_date, format_timestamp

__all__ = ["ACTIVITY_RESOURCES", "EVENT_MEMBER_SHAPES", "EventMembersShape", "generate_activity"]

# How an event's one attendee is written. "array": `members: [{memberId, attendedStatus}]`, the
# shape two public clients read (abc-api.md) and the default. "bare": the one-element list as a
# bare object, the XML-to-JSON quirk the real API may still show. "nested":
# `members: {member: {...}}`, the XML-shaped form this sandbox served before issue 12 (kept so
# clients that handle it stay tested; with it the default output is byte for byte the old one).
EventMembersShape = Literal["array", "bare", "nested"]
EVENT_MEMBER_SHAPES: tuple[EventMembersShape, ...] = ("array", "bare", "nested")


def _event_members(attendee: dict[str, str], shape: EventMembersShape) -> Any:
    if shape == "bare":
        return attendee
    if shape == "nested":
        return {"member": attendee}
    return [attendee]


ACTIVITY_RESOURCES = (
    "employees",
    "eventTypes",
    "events",
    "checkins",
    "transactions",
    "recurringServices",
)

_EMPLOYEES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    # first, last, departments, commission level
    ("Avery", "Stone", ("Trainer",), "2"),
    ("Blake", "Moreno", ("Front Desk",), "1"),
    ("Casey", "Nguyen", ("Sales", "Trainer"), "3"),
    ("Drew", "Patel", ("Sales",), "2"),
    ("Emery", "Lopez", ("Trainer",), "0"),  # commission level 0: not synced
    ("Finley", "Brooks", ("front desk",), "1"),  # wrong case: not on the list
    ("Gray", "Holt", ("Maintenance",), "1"),  # department not on the list
    ("Harper", "Quinn", ("Management",), "4"),
)
_EVENT_TYPES = (
    ("1", "PT Session", "PT"),
    ("2", "Orientation", "ORT"),
    ("3", "Fitness Assessment", "FA"),
    ("4", "Fitness Consultation", "FC"),
    ("5", "Group Cycling", "CLASS"),  # not mapped: skipped by the sync
)
_PRODUCTS = (
    ("Water Bottle", "012345678905", "Pro Shop", "12.00"),
    ("Protein Bar", "036000291452", "Pro Shop", "3.50"),
    ("Towel Service", "", "Amenities", "5.00"),  # profit center not configured
)
_FREQUENCIES = ("Monthly", "Bi-Weekly", "Weekly", "Paid in Full")
# Employees beyond the fixed list (`employees=N`): names, departments and commission levels that
# pass the employee sync's rules with the default department list, except a few on purpose.
_FIRST_NAMES = (
    "Alex",
    "Bailey",
    "Cameron",
    "Dakota",
    "Elliot",
    "Frankie",
    "Jordan",
    "Kendall",
    "Logan",
    "Morgan",
    "Parker",
    "Reese",
    "Riley",
    "Rowan",
    "Sage",
    "Skyler",
    "Taylor",
    "Quinn",
)
_LAST_NAMES = (
    "Adams",
    "Baker",
    "Carter",
    "Diaz",
    "Evans",
    "Foster",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Kim",
    "Larsen",
    "Meyer",
    "Novak",
    "Ortiz",
    "Price",
    "Reyes",
    "Silva",
    "Turner",
    "Walsh",
)
_EXTRA_DEPARTMENTS: tuple[tuple[str, ...], ...] = (
    ("Trainer",),
    ("Trainer",),
    ("Front Desk",),
    ("Sales",),
    ("Sales", "Trainer"),
    ("Management",),
)


def _employee(index: int, club_number: str, rng: random.Random) -> dict[str, Any]:
    first, last, departments, commission = _EMPLOYEES[index % len(_EMPLOYEES)]
    department_list: Any = [{"name": name} for name in departments]
    if len(department_list) == 1 and rng.random() < 0.5:
        department_list = department_list[0]  # XML-shaped: one element as a bare object
    return {
        "employeeId": f"{club_number}-emp-{index + 1:03d}",
        "barcode": f"E{index + 1:06d}",
        "personal": {"firstName": first, "lastName": last, "birthDate": "1990-01-01"},
        "contact": {
            "email": f"{first.lower()}.{last.lower()}@example.com",
            "cellPhone": f"555010{index + 1:04d}",
            "city": "Springfield",
            "state": "IL",
        },
        "employment": {
            "employeeStatus": "Inactive" if index == 3 else "Active",
            "departments": {"department": department_list},
            "commissionLevel": commission,
        },
    }


def _extra_employee(
    index: int, club_number: str, rng: random.Random
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Employee `index` (0-based, past the fixed list) and its departments: one in 20 has
    commission level 0 and one in 15 is inactive; every one has a first and last name and a
    department on the default list (domain/settings.py DEFAULT_DEPARTMENTS), so all but the
    commission level 0 ones are added by the employee sync."""
    first = _FIRST_NAMES[index % len(_FIRST_NAMES)]
    last = _LAST_NAMES[(index // len(_FIRST_NAMES)) % len(_LAST_NAMES)]
    departments = _EXTRA_DEPARTMENTS[rng.randrange(len(_EXTRA_DEPARTMENTS))]
    department_list: Any = [{"name": name} for name in departments]
    if len(department_list) == 1 and rng.random() < 0.5:
        department_list = department_list[0]  # XML-shaped: one element as a bare object
    commission = "0" if index % 20 == 19 else str(rng.randint(1, 4))
    record = {
        "employeeId": f"{club_number}-emp-{index + 1:03d}",
        "barcode": f"E{index + 1:06d}",
        "personal": {"firstName": first, "lastName": last, "birthDate": "1990-01-01"},
        "contact": {
            # The number keeps contact data unique: one CRM employee per account.
            "email": f"{first.lower()}.{last.lower()}.{index + 1}@example.com",
            "cellPhone": f"555{index + 1:07d}",
            "city": "Springfield",
            "state": "IL",
        },
        "employment": {
            "employeeStatus": "Inactive" if index % 15 == 14 else "Active",
            "departments": {"department": department_list},
            "commissionLevel": commission,
        },
    }
    return record, departments


def generate_activity(
    members: list[dict[str, Any]],
    *,
    club_number: str,
    now_local: datetime,
    seed: int = 0,
    employees: int | None = None,
    checkin_days: int = 3,
    event_days_back: int = 35,
    event_days_forward: int = 35,
    pos_days: int = 40,
    event_members: EventMembersShape = "array",
) -> dict[str, list[dict[str, Any]]]:
    """Records of every other resource for a club whose members are `members` (naive local).

    `employees`: how many, 4 to 998 (None: the fixed list of 8 with its rule-breaking cases;
    fewer: the first of that list; more: the list plus employees that pass the rules, their
    trainers owning events too; `{club}-emp-999` stays the unknown owner of some events).
    `checkin_days`: days of check-ins up to today (each member checks in on a day with
    probability 0.4). `event_days_back` / `event_days_forward`: calendar events from that many
    days before today to that many after (about one event for every other member).
    `pos_days`: POS transactions over today and that many days before. `event_members`: how an
    event's attendee list is written (`EventMembersShape`). The defaults give the records this
    generator gave before these parameters existed, except that event attendees are an array
    ("nested" gives the old records exactly)."""
    if event_members not in EVENT_MEMBER_SHAPES:
        raise ValueError(
            f"event_members must be one of {EVENT_MEMBER_SHAPES}, got {event_members!r}"
        )
    for name, value in (
        ("checkin_days", checkin_days),
        ("event_days_back", event_days_back),
        ("event_days_forward", event_days_forward),
        ("pos_days", pos_days),
    ):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    if employees is not None and not 4 <= employees <= 998:
        raise ValueError(f"employees must be from 4 to 998, got {employees}")
    rng = random.Random(f"activity-{seed}-{club_number}")
    fixed = len(_EMPLOYEES) if employees is None else min(employees, len(_EMPLOYEES))
    employee_records = [_employee(i, club_number, rng) for i in range(fixed)]
    trainers = [e["employeeId"] for e in employee_records[:4]]
    if employees is not None and employees > len(_EMPLOYEES):
        extra_rng = random.Random(f"activity-employees-{seed}-{club_number}")
        for index in range(len(_EMPLOYEES), employees):
            record, departments = _extra_employee(index, club_number, extra_rng)
            employee_records.append(record)
            if "Trainer" in departments and record["employment"]["commissionLevel"] != "0":
                trainers.append(record["employeeId"])
    member_ids = [m["memberId"] for m in members if isinstance(m.get("memberId"), str)]
    event_types = [
        {"eventTypeId": type_id, "eventName": name, "category": category}
        for type_id, name, category in _EVENT_TYPES
    ]
    events: list[dict[str, Any]] = []
    checkins: list[dict[str, Any]] = []
    transactions: list[dict[str, Any]] = []
    services: list[dict[str, Any]] = []
    today = now_local.replace(hour=0, minute=0, second=0, microsecond=0)
    for index, member_id in enumerate(member_ids):
        # check-ins over the last `checkin_days` days
        for day_back in range(checkin_days):
            if rng.random() < 0.4:
                moment = today - timedelta(days=day_back) + timedelta(hours=rng.randint(6, 20))
                if moment <= now_local:
                    checkins.append(
                        {
                            "checkInId": f"{club_number}-ci-{len(checkins) + 1:06d}",
                            "checkInTimestamp": format_timestamp(moment),
                            "checkInStatus": "Allowed",
                            "stationName": "Front Desk",
                            "member": {"memberId": member_id, "homeClub": club_number},
                        }
                    )
        # events from last month to next month
        if rng.random() < 0.5:
            type_id, name, _ = _EVENT_TYPES[rng.randrange(len(_EVENT_TYPES))]
            day = rng.randint(-event_days_back, event_days_forward)
            moment = today + timedelta(days=day, hours=rng.randint(7, 19))
            past = moment < now_local
            owner = rng.choice(trainers) if rng.random() < 0.9 else f"{club_number}-emp-999"
            events.append(
                {
                    "eventId": f"{club_number}-ev-{len(events) + 1:06d}",
                    "eventTypeId": type_id,
                    "eventName": name,
                    "category": "Appointment",
                    "eventTimestamp": format_timestamp(moment),
                    "status": "Completed" if past else "Scheduled",
                    "duration": "60",
                    "employeeId": owner,
                    "modifiedTimestamp": format_timestamp(min(moment, now_local)),
                    "members": _event_members(
                        {
                            "memberId": member_id,
                            "attendedStatus": ("Attended" if rng.random() < 0.7 else "No Show")
                            if past
                            else "",
                        },
                        event_members,
                    ),
                }
            )
        # POS transactions over the last `pos_days` days
        if rng.random() < 0.3:
            moment = today - timedelta(days=rng.randint(0, pos_days)) + timedelta(hours=10)
            moment = min(moment, now_local)
            items: list[dict[str, Any]] = []
            if rng.random() < 0.5:
                items.append(
                    {
                        "itemId": f"{club_number}-it-{len(transactions) + 1:06d}-pt",
                        "name": "PT 5 Pack",
                        "upc": "",
                        "profitCenter": "Personal Training",
                        "quantity": "1",
                        "packageQuantity": "5",
                        "unitPrice": "250.00",
                        "subtotal": "250.00",
                        "tax": "0.00",
                        "sale": "true",
                    }
                )
            name, upc, center, price = _PRODUCTS[rng.randrange(len(_PRODUCTS))]
            items.append(
                {
                    "itemId": f"{club_number}-it-{len(transactions) + 1:06d}-p",
                    "name": name,
                    "upc": upc,
                    "profitCenter": center,
                    "quantity": "1",
                    "unitPrice": price,
                    "subtotal": price,
                    "tax": "0.50",
                    "sale": "true",
                }
            )
            transactions.append(
                {
                    "transactionId": f"{club_number}-tx-{len(transactions) + 1:06d}",
                    "transactionTimestamp": format_timestamp(moment),
                    "memberId": member_id,
                    "employeeId": employee_records[1]["employeeId"],
                    "receiptNumber": f"R{len(transactions) + 1:07d}",
                    "return": "false",
                    "items": {"item": items[0] if len(items) == 1 else items},
                }
            )
        # recurring services: some sold recently, some long ago
        if index % 4 == 0:
            sold = today - timedelta(days=rng.choice((3, 12, 25, 60, 200)))
            modified = min(sold + timedelta(days=rng.randint(0, 90)), now_local)
            frequency = rng.choice(_FREQUENCIES)
            services.append(
                {
                    "recurringServiceId": f"{club_number}-rs-{len(services) + 1:06d}",
                    "memberId": member_id,
                    "salesPersonId": employee_records[3]["employeeId"],
                    "serviceEmployeeId": trainers[0],
                    "totalPeriods": "12",
                    "invoiceTotal": "99.00",
                    "serviceItem": "Personal Training" if rng.random() < 0.6 else "Tanning",
                    "recurringTypeDesc": f"{frequency} Draft",
                    "autoRenew": "true",
                    "recurringServiceStatus": "Active" if rng.random() < 0.8 else "Inactive",
                    "frequency": frequency,
                    "lastModifiedTimestamp": format_timestamp(modified),
                    "recurringServiceDates": {
                        "saleDate": format_date(sold.date()),
                        "firstBillingDate": format_date((sold + timedelta(days=30)).date()),
                        "finalBillingDate": format_date((sold + timedelta(days=365)).date()),
                    },
                }
            )
    return {
        "employees": employee_records,
        "eventTypes": event_types,
        "events": events,
        "checkins": checkins,
        "transactions": transactions,
        "recurringServices": services,
    }
