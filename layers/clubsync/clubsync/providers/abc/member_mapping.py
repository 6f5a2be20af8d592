"""ABC member -> CRM member: the "Members" table of spec/abc-integration-overview.txt.

One function per table row that needs more than a copy, in the order of the table. Where the
older table in spec/followups-syncing-translations.txt differs, this follows the newer one;
docs/abc-mapping-differences.md lists each difference.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from clubsync.domain.billing import BillingAgreement, BillingMember
from clubsync.domain.people import ContactData, OptIns
from clubsync.providers.abc.wire import AbcAgreement, AbcMember, AbcPersonal


def to_utc(local: datetime | None, zone: ZoneInfo) -> datetime | None:
    """ABC timestamps are club-local with no zone; stored as UTC with offset."""
    if local is None:
        return None
    return local.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


def map_member(member: AbcMember, zone: ZoneInfo) -> BillingMember:
    personal = member.personal
    agreement = member.agreement
    created_at = created_date_time(agreement, personal, zone)
    return BillingMember(
        billing_member_id=member.member_id,
        billing_club=personal.home_club,  # clubSystemId | personal|homeClub
        is_prospect=is_prospect(personal),
        is_active=bool(personal.is_active),
        contact=map_contact(personal),
        opt_ins=map_opt_ins(personal),
        marketing_source=agreement.campaign_name if agreement else None,
        created_at=created_at,
        join_date=join_date(agreement, created_at),
        modified_at=to_utc(personal.last_modified_timestamp, zone),
        alerts=alert_texts(member),
        agreement=map_agreement(agreement, personal, zone) if agreement else None,
    )


def map_contact(personal: AbcPersonal) -> ContactData:
    return ContactData(
        first_name=personal.first_name,
        middle_name=personal.middle_initial,  # middleName | personal|middleInitial
        last_name=personal.last_name,
        gender=personal.gender,
        date_of_birth=personal.birth_date,  # dateOfBirth | personal|birthDate
        occupation=personal.occupation,
        email=personal.email,
        mobile_phone=personal.mobile_phone,
        home_phone=personal.primary_phone,  # homePhone | personal|primaryPhone
        work_phone=personal.work_phone,
        address_line1=personal.address_line1,
        address_line2=personal.address_line2,
        city=personal.city,
        state=personal.state,
        zip=personal.postal_code,  # zip | personal|postalCode
        group=personal.group,
        barcode=personal.barcode,
    )


def map_opt_ins(personal: AbcPersonal) -> OptIns | None:
    if personal.email_opt_in is None and personal.sms_opt_in is None:
        return None
    return OptIns(email=bool(personal.email_opt_in), sms=bool(personal.sms_opt_in))


def created_date_time(
    agreement: AbcAgreement | None, personal: AbcPersonal, zone: ZoneInfo
) -> datetime | None:
    """createdDateTime | agreement|sinceDate, else personal|createTimestamp."""
    if agreement and agreement.since_date:
        return to_utc(datetime.combine(agreement.since_date, datetime.min.time()), zone)
    return to_utc(personal.create_timestamp, zone)


def join_date(agreement: AbcAgreement | None, created_at: datetime | None) -> date | None:
    """joinDate | agreement|signDate, else the CRM's createdDateTime."""
    if agreement and agreement.sign_date:
        return agreement.sign_date
    return created_at.date() if created_at else None


def is_prospect(personal: AbcPersonal) -> bool:
    """isProspect | personal|joinStatus = "prospect"."""
    return (personal.join_status or "").strip().casefold() == "prospect"


def alert_texts(member: AbcMember) -> tuple[str, ...]:
    """Every alert billing shows: personal|memberStatus and the entries of `alerts`."""
    texts: list[str] = []
    if member.personal.member_status:
        texts.append(member.personal.member_status)
    for alert in member.alerts:
        texts.extend(text for text in (alert.abc_code, alert.message) if text)
    return tuple(texts)


def map_agreement(
    agreement: AbcAgreement, personal: AbcPersonal, zone: ZoneInfo
) -> BillingAgreement:
    number = agreement.agreement_number or ""
    alert = personal.member_status
    return BillingAgreement(
        system_id=f"{personal.home_club or ''}{number}",  # homeClub + agreementNumber
        agreement_number=number,
        sign_date=agreement.sign_date,
        agreement_name=agreement.membership_type,
        agreement_type=agreement.membership_type,
        is_active=bool(personal.is_active),  # Membership.isActive | personal|isActive
        is_primary_agreement=agreement.is_primary_member is not False,
        is_online_signup=is_online_signup(agreement),
        entry_source=agreement.agreement_entry_source,
        recurring_payment=agreement.next_due_amount,
        down_payment=agreement.down_payment,
        past_due_balance=agreement.past_due_balance,
        start_date=agreement.begin_date,
        end_date=agreement.expiration_date,
        sale_date=sale_date(agreement),
        is_renewal=agreement.last_renewal_date is not None,
        is_rewrite=agreement.last_rewrite_date is not None,
        is_auto_renew=is_auto_renew(agreement),
        billing_status=agreement.current_queue,
        billing_status_date=to_utc(agreement.queue_timestamp, zone)
        if agreement.current_queue
        else None,
        alert=alert,
        alert_date=personal.member_status_date if alert else None,
        alert_reason=personal.member_status_reason if alert else None,
    )


def is_online_signup(agreement: AbcAgreement) -> bool:
    """isOnlineSignup | agreement|stationLocation: an online signup is made at station "Home"."""
    return (agreement.station_location or "").strip().casefold() == "home"


def sale_date(agreement: AbcAgreement) -> date | None:
    """saleDate | lastRenewalDate, lastRewriteDate, signDate, otherwise sinceDate."""
    for candidate in (
        agreement.last_renewal_date,
        agreement.last_rewrite_date,
        agreement.sign_date,
        agreement.since_date,
    ):
        if candidate is not None:
            return candidate
    return None


def is_auto_renew(agreement: AbcAgreement) -> bool:
    """isAutoRenew: open-ended (no expirationDate) with dues above zero, or a renewalType
    containing "Auto"."""
    open_ended_with_dues = agreement.expiration_date is None and (
        agreement.next_due_amount is not None and agreement.next_due_amount > Decimal(0)
    )
    renews_automatically = "auto" in (agreement.renewal_type or "").casefold()
    return open_ended_with_dues or renews_automatically
