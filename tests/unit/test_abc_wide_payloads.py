"""Real ABC payloads are wider than what clubsync maps (reference/abc-api.md, "Member record"):
the sandbox serves the wider fields and clubsync ignores them, so a wide record maps exactly as
the narrow one. Also: every shape of an event's attendee list maps the same."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clubsync.providers.abc.events import event_source
from clubsync.providers.abc.member_mapping import map_member
from clubsync.providers.abc.wire import AbcAgreement, AbcMember, AbcPersonal
from clubsync.sandbox.abc.activity import EVENT_MEMBER_SHAPES, generate_activity
from clubsync.sandbox.abc.generator import generate_members

CLUB = "0451"
ZONE = ZoneInfo("America/Chicago")
NOW_LOCAL = datetime(2026, 11, 20, 21, 0)
WIDE_PERSONAL = (
    "workPhoneExt",
    "isConvertedProspect",
    "hasPhoto",
    "firstCheckInTimestamp",
    "lastCheckInTimestamp",
    "totalCheckInCount",
)
WIDE_AGREEMENT = (
    "isNonMember",
    "ordinal",
    "salesPersonName",
    "salesPersonHomeClub",
    "paymentPlan",
    "paymentPlanId",
    "term",
    "paymentFrequency",
    "managedType",
    "isPastDue",
    "agreementPaymentMethod",
    "lateFeeAmount",
    "serviceFeeAmount",
    "totalPastDueBalance",
    "firstPaymentDate",
    "nextBillingDate",
    "convertedDate",
    "renewalDate",
    "primaryBillingAccountHolder",
)


@pytest.fixture(scope="module")
def pair() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    wide = generate_members(400, club_number=CLUB, now_local=NOW_LOCAL, seed=3)
    narrow = generate_members(400, club_number=CLUB, now_local=NOW_LOCAL, seed=3, wide=False)
    return wide, narrow


def test_the_wire_models_ignore_unknown_fields() -> None:
    for model in (AbcMember, AbcPersonal, AbcAgreement):
        assert model.model_config.get("extra") == "ignore", model


def test_wide_records_are_the_same_people_with_more_fields(
    pair: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    wide, narrow = pair
    for w, n in zip(wide, narrow, strict=True):
        assert w["memberId"] == n["memberId"]
        for section in ("personal", "agreement"):
            assert {k: v for k, v in w[section].items() if k in n[section]} == n[section]
            extra = set(w[section]) - set(n[section])
            assert extra <= set(WIDE_PERSONAL if section == "personal" else WIDE_AGREEMENT)
        assert w.get("alerts") == n.get("alerts")


def test_every_wide_field_occurs(pair: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    wide, _ = pair
    for section, keys in (("personal", WIDE_PERSONAL), ("agreement", WIDE_AGREEMENT)):
        for key in keys:
            assert any(m[section].get(key) for m in wide), (section, key)
    for member in wide:
        agreement = member["agreement"]
        assert agreement["isPastDue"] == (
            "true" if agreement["pastDueBalance"] != "0.00" else "false"
        )
        if member["personal"].get("lastCheckInTimestamp"):
            assert (
                member["personal"]["createTimestamp"] <= member["personal"]["lastCheckInTimestamp"]
            )


def test_a_wide_record_maps_exactly_as_the_narrow_one(
    pair: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    wide, narrow = pair
    for w, n in zip(wide, narrow, strict=True):
        assert map_member(AbcMember.model_validate(w), ZONE) == map_member(
            AbcMember.model_validate(n), ZONE
        )


def test_every_attendee_shape_maps_the_same() -> None:
    members = [{"memberId": f"m{i:04d}"} for i in range(80)]
    source = event_source(None, ZONE)
    mapped = {
        shape: [
            source.translate(event)
            for event in generate_activity(
                members, club_number=CLUB, now_local=NOW_LOCAL, seed=2, event_members=shape
            )["events"]
        ]
        for shape in EVENT_MEMBER_SHAPES
    }
    first = mapped["array"]
    assert first and all(len(event.attendees) == 1 for event in first)
    assert all(events == first for events in mapped.values())
