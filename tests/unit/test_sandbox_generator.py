"""The sandbox's generated ABC member records: shape, determinism and quirk rates."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from clubsync.sandbox import generate_members
from clubsync.sandbox.abc.generator import (
    INACTIVE_STATUSES,
    MALFORMED_KINDS,
    MEMBERSHIP_TYPES,
    STATUS_ALERT_CODES,
    make_malformed_member,
)

NOW_LOCAL = datetime(2025, 6, 1, 9, 30, 0)
CLUB = "0451"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PHONE = re.compile(r"^(\(555\) 010-01\d\d|555010 ?01\d\d|555\.010\.01\d\d)$")
NAME_FIELDS = ("firstName", "lastName", "addressLine1", "addressLine2", "city")
DATE_FIELDS = ("sinceDate", "beginDate", "signDate", "expirationDate")


@pytest.fixture(scope="module")
def members() -> list[dict[str, Any]]:
    return generate_members(2000, club_number=CLUB, now_local=NOW_LOCAL, seed=7)


def _share(members: list[dict[str, Any]], predicate: Any) -> float:
    return sum(1 for m in members if predicate(m)) / len(members)


def _ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f")


def _alerts(member: dict[str, Any]) -> list[dict[str, Any]]:
    raw = member.get("alerts")
    if raw is None:
        return []
    return [raw] if isinstance(raw, dict) else list(raw)


def _is_strictly_valid(record: dict[str, Any]) -> bool:
    """What a strict client checks before accepting a record."""
    member_id = record.get("memberId")
    if not isinstance(member_id, str) or not HEX32.match(member_id):
        return False
    personal = record.get("personal")
    if not isinstance(personal, dict):
        return False
    if personal.get("isActive") not in ("true", "false"):
        return False
    try:
        date.fromisoformat(personal["birthDate"])
        _ts(personal["lastModifiedTimestamp"])
        _ts(personal["createTimestamp"])
    except (KeyError, ValueError):
        return False
    return True


def test_same_seed_same_records_other_seed_other_records() -> None:
    first = generate_members(60, club_number=CLUB, now_local=NOW_LOCAL, seed=3)
    again = generate_members(60, club_number=CLUB, now_local=NOW_LOCAL, seed=3)
    other = generate_members(60, club_number=CLUB, now_local=NOW_LOCAL, seed=4)
    assert first == again
    assert [m["memberId"] for m in first] != [m["memberId"] for m in other]


def test_count_zero_and_bad_arguments() -> None:
    assert generate_members(0, club_number=CLUB, now_local=NOW_LOCAL) == []
    with pytest.raises(ValueError, match="naive"):
        generate_members(
            1, club_number=CLUB, now_local=datetime(2025, 1, 1, tzinfo=None).astimezone()
        )
    with pytest.raises(ValueError, match="agreement numbers"):
        generate_members(100_001, club_number=CLUB, now_local=NOW_LOCAL)


def test_record_shape_and_every_scalar_is_a_string(members: list[dict[str, Any]]) -> None:
    for member in members:
        assert set(member) <= {"memberId", "personal", "agreement", "alerts"}
        assert HEX32.match(member["memberId"])
        for section in ("personal", "agreement"):
            assert isinstance(member[section], dict)
            for key, value in member[section].items():
                if key == "primaryBillingAccountHolder":  # the one nested object
                    assert set(value) == {"firstName", "lastName"}
                    assert all(isinstance(v, str) for v in value.values())
                    continue
                assert isinstance(value, str), (section, key, value)
        for alert in _alerts(member):
            assert set(alert) == {"message", "abcCode"}
            assert all(isinstance(v, str) for v in alert.values())
        personal, agreement = member["personal"], member["agreement"]
        assert personal["homeClub"] == CLUB
        assert personal["joinStatus"] == "Member"
        assert personal["isActive"] in ("true", "false")
        assert personal["emailOptIn"] in ("true", "false")
        assert personal["smsOptIn"] in ("true", "false")
        assert agreement["isPrimaryMember"] in ("true", "false")
        assert agreement["membershipType"] in MEMBERSHIP_TYPES
        assert agreement["renewalType"] in ("None", "Auto Renew")
        assert re.match(r"^\d+\.\d{2}$", agreement["nextDueAmount"])
        assert re.match(r"^\d{5}$", agreement["agreementNumber"])
        assert TIMESTAMP.match(personal["createTimestamp"])
        assert TIMESTAMP.match(personal["lastModifiedTimestamp"])
        assert TIMESTAMP.match(agreement["queueTimestamp"])
        assert DATE.match(personal["birthDate"])
        for key in DATE_FIELDS:
            if agreement.get(key):
                assert DATE.match(agreement[key]), (key, agreement[key])
        assert _is_strictly_valid(member)


def test_fictional_contact_data_only(members: list[dict[str, Any]]) -> None:
    formats: Counter[str] = Counter()
    for member in members:
        personal = member["personal"]
        assert personal["email"].rsplit("@", 1)[1] in ("example.org", "example.com", "example.net")
        for key in ("primaryPhone", "mobilePhone", "workPhone"):
            phone = personal.get(key)
            if phone:
                assert PHONE.match(phone), phone
                formats[phone[0] if phone[0] == "(" else phone[3]] += 1
    assert set(formats) == {"(", "0", "."}  # all three formats occur


def test_unique_member_ids_and_agreement_numbers(members: list[dict[str, Any]]) -> None:
    assert len({m["memberId"] for m in members}) == len(members)
    assert len({m["agreement"]["agreementNumber"] for m in members}) == len(members)


def test_reserved_agreement_numbers_are_left_out() -> None:
    first = generate_members(50, club_number=CLUB, now_local=NOW_LOCAL, seed=1)
    taken = {m["agreement"]["agreementNumber"] for m in first}
    second = generate_members(
        50, club_number=CLUB, now_local=NOW_LOCAL, seed=1, reserved_agreement_numbers=taken
    )
    assert taken.isdisjoint(m["agreement"]["agreementNumber"] for m in second)


def test_name_quirks_at_realistic_rates(members: list[dict[str, Any]]) -> None:
    caps = _share(
        members,
        lambda m: m["personal"]["firstName"].isupper() and m["personal"]["lastName"].isupper(),
    )
    assert 0.03 <= caps <= 0.075
    doubled = _share(
        members, lambda m: any("  " in m["personal"].get(key, "") for key in NAME_FIELDS)
    )
    assert 0.015 <= doubled <= 0.05


def test_optional_fields_often_missing_rather_than_empty(members: list[dict[str, Any]]) -> None:
    for section, key in [
        ("personal", "middleInitial"),
        ("personal", "workPhone"),
        ("personal", "addressLine2"),
        ("personal", "occupation"),
        ("personal", "group"),
        ("personal", "memberStatusReason"),
        ("agreement", "expirationDate"),
        ("agreement", "lastRenewalDate"),
        ("agreement", "lastRewriteDate"),
    ]:
        missing = _share(members, lambda m, s=section, k=key: k not in m[s])
        present = _share(members, lambda m, s=section, k=key: bool(m[s].get(k)))
        assert 0.1 <= missing <= 0.9, (key, missing)
        assert present > 0.03, (key, present)
    for key in ("workPhone", "addressLine2", "lastRenewalDate"):
        assert (
            _share(
                members,
                lambda m, k=key: m["personal" if k in m["personal"] else "agreement"].get(k) == "",
            )
            > 0.03
        )


def test_alerts_absent_list_or_bare_object(members: list[dict[str, Any]]) -> None:
    kinds = Counter(
        "absent"
        if "alerts" not in m
        else "object"
        if isinstance(m["alerts"], dict)
        else "empty"
        if not m["alerts"]
        else "list"
        for m in members
    )
    assert kinds["absent"] > 0.5 * len(members)
    for kind in ("object", "empty", "list"):
        assert kinds[kind] >= 20, kinds


def test_active_share_and_inactive_statuses(members: list[dict[str, Any]]) -> None:
    assert 0.76 <= _share(members, lambda m: m["personal"]["isActive"] == "true") <= 0.84
    statuses: Counter[str] = Counter()
    with_status_alert = 0
    inactive = [m for m in members if m["personal"]["isActive"] == "false"]
    for member in members:
        personal = member["personal"]
        if personal["isActive"] == "true":
            assert personal["memberStatus"] == "Active"
            codes = {a["abcCode"] for a in _alerts(member)}
            assert codes.isdisjoint(STATUS_ALERT_CODES.values())
            continue
        status = personal["memberStatus"]
        statuses[status] += 1
        assert DATE.match(personal["memberStatusDate"])
        if any(a["abcCode"] == STATUS_ALERT_CODES[status] for a in _alerts(member)):
            with_status_alert += 1
    assert set(statuses) == set(INACTIVE_STATUSES)
    assert with_status_alert >= 0.8 * len(inactive)
    assert "Membership Cancelled" in STATUS_ALERT_CODES.values()


def test_timestamps_spread_with_recent_share(members: list[dict[str, Any]]) -> None:
    today = NOW_LOCAL.date()
    recent = 0
    for member in members:
        personal, agreement = member["personal"], member["agreement"]
        created, modified = _ts(personal["createTimestamp"]), _ts(personal["lastModifiedTimestamp"])
        assert NOW_LOCAL - timedelta(days=731) <= created <= modified <= NOW_LOCAL
        sign = date.fromisoformat(agreement["signDate"])
        assert today - timedelta(days=3 * 366) <= sign <= today
        if modified >= NOW_LOCAL - timedelta(days=90):
            recent += 1
    assert 0.3 <= recent / len(members) <= 0.7
    home = _share(members, lambda m: m["agreement"]["stationLocation"] == "Home")
    assert 0.2 <= home <= 0.4
    assert 0.4 <= _share(members, lambda m: m["agreement"]["renewalType"] == "Auto Renew") <= 0.7


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_each_malformed_kind_fails_strict_validation(kind: str) -> None:
    record = make_malformed_member(random.Random(5), kind=kind, club_number=CLUB)
    assert not _is_strictly_valid(record)


def test_malformed_from_a_base_keeps_the_rest_and_leaves_the_base_alone(
    members: list[dict[str, Any]],
) -> None:
    base = members[0]
    snapshot = repr(base)
    record = make_malformed_member(random.Random(1), base=base, kind="bad_birth_date")
    assert record["personal"]["birthDate"] == "31/02/1990"
    assert record["memberId"] == base["memberId"]
    assert repr(base) == snapshot


def test_random_malformed_records_are_all_malformed_and_varied() -> None:
    rng = random.Random(11)
    records = [make_malformed_member(rng) for _ in range(60)]
    assert not any(_is_strictly_valid(r) for r in records)
    signatures = {
        ("memberId" in r, r.get("memberId", "")[:3] == "not", isinstance(r["personal"], str))
        for r in records
    }
    assert len(signatures) >= 3
    with pytest.raises(ValueError, match="unknown malformed kind"):
        make_malformed_member(rng, kind="nope")
