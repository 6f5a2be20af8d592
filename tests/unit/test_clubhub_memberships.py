"""Club Hub pending memberships (spec/clubhub-duplicated-agreements.txt), rule by rule."""

from __future__ import annotations

from datetime import date, timedelta

from clubsync.providers.clubhub.memberships import MembershipOutcome
from tests.unit.clubhub_helpers import Location, observation

SOLD = date(2022, 1, 1)


def test_the_article_timeline_keeps_one_copy_of_each_agreement() -> None:
    # Two Club Hub accounts of Member Mary, both matched to one CRM account (as in the article).
    mary = Location({"A": "mary", "B": "mary"})
    real_123 = observation("A", "123", SOLD, pending=False)
    pending_456 = observation("B", "456", SOLD, pending=True)
    timeline = [real_123, pending_456, real_123, pending_456, real_123, pending_456]

    outcomes = [mary.apply(seen).outcome for seen in timeline]

    # Steps 3-18 of the article: 123, then 123 + 456, then 123 + 123, then 123 + 123 + 456 ...
    # Here: 123 once, and the pending 456 is recognised as the sale 123 already replaced: kept
    # archived (out of reports), so every later cycle is a replay that writes nothing.
    assert mary.of("mary") == ["123"]
    assert mary.archived() == ["456"]
    assert outcomes == [
        MembershipOutcome.ADDED,
        MembershipOutcome.PENDING_ALREADY_REPLACED,
        *[MembershipOutcome.UNCHANGED] * 4,
    ]
    # The cause is named for the duplicate report.
    assert {f.accounts for f in mary.findings} == {("A", "B")}
    assert mary.people["mary"].current_agreement_key == "123#2022-01-01"


def test_the_article_timeline_with_two_crm_accounts_does_not_copy_the_agreement() -> None:
    # The second Club Hub account became its own CRM account: 123 arriving through it is a
    # duplicate-accounts finding, never a second copy.
    location = Location({"A": "mary", "B": "mary-2"})
    location.apply(observation("A", "123", SOLD, pending=False))
    change = location.apply(observation("B", "123", SOLD, pending=False))
    assert change.outcome is MembershipOutcome.HELD_BY_ANOTHER_PERSON
    assert location.ids() == ["123"]
    assert change.finding is not None
    assert change.finding.person_ids == ("mary", "mary-2")


def test_a_pending_membership_shows_the_close_then_is_replaced_by_the_real_one() -> None:
    location = Location({"A": "mary"})
    added = location.apply(observation("A", "456", SOLD, pending=True))
    assert added.outcome is MembershipOutcome.ADDED
    assert location.of("mary") == ["456(pending)"]

    replaced = location.apply(observation("A", "123", SOLD + timedelta(days=12), pending=False))
    assert replaced.outcome is MembershipOutcome.REPLACED_PENDING
    assert [a.agreement_key for a in replaced.puts if a.archived] == ["456#2022-01-01"]
    assert location.of("mary") == ["123"]
    assert location.archived() == ["456"]


def test_a_real_membership_arriving_first_makes_its_pending_one_a_no_op() -> None:
    location = Location({"A": "mary"})
    location.apply(observation("A", "123", SOLD + timedelta(days=3), pending=False))
    pending = observation("A", "456", SOLD, pending=True)
    change = location.apply(pending)
    assert change.outcome is MembershipOutcome.PENDING_ALREADY_REPLACED
    assert change.finding is None  # one account: nothing to report
    assert location.of("mary") == ["123"]
    assert location.archived() == ["456"]
    assert not location.apply(pending).writes


def test_sale_dates_30_days_apart_are_two_sales() -> None:
    location = Location({"A": "mary"})
    location.apply(observation("A", "456", SOLD, pending=True))
    location.apply(observation("A", "123", SOLD + timedelta(days=30), pending=False))
    assert location.of("mary") == ["123", "456(pending)"]
    # 29 days apart: replaced.
    other = Location({"A": "mary"})
    other.apply(observation("A", "456", SOLD, pending=True))
    other.apply(observation("A", "123", SOLD + timedelta(days=29), pending=False))
    assert other.of("mary") == ["123"]


def test_replays_write_nothing() -> None:
    location = Location({"A": "mary"})
    timeline = [
        observation("A", "456", SOLD, pending=True),
        observation("A", "123", SOLD, pending=False),
        observation("A", "789", SOLD + timedelta(days=90), pending=False),
    ]
    for seen in timeline:
        location.apply(seen)
    writes = location.writes
    for seen in timeline * 3:
        assert not location.apply(seen).writes
    assert location.writes == writes
    assert location.of("mary") == ["123", "789"]
    assert location.people["mary"].current_agreement_key == "789#2022-04-01"


def test_archived_copies_stay_archived_when_billing_shows_them_again() -> None:
    location = Location({"A": "mary"})
    location.apply(observation("A", "123", SOLD, pending=False))
    key = "123#2022-01-01"
    location.agreements[key] = location.agreements[key].model_copy(update={"archived": True})
    change = location.apply(observation("A", "123", SOLD, pending=False, active=False))
    assert change.outcome is MembershipOutcome.UPDATED
    assert location.agreements[key].archived
    assert not location.agreements[key].is_active


def test_one_sale_seen_through_two_accounts_is_one_pending_close() -> None:
    location = Location({"A": "mary", "B": "mary"})
    location.apply(observation("A", "111", SOLD, pending=True))
    change = location.apply(observation("B", "456", SOLD, pending=True))
    assert change.outcome is MembershipOutcome.PENDING_OF_DUPLICATE_ACCOUNT
    assert change.finding is not None and change.finding.accounts == ("A", "B")
    assert location.of("mary") == ["111(pending)"]
    # Two sales on one account within 30 days stay two closes.
    location.apply(observation("A", "112", SOLD + timedelta(days=3), pending=True))
    assert location.of("mary") == ["111(pending)", "112(pending)"]


def test_a_replay_converges_although_30_days_apart_is_not_transitive() -> None:
    """Found by the hypothesis property: B's pending P2 (01-31) is the same sale as A's pending
    P0 (02-01, one day apart), which the real R2 (03-02, 29 days after P0) replaces. R2 is 30
    days from P2, so "is there a live pending or real one within 30 days?" answers no on a
    replay and P2 used to be added then: the count grew. P2 is kept archived instead, and a
    replay of the whole timeline writes nothing."""
    mary = Location({"A": "mary", "B": "mary"})
    timeline = [
        observation("A", "P0", date(2022, 2, 1), pending=True),
        observation("A", "P1", date(2022, 1, 1), pending=True),
        observation("B", "P2", date(2022, 1, 31), pending=True),
        observation("A", "R2", date(2022, 3, 2), pending=False, active=False),
    ]
    for seen in timeline:
        mary.apply(seen)
    assert mary.of("mary") == ["P1(pending)", "R2"]
    assert mary.archived() == ["P0", "P2"]
    writes = mary.writes
    for seen in timeline:
        mary.apply(seen)
    assert (mary.of("mary"), mary.writes) == (["P1(pending)", "R2"], writes)
