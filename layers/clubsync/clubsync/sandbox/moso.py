"""MoSo extract files for the sandbox: the same generated club as the ABC sandbox
(generator.generate_members, activity's employees), written as MoSo would deliver them for
each extract version, with the faults of a bad delivery on request.

The layouts here are the stand-ins of providers/moso/maps/*.toml, written again on purpose:
the sandbox never imports the code it fakes. tests/unit/test_sandbox_moso.py checks that the
two agree, so a change to a map that is not made here fails there.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from clubsync.sandbox.abc.activity import generate_activity
from clubsync.sandbox.abc.generator import generate_members


@dataclass(frozen=True)
class ExtractLayout:
    """One version's files: canonical field -> header, encoding, date formats, values."""

    version: str
    encoding: str
    date_format: str
    datetime_format: str
    member_columns: dict[str, str]
    employee_columns: dict[str, str]
    members_file: str
    employees_file: str
    # membership type, member status, agreement status, employee status: (yes, no) values.
    member_value: str
    prospect_value: str
    active_value: str
    inactive_value: str
    agreement_active: str
    agreement_inactive: str
    employee_active: str
    employee_inactive: str
    ignored_member_columns: tuple[str, ...] = ()


_V2_MEMBERS = {
    "member_id": "MemberID", "location": "ClubCode", "first_name": "FirstName",
    "last_name": "LastName", "email": "Email", "mobile_phone": "CellPhone",
    "home_phone": "HomePhone", "date_of_birth": "BirthDate", "address_line1": "Address1",
    "city": "City", "state": "State", "zip": "Zip", "join_date": "JoinDate",
    "membership_type": "MembershipType", "member_status": "MemberStatus",
    "agreement_number": "AgreementNumber", "agreement_name": "AgreementName",
    "agreement_status": "AgreementStatus", "sign_date": "SignDate", "start_date": "StartDate",
    "end_date": "EndDate", "recurring_payment": "MonthlyDues", "modified_at": "LastModified",
}  # fmt: skip
_V25_MEMBERS = {
    "member_id": "Member Id", "location": "Location", "first_name": "First Name",
    "last_name": "Last Name", "gender": "Gender", "email": "Email Address",
    "mobile_phone": "Mobile Phone", "home_phone": "Home Phone", "date_of_birth": "Date Of Birth",
    "address_line1": "Address Line 1", "address_line2": "Address Line 2", "city": "City",
    "state": "State", "zip": "Postal Code", "barcode": "Barcode", "join_date": "Join Date",
    "membership_type": "Membership Type", "member_status": "Member Status",
    "agreement_number": "Agreement Number", "agreement_name": "Agreement Name",
    "agreement_status": "Agreement Status", "sign_date": "Sign Date", "start_date": "Start Date",
    "end_date": "End Date", "recurring_payment": "Recurring Amount",
    "modified_at": "Last Modified",
}  # fmt: skip
_V3_MEMBERS = {
    "member_id": "member_id", "location": "business_unit_code", "first_name": "first_name",
    "middle_name": "middle_name", "last_name": "last_name", "gender": "gender",
    "email": "email", "mobile_phone": "mobile_phone", "home_phone": "home_phone",
    "date_of_birth": "birth_date", "address_line1": "address_1", "address_line2": "address_2",
    "city": "city", "state": "state", "zip": "postal_code", "country": "country",
    "barcode": "barcode", "join_date": "join_date", "created_at": "created_at",
    "modified_at": "modified_at", "membership_type": "membership_type",
    "member_status": "member_status", "agreement_number": "agreement_id",
    "agreement_name": "agreement_name", "agreement_status": "agreement_status",
    "sign_date": "signed_on", "start_date": "starts_on", "end_date": "ends_on",
    "recurring_payment": "recurring_amount", "down_payment": "down_payment",
    "past_due_balance": "past_due_balance",
}  # fmt: skip

LAYOUTS: dict[str, ExtractLayout] = {
    "2.x": ExtractLayout(
        version="2.x", encoding="cp1252", date_format="%m/%d/%Y",
        datetime_format="%m/%d/%Y %I:%M:%S %p", member_columns=_V2_MEMBERS,
        employee_columns={
            "employee_id": "EmployeeID", "location": "ClubCode", "first_name": "FirstName",
            "last_name": "LastName", "email": "Email", "department": "Department",
            "employee_status": "Status",
        },
        members_file="{club}_Members_{day}.csv", employees_file="{club}_Employees_{day}.csv",
        member_value="Member", prospect_value="Prospect", active_value="Active",
        inactive_value="Inactive", agreement_active="Active", agreement_inactive="Cancelled",
        employee_active="Active", employee_inactive="Terminated", ignored_member_columns=("Photo",),
    ),
    "2.5.x": ExtractLayout(
        version="2.5.x", encoding="utf-8", date_format="%m/%d/%Y",
        datetime_format="%m/%d/%Y %H:%M:%S", member_columns=_V25_MEMBERS,
        employee_columns={
            "employee_id": "Employee Id", "location": "Location", "first_name": "First Name",
            "last_name": "Last Name", "email": "Email Address", "department": "Department",
            "employee_status": "Employee Status",
        },
        members_file="{club}_members_{day}.csv", employees_file="{club}_employees_{day}.csv",
        member_value="Member", prospect_value="Prospect", active_value="Active",
        inactive_value="Inactive", agreement_active="Active", agreement_inactive="Cancelled",
        employee_active="Active", employee_inactive="Terminated",
    ),
    "3.x": ExtractLayout(
        version="3.x", encoding="utf-8", date_format="%Y-%m-%d",
        datetime_format="%Y-%m-%dT%H:%M:%S", member_columns=_V3_MEMBERS,
        employee_columns={
            "employee_id": "employee_id", "location": "business_unit_code",
            "first_name": "first_name", "last_name": "last_name", "email": "email",
            "mobile_phone": "mobile_phone", "department": "department",
            "employee_status": "employee_status", "commission_level": "commission_level",
        },
        members_file="{club}_members_{day}.csv", employees_file="{club}_employees_{day}.csv",
        member_value="MEMBER", prospect_value="PROSPECT", active_value="ACTIVE",
        inactive_value="INACTIVE", agreement_active="ACTIVE", agreement_inactive="CANCELLED",
        employee_active="ACTIVE", employee_inactive="TERMINATED",
    ),
}  # fmt: skip

# The faults of a bad delivery, applied to the members file (docs/providers/moso.md).
FAULTS = ("renamed_column", "wrong_encoding", "truncated", "duplicate_row", "bad_date")


def _day(text: str) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def _moment(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _member_cells(abc: dict[str, Any], location: str, layout: ExtractLayout) -> dict[str, str]:
    """An ABC-shaped generated member as one row of the layout's members file."""
    personal, agreement = abc["personal"], abc.get("agreement") or {}
    active = personal.get("isActive") == "true"

    def day(value: str) -> str:
        parsed = _day(value)
        return parsed.strftime(layout.date_format) if parsed else ""

    def moment(value: str) -> str:
        parsed = _moment(value)
        return parsed.strftime(layout.datetime_format) if parsed else ""

    cells = {
        "member_id": abc["memberId"][:12].upper(),
        "location": location,
        "first_name": personal.get("firstName", ""),
        "middle_name": personal.get("middleInitial", ""),
        "last_name": personal.get("lastName", ""),
        "gender": personal.get("gender", ""),
        "email": personal.get("email", ""),
        "mobile_phone": personal.get("mobilePhone", ""),
        "home_phone": personal.get("primaryPhone", ""),
        "date_of_birth": day(personal.get("birthDate", "")),
        "address_line1": personal.get("addressLine1", ""),
        "address_line2": personal.get("addressLine2", ""),
        "city": personal.get("city", ""),
        "state": personal.get("state", ""),
        "zip": personal.get("postalCode", ""),
        "country": personal.get("countryCode", ""),
        "barcode": personal.get("barcode", ""),
        "join_date": day(agreement.get("sinceDate", "")),
        "created_at": moment(personal.get("createTimestamp", "")),
        "modified_at": moment(personal.get("lastModifiedTimestamp", "")),
        "membership_type": layout.member_value,
        "member_status": layout.active_value if active else layout.inactive_value,
        "agreement_number": agreement.get("agreementNumber", ""),
        "agreement_name": agreement.get("membershipType", ""),
        "agreement_status": layout.agreement_active if active else layout.agreement_inactive,
        "sign_date": day(agreement.get("signDate", "")),
        "start_date": day(agreement.get("beginDate", "")),
        "end_date": day(agreement.get("expirationDate", "")),
        "recurring_payment": agreement.get("nextDueAmount", ""),
        "down_payment": agreement.get("downPayment", ""),
        "past_due_balance": agreement.get("pastDueBalance", ""),
    }
    return {name: cells.get(name, "") for name in layout.member_columns}


def _employee_cells(abc: dict[str, Any], location: str, layout: ExtractLayout) -> dict[str, str]:
    employment = abc["employment"]
    found = employment["departments"]["department"]
    departments = [d["name"] for d in (found if isinstance(found, list) else [found])]
    active = employment.get("employeeStatus") == "Active"
    cells = {
        "employee_id": abc["employeeId"],
        "location": location,
        "first_name": abc["personal"]["firstName"],
        "last_name": abc["personal"]["lastName"],
        "email": abc["contact"].get("email", ""),
        "mobile_phone": abc["contact"].get("cellPhone", ""),
        "department": ";".join(departments),
        "employee_status": layout.employee_active if active else layout.employee_inactive,
        "commission_level": str(employment.get("commissionLevel", "")),
    }
    return {name: cells.get(name, "") for name in layout.employee_columns}


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def moso_extracts(
    version: str,
    *,
    club_id: str,
    locations: Collection[str],
    members_per_location: int,
    now_local: datetime,
    seed: int = 7,
    faults: Collection[str] = (),
) -> dict[str, bytes]:
    """The members and employees files of one delivery of `club_id` (file name -> bytes):
    every location's rows in one file each, as MoSo delivers them. Only employees who sold an
    agreement appear. `faults` (FAULTS) break the members file the way a bad delivery does."""
    layout = LAYOUTS.get(version)
    if layout is None:
        raise ValueError(f"unknown MoSo extract version {version!r} (known: {', '.join(LAYOUTS)})")
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)} (known: {', '.join(FAULTS)})")
    rng = random.Random(f"moso-{seed}-{club_id}")
    member_rows: list[list[str]] = []
    employee_rows: list[list[str]] = []
    for index, location in enumerate(sorted(locations)):
        members = generate_members(
            members_per_location,
            club_number=location,
            now_local=now_local,
            seed=seed + index,
            wide=False,
        )
        staff = generate_activity(
            members, club_number=location, now_local=now_local, seed=seed + index
        )["employees"]
        sellers = {rng.randrange(len(staff)) for _ in members} if staff else set()
        for abc in members:
            cells = _member_cells(abc, location, layout)
            member_rows.append([cells[name] for name in layout.member_columns])
            member_rows[-1] += ["" for _ in layout.ignored_member_columns]
        for at in sorted(sellers):
            cells = _employee_cells(staff[at], location, layout)
            employee_rows.append([cells[name] for name in layout.employee_columns])
    member_header = [*layout.member_columns.values(), *layout.ignored_member_columns]
    if "duplicate_row" in faults and member_rows:
        member_rows.append(list(member_rows[0]))
    if "bad_date" in faults and member_rows:
        at = member_header.index(layout.member_columns["sign_date"])
        member_rows[len(member_rows) // 2][at] = "31/31/2026"
    encoding = layout.encoding
    if "wrong_encoding" in faults and member_rows:
        # "Á" is one byte in cp1252 that UTF-8 cannot read, and two in UTF-8, the second of
        # which cp1252 has no character for: each encoding refuses the other's file.
        member_rows[0][member_header.index(layout.member_columns["last_name"])] = "Álvarez"
        encoding = "cp1252" if layout.encoding == "utf-8" else "utf-8"
    if "renamed_column" in faults:
        member_header[member_header.index(layout.member_columns["last_name"])] = "Surname"
    members_text = _csv(member_header, member_rows)
    if "truncated" in faults:
        members_text = members_text[: max(len(member_header[0]) + 1, len(members_text) - 25)]
    day = now_local.strftime("%Y%m%d")
    return {
        layout.members_file.format(club=club_id, day=day): members_text.encode(encoding),
        layout.employees_file.format(club=club_id, day=day): _csv(
            list(layout.employee_columns.values()), employee_rows
        ).encode(layout.encoding),
    }
