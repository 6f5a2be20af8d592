"""Every row of the "Members" table in spec/abc-integration-overview.txt."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clubsync.domain.billing import BillingMember
from clubsync.providers.abc.member_mapping import map_member
from clubsync.providers.abc.members import AbcMemberSource
from clubsync.providers.abc.wire import AbcMember
from clubsync.providers.base import InvalidRecord
from tests.conftest import abc_member

CHICAGO = ZoneInfo("America/Chicago")


def mapped(record: dict[str, Any]) -> BillingMember:
    return map_member(AbcMember.model_validate(record), CHICAGO)


def test_contact_and_demographic_rows() -> None:
    member = mapped(abc_member(personal__occupation="Nurse", personal__group="Staff"))
    contact = member.contact
    assert member.billing_club == "0451"  # clubSystemId | personal|homeClub
    assert contact.first_name == "DANA"  # stored as entered; matching normalises
    assert contact.middle_name == "K"  # middleName | personal|middleInitial
    assert contact.last_name == "Reyes"
    assert contact.gender == "Female"
    assert contact.date_of_birth == date(1990, 4, 1)  # dateOfBirth | personal|birthDate
    assert contact.occupation == "Nurse"
    assert contact.email == "dana@example.org"
    assert contact.mobile_phone == "5550100101"
    assert contact.home_phone == "(555) 010-0100"  # homePhone | personal|primaryPhone
    assert contact.work_phone is None  # "" is blank
    assert contact.address_line1 == "12 Elm St"
    assert contact.city == "Springfield"
    assert contact.state == "IL"
    assert contact.zip == "62701"  # zip | personal|postalCode
    assert contact.group == "Staff"
    assert contact.barcode == "G00171903"
    assert member.marketing_source == "Referral by Member"  # agreement|campaignName


def test_created_date_time_is_since_date_else_create_timestamp() -> None:
    assert mapped(abc_member()).created_at == datetime(2024, 8, 17, 5, tzinfo=UTC)
    without_since = mapped(abc_member(agreement__sinceDate=None))
    # 2024-08-09 14:36:46.321 in Chicago (CDT, UTC-5) is 19:36:46.321 UTC.
    assert without_since.created_at == datetime(2024, 8, 9, 19, 36, 46, 321000, tzinfo=UTC)


def test_join_date_is_sign_date_else_created_date() -> None:
    assert mapped(abc_member()).join_date == date(2024, 8, 17)
    assert mapped(abc_member(agreement__signDate=None, agreement__sinceDate=None)).join_date == (
        date(2024, 8, 9)
    )


@pytest.mark.parametrize(
    ("join_status", "expected"), [("Member", False), ("prospect", True), ("PROSPECT", True)]
)
def test_is_prospect_when_join_status_is_prospect(join_status: str, expected: bool) -> None:
    assert mapped(abc_member(personal__joinStatus=join_status)).is_prospect is expected


def test_membership_rows() -> None:
    agreement = mapped(abc_member()).agreement
    assert agreement is not None
    assert agreement.system_id == "045106296"  # homeClub + agreementNumber
    assert agreement.agreement_name == agreement.agreement_type == "GOLD"
    assert agreement.is_active is True  # personal|isActive
    assert agreement.is_primary_agreement is True
    assert agreement.is_online_signup is True  # stationLocation "Home"
    assert agreement.entry_source == "DataTrak Fast Add"
    assert agreement.recurring_payment == Decimal("29.99")  # nextDueAmount
    assert agreement.down_payment == Decimal("99.50")
    assert agreement.past_due_balance == Decimal("0.00")
    assert agreement.start_date == date(2024, 8, 17)  # beginDate
    assert agreement.end_date is None  # expirationDate ""
    assert agreement.billing_status == "Posted"  # currentQueue
    assert agreement.billing_status_date == datetime(2024, 8, 17, 22, 6, 32, 234000, tzinfo=UTC)


def test_online_signup_only_at_station_home() -> None:
    agreement = mapped(abc_member(agreement__stationLocation="Front Desk")).agreement
    assert agreement is not None and agreement.is_online_signup is False


def test_sale_date_prefers_renewal_then_rewrite_then_sign_then_since() -> None:
    def sale(**changes: Any) -> date | None:
        agreement = mapped(abc_member(**changes)).agreement
        assert agreement is not None
        return agreement.sale_date

    assert sale(
        agreement__lastRenewalDate="2026-01-02", agreement__lastRewriteDate="2025-06-01"
    ) == date(2026, 1, 2)
    assert sale(agreement__lastRewriteDate="2025-06-01") == date(2025, 6, 1)
    assert sale() == date(2024, 8, 17)
    assert sale(agreement__signDate=None, agreement__sinceDate="2024-08-10") == date(2024, 8, 10)


def test_renewal_and_rewrite_flags_from_their_dates() -> None:
    plain = mapped(abc_member()).agreement
    renewed = mapped(abc_member(agreement__lastRenewalDate="2026-01-02")).agreement
    rewritten = mapped(abc_member(agreement__lastRewriteDate="2025-06-01")).agreement
    assert plain is not None and renewed is not None and rewritten is not None
    assert (plain.is_renewal, plain.is_rewrite) == (False, False)
    assert renewed.is_renewal and not renewed.is_rewrite
    assert rewritten.is_rewrite and not rewritten.is_renewal


@pytest.mark.parametrize(
    ("expiration", "dues", "renewal_type", "expected"),
    [
        ("", "29.99", "None", True),  # open-ended with dues above zero
        ("", "0.00", "None", False),
        ("", "", "None", False),
        ("2027-01-01", "29.99", "None", False),
        ("2027-01-01", "29.99", "Auto Renew", True),  # renewalType contains "Auto"
    ],
)
def test_auto_renew(expiration: str, dues: str, renewal_type: str, expected: bool) -> None:
    agreement = mapped(
        abc_member(
            agreement__expirationDate=expiration,
            agreement__nextDueAmount=dues,
            agreement__renewalType=renewal_type,
        )
    ).agreement
    assert agreement is not None and agreement.is_auto_renew is expected


def test_billing_status_date_only_with_a_billing_status() -> None:
    agreement = mapped(abc_member(agreement__currentQueue="")).agreement
    assert agreement is not None
    assert agreement.billing_status is None and agreement.billing_status_date is None


def test_alert_fields_only_when_there_is_an_alert() -> None:
    alerted = mapped(
        abc_member(
            personal__memberStatus="Cancelled",
            personal__memberStatusDate="2026-04-21",
            personal__memberStatusReason="Moved away",
        )
    )
    assert alerted.agreement is not None
    assert alerted.agreement.alert == "Cancelled"
    assert alerted.agreement.alert_date == date(2026, 4, 21)
    assert alerted.agreement.alert_reason == "Moved away"
    silent = mapped(abc_member(personal__memberStatus="", personal__memberStatusReason="x"))
    assert silent.agreement is not None and silent.agreement.alert_reason is None


def test_alerts_list_arriving_as_a_bare_object_is_read_as_one_alert() -> None:
    record = abc_member()
    record["alerts"] = {
        "message": "MEMBERSHIP CANCELLED 04/21/2026",
        "abcCode": "Membership Cancelled",
    }
    assert mapped(record).alerts == (
        "Active",
        "Membership Cancelled",
        "MEMBERSHIP CANCELLED 04/21/2026",
    )


def test_missing_optional_fields_are_none_not_errors() -> None:
    record = abc_member(
        personal__middleInitial=None, personal__workPhone=None, agreement__expirationDate=None
    )
    member = mapped(record)
    assert member.contact.middle_name is None and member.contact.work_phone is None


def test_opt_ins_read_when_billing_sends_them() -> None:
    assert mapped(abc_member()).opt_ins is None
    opted = mapped(abc_member(personal__emailOptIn="true", personal__smsOptIn="false"))
    assert opted.opt_ins is not None and (opted.opt_ins.email, opted.opt_ins.sms) == (True, False)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"personal__birthDate": "31/02/1990"}, "personal.birthDate"),
        ({"personal__isActive": "maybe"}, "personal.isActive"),
        ({"agreement__nextDueAmount": "lots"}, "agreement.nextDueAmount"),
        ({"personal__lastModifiedTimestamp": "yesterday"}, "personal.lastModifiedTimestamp"),
    ],
)
def test_malformed_records_are_refused_with_the_field_named(
    changes: dict[str, str], field: str
) -> None:
    source = AbcMemberSource(client=None, zone=CHICAGO)  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord) as raised:
        source.translate(abc_member(**changes))
    assert field in raised.value.reason
    assert "31/02" not in raised.value.reason  # reasons name fields, not personal values


def test_record_without_member_id_is_refused() -> None:
    source = AbcMemberSource(client=None, zone=CHICAGO)  # type: ignore[arg-type]
    record = abc_member()
    del record["memberId"]
    with pytest.raises(InvalidRecord, match="memberId"):
        source.translate(record)
