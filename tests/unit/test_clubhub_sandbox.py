"""The Club Hub sandbox plays pending memberships that turn into real ones."""

from __future__ import annotations

import json
from datetime import date

import pytest

from clubsync.providers.clubhub.wire import ClubHubDelivery, ClubHubMember
from clubsync.sandbox.clubhub import ClubHubSandbox

SOLD = date(2022, 1, 1)


def test_a_replaced_pending_membership_disappears_and_inactive_ones_are_not_listed() -> None:
    sandbox = ClubHubSandbox("1203")
    for account in ("A", "B"):
        sandbox.add_account(ClubHubMember(member_id=account, first_name="Mary", last_name="M"))
    sandbox.sell_pending("A", "111", SOLD)
    sandbox.sell_pending("B", "456", SOLD)
    sandbox.replace_pending("A", "111", "123", SOLD)
    listed = {
        e["member"]["member_id"]: [(m["membership_id"], m["pending"]) for m in e["memberships"]]
        for e in sandbox.listing()["members"]
    }
    assert listed == {"A": [("123", False)], "B": [("456", True)]}

    sandbox.deactivate("B", "456")
    assert [len(e["memberships"]) for e in sandbox.listing()["members"]] == [1, 0]
    with pytest.raises(ValueError, match="no membership 111"):
        sandbox.replace_pending("A", "111", "124", SOLD)


def test_push_batches_are_valid_deliveries_with_new_ids() -> None:
    sandbox = ClubHubSandbox("1203")
    sandbox.add_account(ClubHubMember(member_id="A", first_name="Mary", last_name="M"))
    sandbox.sell_pending("A", "111", SOLD)
    first, second = sandbox.deliveries(), sandbox.deliveries()
    parsed = [ClubHubDelivery.model_validate(json.loads(b)) for b in first + second]
    assert {d.club_id for d in parsed} == {"1203"}
    assert len({d.delivery_id for d in parsed}) == 2


def test_the_sandbox_signs_as_clubsync_checks() -> None:
    from datetime import UTC, datetime

    from clubsync.providers.clubhub.signing import signature_problem

    sandbox = ClubHubSandbox("1203")
    sandbox.add_account(ClubHubMember(member_id="A", first_name="Mary", last_name="M"))
    sandbox.sell_pending("A", "111", SOLD)
    at = datetime(2022, 1, 3, 15, 4, 5, tzinfo=UTC)
    ((body, headers),) = sandbox.signed_deliveries(b"secret", at)
    lowered = {k.lower(): v for k, v in headers.items()}
    assert signature_problem(b"secret", body, lowered, at) is None
    assert signature_problem(b"other", body, lowered, at) is not None


def test_the_sandbox_writes_the_fields_clubsync_reads() -> None:
    from clubsync.providers.clubhub import wire
    from clubsync.sandbox.clubhub.wire import SandboxMember, SandboxMembership

    assert list(SandboxMember.model_fields) == list(wire.ClubHubMember.model_fields)
    assert list(SandboxMembership.model_fields) == list(wire.ClubHubMembership.model_fields)
