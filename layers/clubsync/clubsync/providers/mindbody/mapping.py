"""Mindbody records in CRM terms (reference/mindbody/README.md, "Records" and the CRM vendor's
rules at its end). Reads like a translation table:

CRM                      <- Mindbody client (ClientWithSuspensionInfo)
billing_member_id        <- UniqueId (never changes; `Id` is the barcode staff can change)
contact.barcode          <- Id
first/middle/last name   <- FirstName / MiddleName / LastName
email, phones            <- Email, MobilePhone, HomePhone, WorkPhone
address                  <- AddressLine1/2, City, State, PostalCode, Country
date_of_birth, gender    <- BirthDate, Gender
opt-ins                  <- SendPromotionalEmails / SendPromotionalTexts
marketing_source         <- ReferredBy
created_at, modified_at  <- CreationDate, LastModifiedDateTime (UTC, shown in the club's zone)
photo_url, notes         <- PhotoUrl, Notes (notes go to the lead notes)
agreement                <- the current ClientContract (Id, AgreementDate, ContractName, ...)

Conversion (the vendor's rule): a client whose Status is Non-Member is not a member unless they
hold a contract that starts in the future; a Declined, Expired or Terminated client is an
inactive member; Active and Suspended are active members; a prospect stays a prospect.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from clubsync.domain.billing import BillingAgreement, BillingMember, BillingProspect
from clubsync.domain.employees import BillingEmployee
from clubsync.domain.people import ContactData, OptIns
from clubsync.providers.mindbody.wire import (
    MEMBER_STATUSES,
    NON_MEMBER,
    MbClient,
    MbContract,
    MbStaff,
)


def _contact(client: MbClient) -> ContactData:
    return ContactData(
        first_name=client.first_name,
        middle_name=client.middle_name,
        last_name=client.last_name,
        gender=client.gender,
        date_of_birth=client.birth_date,
        email=client.email,
        mobile_phone=client.mobile_phone,
        home_phone=client.home_phone,
        work_phone=client.work_phone,
        address_line1=client.address_line1,
        address_line2=client.address_line2,
        city=client.city,
        state=client.state,
        zip=client.postal_code,
        country=client.country,
        barcode=client.id,
    )


def _opt_ins(client: MbClient) -> OptIns | None:
    if client.send_promotional_emails is None and client.send_promotional_texts is None:
        return None
    return OptIns(
        email=bool(client.send_promotional_emails), sms=bool(client.send_promotional_texts)
    )


def contract_is_live(contract: MbContract, today: date) -> bool:
    if contract.termination_date is not None and contract.termination_date <= today:
        return False
    return contract.end_date is None or contract.end_date >= today


def current_contract(contracts: list[MbContract], today: date) -> MbContract | None:
    """The contract the member holds now: the live one that started last (a future one when
    nothing has started yet), else the one that ended last."""
    live = [c for c in contracts if contract_is_live(c, today)]
    if live:
        started = [c for c in live if c.start_date is None or c.start_date <= today]
        pool = started or live
        return max(pool, key=lambda c: (c.start_date or date.min, c.id))
    if not contracts:
        return None
    return max(contracts, key=lambda c: (c.end_date or c.termination_date or date.min, c.id))


def holds_future_contract(contracts: list[MbContract], today: date) -> bool:
    return any(
        c.start_date is not None and c.start_date > today and contract_is_live(c, today)
        for c in contracts
    )


def map_agreement(contract: MbContract, today: date) -> BillingAgreement:
    live = contract_is_live(contract, today)
    return BillingAgreement(
        # The sale's own id: unique per client contract (the agreement's key, with its date).
        system_id=str(contract.id),
        agreement_number=str(contract.id),
        sign_date=contract.agreement_date,
        agreement_name=contract.contract_name,
        agreement_type=str(contract.contract_id) if contract.contract_id is not None else None,
        is_active=live and (contract.autopay_status or "Active") != "Inactive",
        start_date=contract.start_date,
        end_date=contract.termination_date or contract.end_date,
        sale_date=contract.agreement_date,
        is_auto_renew=bool(contract.auto_renewing),
        billing_status=contract.autopay_status,
    )


def is_member(client: MbClient, contracts: list[MbContract], today: date) -> bool:
    """The Non-Member rule: not converted unless a contract starts in the future."""
    if client.is_prospect:
        return False
    if client.status == NON_MEMBER or client.status is None:
        return holds_future_contract(contracts, today)
    return True


def map_member(
    client: MbClient, contracts: list[MbContract], zone: ZoneInfo, today: date
) -> BillingMember:
    member = is_member(client, contracts, today)
    current = current_contract(contracts, today) if member else None
    active = member and (
        client.status in MEMBER_STATUSES or holds_future_contract(contracts, today)
    )
    return BillingMember(
        billing_member_id=str(client.unique_id),
        is_prospect=not member,
        is_active=active and client.active,
        contact=_contact(client),
        opt_ins=_opt_ins(client),
        marketing_source=client.referred_by,
        created_at=client.creation_date.astimezone(zone) if client.creation_date else None,
        join_date=current.start_date if current is not None else None,
        modified_at=(
            client.last_modified_date_time.astimezone(zone)
            if client.last_modified_date_time
            else None
        ),
        photo_url=client.photo_url,
        notes=client.notes,
        agreement=map_agreement(current, today) if current is not None else None,
    )


def map_prospect(client: MbClient, zone: ZoneInfo) -> BillingProspect:
    return BillingProspect(
        billing_prospect_id=str(client.unique_id),
        contact=_contact(client),
        created_at=client.creation_date.astimezone(zone) if client.creation_date else None,
    )


def map_staff(staff: MbStaff, today: date) -> BillingEmployee:
    """Roles are Mindbody's flags, named as the CRM's departments."""
    roles = [
        name
        for name, held in (
            ("Appointment Instructor", staff.appointment_instructor),
            ("Class Teacher", staff.class_teacher),
            ("Sales Rep", staff.rep),
            ("Independent Contractor", staff.independent_contractor),
        )
        if held
    ]
    ended = staff.employment_end is not None and staff.employment_end.date() < today
    return BillingEmployee(
        billing_employee_id=str(staff.id),
        contact=ContactData(
            first_name=staff.first_name,
            middle_name=staff.middle_name,
            last_name=staff.last_name,
            email=staff.email,
            mobile_phone=staff.mobile_phone,
            home_phone=staff.home_phone,
            work_phone=staff.work_phone,
            address_line1=staff.address,
            city=staff.city,
            state=staff.state,
            zip=staff.postal_code,
        ),
        departments=tuple(roles),
        is_active=not ended,
    )
