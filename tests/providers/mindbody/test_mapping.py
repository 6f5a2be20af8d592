"""Mindbody clients and contracts in CRM terms (providers/mindbody/mapping.py)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from clubsync.providers.mindbody.mapping import current_contract, is_member, map_member
from clubsync.providers.mindbody.wire import MbClient, MbContract
from tests.providers.mindbody.fixtures import client_record, contract_record

TODAY = date(2026, 12, 2)
ZONE = ZoneInfo("America/New_York")


def contract(sale_id: int, start: str, end: str | None, **fields: object) -> MbContract:
    return MbContract.model_validate(
        contract_record(sale_id, StartDate=start, EndDate=end, **fields)
    )


@pytest.mark.parametrize(
    ("status", "member", "active"),
    [
        ("Active", True, True),
        ("Suspended", True, True),
        ("Expired", True, False),
        ("Terminated", True, False),
        ("Declined", True, False),
    ],
)
def test_statuses(status: str, member: bool, active: bool) -> None:
    client = MbClient.model_validate(client_record(1, Status=status))
    mapped = map_member(client, [], ZONE, TODAY)
    assert (not mapped.is_prospect, mapped.is_active) == (member, active)


def test_non_member_with_a_past_contract_stays_a_prospect() -> None:
    client = MbClient.model_validate(client_record(1, Status="Non-Member"))
    past = contract(1, "2025-01-01T00:00:00", "2025-12-31T00:00:00")
    assert not is_member(client, [past], TODAY)
    future = contract(2, "2027-01-01T00:00:00", None)
    assert is_member(client, [past, future], TODAY)


def test_a_prospect_is_never_a_member() -> None:
    client = MbClient.model_validate(client_record(1, Status="Active", IsProspect=True))
    assert not is_member(client, [contract(2, "2027-01-01T00:00:00", None)], TODAY)


def test_the_current_contract_is_the_live_one_that_started_last() -> None:
    old = contract(1, "2025-01-01T00:00:00", "2025-12-31T00:00:00")
    live = contract(2, "2026-01-01T00:00:00", "2026-12-31T00:00:00")
    later = contract(3, "2026-06-01T00:00:00", None)
    terminated = contract(4, "2026-07-01T00:00:00", None, TerminationDate="2026-11-01T00:00:00")
    assert current_contract([old, live, later, terminated], TODAY) == later
    assert current_contract([old], TODAY) == old
    assert current_contract([], TODAY) is None


def test_the_agreement_is_keyed_by_the_contract_sale() -> None:
    client = MbClient.model_validate(client_record(7))
    mapped = map_member(client, [contract(55, "2026-01-01T00:00:00", None)], ZONE, TODAY)
    assert mapped.agreement is not None
    assert (mapped.agreement.system_id, mapped.agreement.agreement_number) == ("55", "55")
    assert mapped.join_date == date(2026, 1, 1)
    assert mapped.billing_member_id == "7"
