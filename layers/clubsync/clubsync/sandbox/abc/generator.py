"""Generated ABC DataTrak member records for the billing sandbox.

Every record has the shape of the "Member record" example in the ABC API reference: a 32-hex
`memberId`, a `personal` and an `agreement` object whose values are all strings, and optional
`alerts`. The quirks of the real API are reproduced at realistic rates so that a client can be
exercised against them:

- names ALL CAPS (~5 %) and doubled spaces inside names or addresses (~3 %);
- optional fields (middleInitial, workPhone, addressLine2, occupation, group, memberStatusReason,
  expirationDate, lastRenewalDate, lastRewriteDate) often *missing* rather than empty;
- `alerts` absent, an empty list, a list, or a one-element list arriving as a bare object;
- phones in mixed formats; timestamps club-local without a zone;
- the wider payload of the real API (check-in summary, payment plan, fees, billing dates, the
  billing account holder: abc-api.md "Member record"), which clubsync does not map.

The wider fields come from a random stream of their own, drawn after each record is built, so
the people (names, ids, agreement numbers, statuses) are the same with or without them.

All names, addresses, e-mails (example.org/.com/.net) and phones (555-010-01xx) are fictional.
"""

from __future__ import annotations

import copy
import random
import string
import threading
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from faker import Faker

__all__ = [
    "INACTIVE_STATUSES",
    "MALFORMED_KINDS",
    "MEMBERSHIP_TYPES",
    "STATUS_ALERT_CODES",
    "format_date",
    "format_timestamp",
    "generate_members",
    "generate_prospects",
    "make_malformed_member",
    "widen_member",
]

MEMBERSHIP_TYPES: tuple[str, ...] = ("GOLD", "SILVER", "BASIC", "PT ONLY", "CORPORATE", "STUDENT")

# (monthly due, down payment) per membership type
_PRICES: dict[str, tuple[str, str]] = {
    "GOLD": ("39.99", "99.50"),
    "SILVER": ("29.99", "49.00"),
    "BASIC": ("10.00", "1.00"),
    "PT ONLY": ("199.00", "0.00"),
    "CORPORATE": ("26.99", "0.00"),
    "STUDENT": ("19.99", "25.00"),
}

INACTIVE_STATUSES: tuple[str, ...] = (
    "Cancelled",
    "Expired",
    "Return for Collections",
    "Pending Cancel",
    "Freeze",
)

#: memberStatus -> abcCode of the alert ABC attaches to the member
STATUS_ALERT_CODES: dict[str, str] = {
    "Cancelled": "Membership Cancelled",
    "Expired": "Membership Expired",
    "Return for Collections": "Return for Collections",
    "Pending Cancel": "Pending Cancel",
    "Freeze": "Freeze",
}

_STATUS_REASONS: dict[str, tuple[str, ...]] = {
    "Cancelled": ("Moved", "Financial", "Medical", "Not Using", "Unhappy With Service"),
    "Expired": ("Term Ended", ""),
    "Return for Collections": ("Past Due", "Declined Card"),
    "Pending Cancel": ("Moved", "Financial", "Relocation"),
    "Freeze": ("Medical", "Travel", "Injury"),
}

_STATUS_QUEUES: dict[str, str] = {
    "Active": "Posted",
    "Cancelled": "Cancelled",
    "Expired": "Expired",
    "Return for Collections": "Returned",
    "Pending Cancel": "Posted",
    "Freeze": "Frozen",
}

# informational alerts an active member may carry (not status alerts)
_INFO_ALERTS: tuple[tuple[str, str], ...] = (
    ("CREDIT CARD EXPIRES SOON", "Card Expiring"),
    ("PLEASE SEE FRONT DESK", "Front Desk"),
    ("MISSING EMERGENCY CONTACT", "Missing Info"),
)

_CAMPAIGNS: tuple[str, ...] = (
    "Referral by Member",
    "Walk In",
    "Web Lead",
    "Facebook Ad",
    "Corporate Partner",
    "Guest Pass",
)
_ENTRY_SOURCES: tuple[str, ...] = ("DataTrak Fast Add", "DataTrak", "Online Signup", "Ignite")
_STATIONS: tuple[str, ...] = ("Front Desk", "Sales Office", "Online")
_GROUPS: tuple[str, ...] = ("Silver Sneakers", "Corporate - Acme", "Teachers", "Police & Fire")
_EMAIL_DOMAINS: tuple[str, ...] = ("example.org", "example.com", "example.net")

MALFORMED_KINDS: tuple[str, ...] = (
    "bad_birth_date",
    "bad_is_active",
    "missing_member_id",
    "bad_timestamp",
    "personal_not_object",
)

_TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_DATE_FORMAT = "%Y-%m-%d"


def format_timestamp(value: datetime) -> str:
    """An ABC timestamp: `YYYY-MM-DD HH:MM:SS.ffffff`, no zone."""
    return value.strftime(_TS_FORMAT)


def format_date(value: date) -> str:
    """An ABC date: `YYYY-MM-DD`."""
    return value.strftime(_DATE_FORMAT)


def _hex32(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _tf(value: bool) -> str:
    return "true" if value else "false"


def _phone(rng: random.Random) -> str:
    """A fictional phone (555-010-01xx) in one of the formats seen in ABC data."""
    line = f"01{rng.randrange(100):02d}"
    style = rng.random()
    if style < 0.45:
        return f"(555) 010-{line}"
    if style < 0.8:
        return f"555010{line}"
    return f"555.010.{line}"


def _double_a_space(text: str, rng: random.Random) -> str:
    positions = [i for i, ch in enumerate(text) if ch == " "]
    if not positions:
        return text
    i = rng.choice(positions)
    return text[:i] + " " + text[i:]


def _optional(
    record: dict[str, Any],
    key: str,
    value: str,
    rng: random.Random,
    *,
    missing: float,
    empty: float = 0.0,
) -> None:
    """Set `key` to `value`, or leave it out (p=`missing`), or set it to "" (p=`empty`)."""
    roll = rng.random()
    if roll < missing:
        return
    record[key] = "" if roll < missing + empty else value


def _random_moment(rng: random.Random, newest: datetime, max_age: timedelta) -> datetime:
    seconds = rng.uniform(0, max_age.total_seconds())
    moment = newest - timedelta(seconds=seconds)
    if rng.random() < 0.3:  # some ABC timestamps only carry milliseconds
        moment = moment.replace(microsecond=(moment.microsecond // 1000) * 1000)
    return moment


def _recent_or_old(rng: random.Random, now_local: datetime, *, recent_share: float) -> datetime:
    if rng.random() < recent_share:
        return _random_moment(rng, now_local, timedelta(days=90))
    return _random_moment(rng, now_local, timedelta(days=730))


def _build_member(
    fake: Faker,
    rng: random.Random,
    *,
    club_number: str,
    now_local: datetime,
    agreement_number: str,
) -> dict[str, Any]:
    today = now_local.date()
    member_id = _hex32(rng)

    # --- who -------------------------------------------------------------------------------
    female = rng.random() < 0.52
    first = fake.first_name_female() if female else fake.first_name_male()
    last = fake.last_name()
    address1 = fake.street_address()
    address2 = fake.secondary_address()
    city = fake.city()
    if rng.random() < 0.05:
        first, last = first.upper(), last.upper()
    if rng.random() < 0.03:
        target = rng.choice(("first", "last", "address"))
        if target == "first":
            first = f"{first}  {fake.first_name_female() if female else fake.first_name_male()}"
        elif target == "last":
            last = f"{last}  {fake.last_name()}"
        else:
            address1 = _double_a_space(address1, rng)

    email_local = f"{first}.{last}".lower().replace(" ", "")
    email_local = "".join(ch for ch in email_local if ch in string.ascii_lowercase + ".")
    if rng.random() < 0.4:
        email_local += str(rng.randrange(1, 100))
    email = f"{email_local}@{rng.choice(_EMAIL_DOMAINS)}"

    age_days = rng.randrange(16 * 365, 75 * 365)
    birth = today - timedelta(days=age_days)

    # --- when ------------------------------------------------------------------------------
    created = _recent_or_old(rng, now_local, recent_share=0.15)
    modified = _recent_or_old(rng, now_local, recent_share=0.2)
    if modified < created:  # not touched since it was created (or shortly after)
        modified = created + min(now_local - created, timedelta(days=14)) * rng.random()
    if rng.random() < 0.7:
        sign = min(created.date() + timedelta(days=rng.randrange(0, 15)), today)
    else:  # migrated or re-signed agreements: anywhere in the last ~3 years
        sign = today - timedelta(days=rng.randrange(0, 3 * 365))
    begin = sign + timedelta(days=rng.choice((0, 0, 0, 1, 7)))
    queue_ts = datetime.combine(sign, datetime.min.time()) + timedelta(
        seconds=rng.randrange(8 * 3600, 21 * 3600), microseconds=rng.randrange(1_000_000)
    )

    # --- status ----------------------------------------------------------------------------
    active = rng.random() < 0.8
    status = "Active" if active else rng.choice(INACTIVE_STATUSES)
    status_day = modified.date() if not active else None

    membership_type = rng.choice(MEMBERSHIP_TYPES)
    due, down = _PRICES[membership_type]
    renewal = "Auto Renew" if rng.random() < 0.55 else "None"

    personal: dict[str, Any] = {
        "firstName": first,
        "lastName": last,
    }
    _optional(personal, "middleInitial", rng.choice(string.ascii_uppercase), rng, missing=0.45)
    personal["email"] = email
    personal["primaryPhone"] = _phone(rng)
    personal["mobilePhone"] = _phone(rng)
    _optional(personal, "workPhone", _phone(rng), rng, missing=0.5, empty=0.2)
    personal["addressLine1"] = address1
    _optional(personal, "addressLine2", address2, rng, missing=0.7, empty=0.1)
    personal["city"] = city
    personal["state"] = fake.state_abbr(include_territories=False)
    personal["postalCode"] = fake.zipcode()
    personal["countryCode"] = "US"
    personal["gender"] = "Female" if female else "Male"
    personal["birthDate"] = format_date(birth)
    _optional(personal, "occupation", fake.job(), rng, missing=0.7, empty=0.05)
    _optional(personal, "group", rng.choice(_GROUPS), rng, missing=0.85)
    personal["barcode"] = f"G{rng.randrange(10**8):08d}"
    personal["homeClub"] = club_number
    personal["isActive"] = _tf(active)
    personal["joinStatus"] = "Member"
    personal["memberStatus"] = status
    if active:
        _optional(personal, "memberStatusReason", "", rng, missing=0.5)
        personal["memberStatusDate"] = ""
    else:
        personal["memberStatusReason"] = rng.choice(_STATUS_REASONS[status])
        personal["memberStatusDate"] = format_date(status_day or today)
    personal["emailOptIn"] = _tf(rng.random() < 0.6)
    personal["smsOptIn"] = _tf(rng.random() < 0.4)
    personal["createTimestamp"] = format_timestamp(created)
    personal["lastModifiedTimestamp"] = format_timestamp(modified)

    agreement: dict[str, Any] = {
        "agreementNumber": agreement_number,
        "isPrimaryMember": _tf(rng.random() < 0.85),
        "membershipType": membership_type,
        "salesPersonId": _hex32(rng),
        "campaignId": _hex32(rng),
        "campaignName": rng.choice(_CAMPAIGNS),
        "renewalType": renewal,
        "downPayment": down,
        "nextDueAmount": due if status in ("Active", "Pending Cancel") else "0.00",
        "pastDueBalance": (
            f"{rng.randrange(30, 400)}.{rng.randrange(100):02d}"
            if status == "Return for Collections" or (active and rng.random() < 0.04)
            else "0.00"
        ),
        "currentQueue": _STATUS_QUEUES[status],
        "queueTimestamp": format_timestamp(queue_ts),
        "agreementEntrySource": rng.choice(_ENTRY_SOURCES),
        "stationLocation": "Home" if rng.random() < 0.3 else rng.choice(_STATIONS),
        "sinceDate": format_date(sign),
        "beginDate": format_date(begin),
        "signDate": format_date(sign),
    }
    expiration = sign + timedelta(days=365)
    if status == "Expired":
        expiration = min(expiration, status_day or today)
        agreement["expirationDate"] = format_date(expiration)
    else:
        _optional(
            agreement,
            "expirationDate",
            format_date(expiration),
            rng,
            missing=0.5 if renewal == "Auto Renew" else 0.3,
            empty=0.2,
        )
    renewal_day = sign + timedelta(days=rng.randrange(0, max(1, (today - sign).days + 1)))
    _optional(agreement, "lastRenewalDate", format_date(renewal_day), rng, missing=0.7, empty=0.2)
    rewrite_day = sign + timedelta(days=rng.randrange(0, max(1, (today - sign).days + 1)))
    _optional(agreement, "lastRewriteDate", format_date(rewrite_day), rng, missing=0.75, empty=0.15)

    record: dict[str, Any] = {"memberId": member_id, "personal": personal, "agreement": agreement}

    alerts: list[dict[str, str]] = []
    if not active and rng.random() < 0.9:  # some old agreements predate the status alerts
        day = status_day or today
        alerts.append(
            {
                "message": f"{STATUS_ALERT_CODES[status].upper()} {day:%m/%d/%Y}",
                "abcCode": STATUS_ALERT_CODES[status],
            }
        )
    if rng.random() < 0.12:
        message, code = rng.choice(_INFO_ALERTS)
        alerts.append({"message": message, "abcCode": code})
    if alerts:
        if len(alerts) == 1 and rng.random() < 0.35:
            record["alerts"] = alerts[0]  # XML-to-JSON quirk: one-element list as a bare object
        else:
            record["alerts"] = alerts
    elif rng.random() < 0.2:
        record["alerts"] = []
    return record


# Values for the wider member fields (abc-api.md "Member record": a public tap's schema lists
# them, their values are not documented; these are plausible, every scalar a string).
_SALES_PEOPLE: tuple[str, ...] = (
    "Casey Nguyen",
    "Drew Patel",
    "Harper Quinn",
    "Jordan Reyes",
    "Morgan Silva",
)
_PAYMENT_FREQUENCIES: tuple[str, ...] = ("Monthly", "Monthly", "Monthly", "Bi-Weekly", "Annually")
_TERMS: tuple[str, ...] = ("Open", "Open", "12 Months", "24 Months")
_PAYMENT_METHODS: tuple[str, ...] = ("EFT", "EFT", "Credit Card", "Credit Card", "Cash")
_MANAGED_TYPES: tuple[str, ...] = ("Managed", "Managed", "Not Managed")


def _parse_ts(text: str) -> datetime:
    return datetime.strptime(text, _TS_FORMAT)


def widen_member(record: dict[str, Any], rng: random.Random, *, now_local: datetime) -> None:
    """Add, in place, the member fields real ABC payloads carry beyond what clubsync maps
    (abc-api.md "Member record": personal workPhoneExt ... totalCheckInCount, agreement
    isNonMember ... primaryBillingAccountHolder). Values are consistent with the record (a
    past-due flag with a past-due balance, check-ins after the record was created) and, like
    ABC's, strings; some are missing or empty, as optional fields are in the real API."""
    personal = record["personal"]
    agreement = record["agreement"]
    today = now_local.date()
    created = _parse_ts(personal["createTimestamp"])

    if personal.get("workPhone"):
        _optional(personal, "workPhoneExt", str(rng.randrange(100, 10_000)), rng, missing=0.6)
    else:
        _optional(personal, "workPhoneExt", "", rng, missing=0.7)
    converted = rng.random() < 0.35
    personal["isConvertedProspect"] = _tf(converted)
    personal["hasPhoto"] = _tf(rng.random() < 0.6)
    if rng.random() < 0.85 and created < now_local:
        first = created + (now_local - created) * rng.random() * 0.2
        last = first + (now_local - first) * rng.random()
        days = max(1, (last - first).days)
        personal["firstCheckInTimestamp"] = format_timestamp(first)
        personal["lastCheckInTimestamp"] = format_timestamp(last)
        personal["totalCheckInCount"] = str(1 + rng.randrange(max(1, days // 3)))
    else:
        personal["totalCheckInCount"] = "0"

    sign = date.fromisoformat(agreement["signDate"])
    begin = date.fromisoformat(agreement["beginDate"])
    primary = agreement.get("isPrimaryMember") == "true"
    active = personal.get("isActive") == "true"
    agreement["isNonMember"] = "false"
    agreement["ordinal"] = "0" if primary else str(rng.randint(1, 3))
    agreement["salesPersonName"] = rng.choice(_SALES_PEOPLE)
    agreement["salesPersonHomeClub"] = personal.get("homeClub", "")
    frequency = rng.choice(_PAYMENT_FREQUENCIES)
    agreement["paymentPlan"] = f"{agreement.get('membershipType', 'BASIC')} {frequency}"
    agreement["paymentPlanId"] = _hex32(rng)
    agreement["term"] = rng.choice(_TERMS)
    agreement["paymentFrequency"] = frequency
    agreement["managedType"] = rng.choice(_MANAGED_TYPES)
    past_due = agreement.get("pastDueBalance", "0.00")
    is_past_due = past_due not in ("", "0.00")
    agreement["isPastDue"] = _tf(is_past_due)
    agreement["agreementPaymentMethod"] = rng.choice(_PAYMENT_METHODS)
    late_fee = "10.00" if is_past_due else "0.00"
    agreement["lateFeeAmount"] = late_fee
    agreement["serviceFeeAmount"] = rng.choice(("0.00", "0.00", "4.99", "5.99"))
    total = float(past_due or "0") + float(late_fee)
    agreement["totalPastDueBalance"] = f"{total:.2f}"
    agreement["firstPaymentDate"] = format_date(begin + timedelta(days=30))
    if active:
        step = 14 if frequency == "Bi-Weekly" else 365 if frequency == "Annually" else 30
        agreement["nextBillingDate"] = format_date(today + timedelta(days=rng.randint(1, step)))
    else:
        _optional(agreement, "nextBillingDate", "", rng, missing=0.6)
    if converted:
        agreement["convertedDate"] = format_date(min(sign, today))
    else:
        _optional(agreement, "convertedDate", "", rng, missing=0.8)
    if agreement.get("renewalType") == "Auto Renew":
        agreement["renewalDate"] = format_date(sign + timedelta(days=365))
    else:
        _optional(agreement, "renewalDate", "", rng, missing=0.6)
    holder_first, holder_last = personal["firstName"], personal["lastName"]
    if not primary:  # a family add-on: someone else pays, most often of the same family name
        holder_first = rng.choice(("Alex", "Jamie", "Pat", "Robin", "Sam"))
    agreement["primaryBillingAccountHolder"] = {"firstName": holder_first, "lastName": holder_last}


def generate_members(
    count: int,
    *,
    club_number: str,
    now_local: datetime,
    seed: int = 0,
    reserved_agreement_numbers: Collection[str] = (),
    wide: bool = True,
) -> list[dict[str, Any]]:
    """`count` ABC-shaped member records for `club_number`, deterministic for `seed`.

    `now_local` is the club-local wall clock (naive); every date and timestamp is at or before it.
    `reserved_agreement_numbers` are 5-digit numbers already used in the club and left out.
    `wide`: add the fields real payloads carry beyond the mapped ones (`widen_member`); the
    same people come out either way.
    """
    if now_local.tzinfo is not None:
        raise ValueError("now_local must be naive club-local time")
    if count < 0:
        raise ValueError("count must be >= 0")
    reserved = set(reserved_agreement_numbers)
    free = 100_000 - len(reserved)
    if count > free:
        raise ValueError(f"count {count} exceeds the {free} free 5-digit agreement numbers")
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)

    numbers: list[str] = []
    used = set(reserved)
    while len(numbers) < count:
        candidate = f"{rng.randrange(100_000):05d}"
        if candidate not in used:
            used.add(candidate)
            numbers.append(candidate)

    members: list[dict[str, Any]] = []
    seen_ids: set[str] = set()
    for number in numbers:
        record = _build_member(
            fake, rng, club_number=club_number, now_local=now_local, agreement_number=number
        )
        while record["memberId"] in seen_ids:  # 128 random bits: practically never
            record["memberId"] = _hex32(rng)
        seen_ids.add(record["memberId"])
        members.append(record)
    if wide:
        # A stream of its own: drawing from `rng` here would change every later person.
        wide_rng = random.Random(f"wide-{seed}-{club_number}")
        for record in members:
            widen_member(record, wide_rng, now_local=now_local)
    return members


_CAMPAIGN_GROUPS: tuple[str, ...] = ("Digital", "Referral", "Walk In", "Events")


def generate_prospects(
    count: int,
    *,
    club_number: str,
    now_local: datetime,
    seed: int = 0,
    member_ids: Collection[str] = (),
) -> list[dict[str, Any]]:
    """`count` billing-side prospects (GET /prospects) for `club_number`, deterministic for
    `seed`: people who toured or took a guest pass at the front desk, not members.

    The shape is abc-api.md's prospect row: keyed by `prospectId` (an id space of its own, not
    memberIds), `personal.createdTimestamp` (members say `createTimestamp`), agreement
    `tourDate`, `visitsAllowed`, `visitsUsed`, `issueDate`, `referringMemberId` (one of
    `member_ids`, so every id referenced exists) and `campaignGroup`. Prospects who visited
    carry `personal.lastCheckInTimestamp`, which the `lastCheckInTimestampRange` filter reads.
    Their own random stream and Faker instance: members generated with the same seed are the
    same whether prospects are generated or not."""
    if now_local.tzinfo is not None:
        raise ValueError("now_local must be naive club-local time")
    if count < 0:
        raise ValueError("count must be >= 0")
    rng = random.Random(f"prospects-{seed}-{club_number}")
    fake = Faker("en_US")
    fake.seed_instance(f"prospects-{seed}-{club_number}")
    referrers = sorted(member_ids)
    today = now_local.date()
    prospects: list[dict[str, Any]] = []
    seen: set[str] = set()
    for _ in range(count):
        prospect_id = _hex32(rng)
        while prospect_id in seen:
            prospect_id = _hex32(rng)
        seen.add(prospect_id)
        female = rng.random() < 0.52
        first = fake.first_name_female() if female else fake.first_name_male()
        last = fake.last_name()
        if rng.random() < 0.05:
            first, last = first.upper(), last.upper()
        local_part = "".join(ch for ch in f"{first}.{last}".lower() if ch.isalpha() or ch == ".")
        created = _random_moment(rng, now_local, timedelta(days=180))
        modified = created + (now_local - created) * rng.random() * 0.5
        personal: dict[str, Any] = {"firstName": first, "lastName": last}
        personal["email"] = f"{local_part}@{rng.choice(_EMAIL_DOMAINS)}"
        personal["mobilePhone"] = _phone(rng)
        _optional(personal, "primaryPhone", _phone(rng), rng, missing=0.5)
        if rng.random() < 0.6:
            personal["addressLine1"] = fake.street_address()
            personal["city"] = fake.city()
            personal["state"] = fake.state_abbr(include_territories=False)
            personal["postalCode"] = fake.zipcode()
        personal["countryCode"] = "US"
        personal["gender"] = "Female" if female else "Male"
        _optional(
            personal,
            "birthDate",
            format_date(today - timedelta(days=rng.randrange(16 * 365, 70 * 365))),
            rng,
            missing=0.5,
        )
        personal["homeClub"] = club_number
        personal["isActive"] = "false"
        personal["joinStatus"] = "Prospect"
        personal["emailOptIn"] = _tf(rng.random() < 0.6)
        personal["smsOptIn"] = _tf(rng.random() < 0.4)
        personal["createdTimestamp"] = format_timestamp(created)
        personal["lastModifiedTimestamp"] = format_timestamp(modified)
        visits_allowed = rng.choice((1, 3, 7))
        visits_used = rng.randint(0, visits_allowed)
        if visits_used:
            first_visit = created + (now_local - created) * rng.random() * 0.3
            last_visit = first_visit + (now_local - first_visit) * rng.random()
            personal["firstCheckInTimestamp"] = format_timestamp(first_visit)
            personal["lastCheckInTimestamp"] = format_timestamp(last_visit)
        personal["totalCheckInCount"] = str(visits_used)
        issue = created.date()
        agreement: dict[str, Any] = {
            "issueDate": format_date(issue),
            "beginDate": format_date(issue),
            "expirationDate": format_date(issue + timedelta(days=14)),
            "visitsAllowed": str(visits_allowed),
            "visitsUsed": str(visits_used),
            "salesPersonId": _hex32(rng),
            "campaignId": _hex32(rng),
            "campaignName": rng.choice(_CAMPAIGNS),
            "campaignGroup": rng.choice(_CAMPAIGN_GROUPS),
        }
        _optional(
            agreement,
            "tourDate",
            format_date(min(issue + timedelta(days=rng.randrange(0, 7)), today)),
            rng,
            missing=0.4,
            empty=0.1,
        )
        if referrers and rng.random() < 0.25:
            agreement["referringMemberId"] = rng.choice(referrers)
        prospects.append({"prospectId": prospect_id, "personal": personal, "agreement": agreement})
    return prospects


_malformed_faker_lock = threading.Lock()
_malformed_faker: Faker | None = None


def make_malformed_member(
    rng: random.Random,
    *,
    base: dict[str, Any] | None = None,
    kind: str | None = None,
    club_number: str = "9003",
    now_local: datetime | None = None,
) -> dict[str, Any]:
    """A member record a strict client must quarantine.

    Starts from a copy of `base` (or a freshly generated record) and breaks it one way, chosen
    by `rng` unless `kind` (one of `MALFORMED_KINDS`) is given: an impossible `birthDate`
    ("31/02/1990"), `isActive` "maybe", no `memberId`,
    an unparsable `lastModifiedTimestamp`, or `personal` that is not an object.
    """
    global _malformed_faker
    if kind is None:
        kind = rng.choice(MALFORMED_KINDS)
    if kind not in MALFORMED_KINDS:
        raise ValueError(f"unknown malformed kind {kind!r}; expected one of {MALFORMED_KINDS}")
    if base is not None:
        record = copy.deepcopy(base)
    else:
        local = now_local or datetime(2025, 1, 15, 12, 0, 0)
        with _malformed_faker_lock:
            if _malformed_faker is None:
                _malformed_faker = Faker("en_US")
            _malformed_faker.seed_instance(rng.getrandbits(32))
            record = _build_member(
                _malformed_faker,
                rng,
                club_number=club_number,
                now_local=local,
                agreement_number=f"{rng.randrange(100_000):05d}",
            )
    personal = record.get("personal")
    if not isinstance(personal, dict):
        personal = {}
        record["personal"] = personal

    if kind == "bad_birth_date":
        personal["birthDate"] = "31/02/1990"
    elif kind == "bad_is_active":
        personal["isActive"] = "maybe"
    elif kind == "missing_member_id":
        record.pop("memberId", None)
    elif kind == "bad_timestamp":
        personal["lastModifiedTimestamp"] = "2024-13-45 25:61:00"
    else:  # personal_not_object
        record["personal"] = "ERROR: personal record unavailable"
    return record
