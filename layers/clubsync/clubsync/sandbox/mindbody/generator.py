"""Generated Mindbody studios: clients with contracts, packs and visits, and staff, shaped as
Mindbody Public API v6 answers them (PascalCase; client and visit times UTC with Z; contract
and pack dates as midnight date-times without offset, as Mindbody writes them).

Deterministic for a seed and a clock. Everything is made up: names from Faker, e-mails on
example.org/.com/.net, phones in the 555-010-01xx range.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from faker import Faker

Record = dict[str, Any]

# Mindbody's client statuses (ClientWithSuspensionInfo.Status), with the share of each in a
# generated studio. Prospects are Non-Members with IsProspect.
STATUS_WEIGHTS = {
    "Active": 55,
    "Non-Member": 20,
    "Expired": 10,
    "Terminated": 7,
    "Suspended": 3,
    "Declined": 1,
}
PROSPECT_SHARE = 0.08
# Of the Non-Members that are not prospects: this share holds a contract that starts later.
FUTURE_CONTRACT_SHARE = 0.3
PACK_SHARE = 0.3
FIRST_UNIQUE_ID = 100_001
FIRST_STAFF_ID = 1
FIRST_SALE_ID = 50_001
FIRST_PACK_ID = 70_001
FIRST_VISIT_ID = 900_001
LOCATION_ID = 1

CONTRACTS = [(7, "Unlimited Monthly"), (8, "8 Classes a Month"), (9, "Annual Unlimited")]
PACKS = [(301, "10 Class Pack", 10), (302, "PT 5 Sessions", 5), (303, "Intro 3 Classes", 3)]
CLASSES = [(11, "Vinyasa Flow"), (12, "HIIT 45"), (13, "Pilates Mat"), (14, "Spin")]
APPOINTMENTS = [(21, "Personal Training 60"), (22, "Massage 50")]
EMAIL_DOMAINS = ("example.org", "example.com", "example.net")


def mb_instant(value: datetime) -> str:
    """Client and visit times: UTC with Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mb_day(value: date) -> str:
    """Contract and pack dates: a midnight date-time without offset."""
    return f"{value.isoformat()}T00:00:00"


@dataclass
class Studio:
    clients: list[Record] = field(default_factory=list)
    contracts: dict[int, list[Record]] = field(default_factory=dict)  # by UniqueId
    services: list[Record] = field(default_factory=list)
    visits: dict[int, list[Record]] = field(default_factory=dict)  # by UniqueId
    staff: list[Record] = field(default_factory=list)


def generate_studio(
    count: int, now: datetime, *, seed: int = 0, first_unique_id: int = FIRST_UNIQUE_ID
) -> Studio:
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    studio = Studio(staff=_staff(rng, fake, now))
    today = now.astimezone(UTC).date()
    sale_id, pack_id, visit_id = FIRST_SALE_ID, FIRST_PACK_ID, FIRST_VISIT_ID
    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    for n in range(count):
        unique_id = first_unique_id + n
        prospect = rng.random() < PROSPECT_SHARE
        status = "Non-Member" if prospect else rng.choices(statuses, weights)[0]
        client = _client(rng, fake, unique_id, status, prospect, now, n)
        studio.clients.append(client)
        contracts: list[Record] = []
        if status in ("Active", "Suspended"):
            start = today - timedelta(days=rng.randint(10, 700))
            contracts.append(_contract(rng, sale_id, start, start + timedelta(days=365)))
        elif status in ("Expired", "Declined"):
            end = today - timedelta(days=rng.randint(5, 300))
            contracts.append(_contract(rng, sale_id, end - timedelta(days=365), end))
        elif status == "Terminated":
            start = today - timedelta(days=rng.randint(100, 700))
            contract = _contract(rng, sale_id, start, start + timedelta(days=365))
            contract["TerminationDate"] = mb_day(start + timedelta(days=rng.randint(30, 90)))
            contract["AutopayStatus"] = "Inactive"
            contracts.append(contract)
        elif not prospect and rng.random() < FUTURE_CONTRACT_SHARE:
            # Sold today, starting later: the Non-Member who is a member all the same.
            start = today + timedelta(days=rng.randint(3, 30))
            contract = _contract(rng, sale_id, start, start + timedelta(days=365))
            contract["AgreementDate"] = mb_day(today)
            contracts.append(contract)
        if contracts:
            studio.contracts[unique_id] = contracts
            sale_id += len(contracts)
        if not prospect and rng.random() < PACK_SHARE:
            studio.services.append(_pack(rng, pack_id, client["Id"], today))
            pack_id += 1
        if not prospect and status != "Terminated":
            visits = _visits(rng, visit_id, unique_id, client["Id"], studio.staff, now)
            if visits:
                studio.visits[unique_id] = visits
                visit_id += len(visits)
    return studio


def _phone(rng: random.Random) -> str:
    return f"555010{rng.randint(100, 199):04d}"


def _client(
    rng: random.Random,
    fake: Faker,
    unique_id: int,
    status: str,
    prospect: bool,
    now: datetime,
    index: int,
) -> Record:
    first, last = fake.first_name(), fake.last_name()
    created = now - timedelta(days=rng.randint(1, 730), seconds=rng.randint(0, 86_399))
    recent = rng.random() < 0.4
    modified = now - timedelta(seconds=rng.randint(60, 7 * 86_400 if recent else 300 * 86_400))
    modified = max(modified, created)
    birth = date(1950, 1, 1) + timedelta(days=rng.randint(0, 20_000))
    return {
        "UniqueId": unique_id,
        # The barcode staff see and may change; generated ones are the UniqueId's digits.
        "Id": str(unique_id),
        "Status": status,
        "Active": status != "Terminated",
        "IsProspect": prospect,
        "FirstName": first,
        "MiddleName": None,
        "LastName": last,
        "Email": f"{first}.{last}{index}@{rng.choice(EMAIL_DOMAINS)}".lower(),
        "MobilePhone": _phone(rng),
        "HomePhone": _phone(rng) if rng.random() < 0.3 else None,
        "WorkPhone": None,
        "AddressLine1": fake.street_address(),
        "AddressLine2": None,
        "City": fake.city(),
        "State": fake.state_abbr(),
        "PostalCode": fake.zipcode(),
        "Country": "US",
        "BirthDate": mb_day(birth),
        "Gender": rng.choice(["Female", "Male", "None"]),
        "CreationDate": mb_instant(created),
        "LastModifiedDateTime": mb_instant(modified),
        "ReferredBy": rng.choice([None, "Friend", "Instagram", "Walk-in"]),
        "PhotoUrl": None,
        "Notes": None,
        "SendPromotionalEmails": rng.random() < 0.6,
        "SendPromotionalTexts": rng.random() < 0.3,
        "SuspensionInfo": {
            "BookingSuspended": status == "Suspended",
            "SuspensionStartDate": None,
            "SuspensionEndDate": None,
        },
    }


def _contract(rng: random.Random, sale_id: int, start: date, end: date) -> Record:
    template, name = rng.choice(CONTRACTS)
    return {
        "Id": sale_id,
        "ContractID": template,
        "ContractName": name,
        "AgreementDate": mb_day(start),
        "StartDate": mb_day(start),
        "EndDate": mb_day(end),
        "TerminationDate": None,
        "AutopayStatus": "Active",
        "AutoRenewing": rng.random() < 0.7,
        "IsMonthToMonth": template != 9,
        "OriginationLocationId": LOCATION_ID,
        "UpcomingAutopayEvents": [],
    }


def _pack(rng: random.Random, pack_id: int, client_id: str, today: date) -> Record:
    product, name, sessions = rng.choice(PACKS)
    paid = today - timedelta(days=rng.randint(0, 200))
    expires = paid + timedelta(days=180)
    return {
        "Id": pack_id,
        "ClientID": client_id,
        "ProductId": product,
        "Name": name,
        "PaymentDate": mb_day(paid),
        "ActiveDate": mb_day(paid),
        "ExpirationDate": mb_day(expires),
        "Count": sessions,
        "Remaining": rng.randint(0, sessions),
        "Current": expires >= today,
        "Returned": False,
        "ActivationType": "OnPurchase",
        "Program": {"Id": 1, "Name": "Classes"},
    }


def _visits(
    rng: random.Random,
    first_id: int,
    unique_id: int,
    client_id: str,
    staff: list[Record],
    now: datetime,
) -> list[Record]:
    visits = []
    for offset in range(rng.randint(0, 4)):
        start = (now - timedelta(days=rng.randint(0, 30), hours=rng.randint(1, 12))).replace(
            minute=0, second=0, microsecond=0
        )
        visit: Record = {
            "Id": first_id + offset,
            "ClientId": client_id,
            "ClientUniqueId": unique_id,
            "StartDateTime": mb_instant(start),
            "EndDateTime": mb_instant(start + timedelta(minutes=60)),
            "LastModifiedDateTime": mb_instant(start + timedelta(minutes=61)),
            "StaffId": rng.choice(staff)["Id"],
            "LocationId": LOCATION_ID,
            "SiteId": None,
            "ClassId": None,
            "AppointmentId": None,
            "AppointmentStatus": None,
            "SignedIn": False,
            "Missed": False,
            "LateCancelled": False,
            "WebSignup": rng.random() < 0.5,
            "MakeUp": False,
        }
        outcome = rng.choices(["attended", "missed", "late-cancelled"], [75, 15, 10])[0]
        if rng.random() < 0.7:
            class_id, name = rng.choice(CLASSES)
            visit.update(ClassId=class_id, Name=name, ServiceName="Classes")
        else:
            appointment, name = rng.choice(APPOINTMENTS)
            visit.update(
                AppointmentId=first_id + offset + 500_000,
                Name=name,
                ServiceName=name,
                ServiceId=appointment,
                AppointmentStatus={
                    "attended": "Completed",
                    "missed": "NoShow",
                    "late-cancelled": "LateCancelled",
                }[outcome],
            )
        visit.update(
            SignedIn=outcome == "attended",
            Missed=outcome == "missed",
            LateCancelled=outcome == "late-cancelled",
        )
        visits.append(visit)
    return visits


def _staff(rng: random.Random, fake: Faker, now: datetime) -> list[Record]:
    staff = []
    for n in range(8):
        first, last = fake.first_name(), fake.last_name()
        started = now - timedelta(days=rng.randint(60, 2000))
        ended = now - timedelta(days=rng.randint(1, 50)) if n == 7 else None
        staff.append(
            {
                "Id": FIRST_STAFF_ID + n,
                "FirstName": first,
                "LastName": last,
                "DisplayName": f"{first} {last[0]}.",
                "Name": f"{first} {last}",
                "Email": f"{first}.{last}@example.com".lower(),
                "MobilePhone": _phone(rng),
                "HomePhone": None,
                "WorkPhone": None,
                "Address": fake.street_address(),
                "City": fake.city(),
                "State": fake.state_abbr(),
                "PostalCode": fake.zipcode(),
                "Country": "US",
                "Bio": None,
                "ImageUrl": None,
                "EmpID": f"E{n + 1:03d}",
                "EmploymentStart": mb_instant(started),
                "EmploymentEnd": mb_instant(ended) if ended else None,
                "AppointmentInstructor": n in (0, 1, 2),
                "ClassTeacher": n in (2, 3, 4, 5),
                "Rep": n in (5, 6),
                "IndependentContractor": n == 1,
                "IsMale": rng.random() < 0.5,
                "SortOrder": n,
            }
        )
    return staff
