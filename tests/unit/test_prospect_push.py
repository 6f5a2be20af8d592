"""Decide-and-push, in memory: loop-safety, one billing prospect, outcomes (docs/prospects.md)."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta

import pytest

from clubsync.domain.people import PersonKind, ProspectPushState
from clubsync.domain.settings import LocationSettings
from clubsync.features.prospect_push import (
    MemoryDeadLetters,
    ProspectPusher,
    PushOutcome,
    RetryLater,
    needs_push,
    push_hash,
)
from clubsync.features.prospect_reintegration import redrive, reintegrate
from clubsync.providers.prospects import PushOutcomeUnknown, PushTransient
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.prospects import ClaimState, ProspectStore
from clubsync.store.state import StateRepository
from tests.unit.prospect_helpers import (
    FOLLOW_UP_EMPLOYEE_ID,
    FakeProspectTarget,
    make_prospect,
    sync_salesperson,
)

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)


@pytest.fixture
def store(
    settings: LocationSettings,
    entity_table: MemoryItemTable,
    state_table: MemoryItemTable,
    entities: EntityRepository,
    state: StateRepository,
) -> ProspectStore:
    # The follow-up person comes from the real employee sync, as in production.
    assert sync_salesperson(settings, entities, state) == FOLLOW_UP_EMPLOYEE_ID
    entities.save([make_prospect()])
    return ProspectStore(entity_table, state_table)


@pytest.fixture
def target() -> FakeProspectTarget:
    return FakeProspectTarget()


@pytest.fixture
def dead_letters() -> MemoryDeadLetters:
    return MemoryDeadLetters()


@pytest.fixture
def pusher(
    settings: LocationSettings,
    store: ProspectStore,
    target: FakeProspectTarget,
    dead_letters: MemoryDeadLetters,
) -> ProspectPusher:
    return ProspectPusher(
        settings, store, target, dead_letters=dead_letters, clock=lambda: NOW, max_attempts=3
    )


def stored(store: ProspectStore, person_id: str = "p-1"):  # type: ignore[no-untyped-def]
    person = store.get("springfield", person_id)
    assert person is not None
    return person


# -- deciding from stream images ---------------------------------------------------------


def test_a_new_prospect_needs_a_push() -> None:
    assert needs_push(None, make_prospect())


def test_our_write_back_needs_no_push(pusher: ProspectPusher, store: ProspectStore) -> None:
    before = stored(store)
    pusher.push("p-1")
    after = stored(store)  # the image the write-back puts on the stream
    assert after.push is not None and after.push.state is ProspectPushState.PUSHED
    assert not needs_push(before, after)
    assert not needs_push(None, after)  # even seen alone (a replayed INSERT-like record)


def test_the_write_back_applied_as_a_new_record_pushes_nothing(
    pusher: ProspectPusher, store: ProspectStore, target: FakeProspectTarget
) -> None:
    pusher.push("p-1")
    result = pusher.push("p-1")
    assert result.outcome is PushOutcome.UP_TO_DATE
    assert len(target.create_calls) == 1 and target.updates == []


def test_later_notes_need_no_push() -> None:
    old = make_prospect()
    new = old.model_copy(update={"notes": "Wants a morning class\nCalled: call back Monday"})
    assert not needs_push(old, new)


@pytest.mark.parametrize(
    "change",
    [
        {"guest_pass_start": date(2026, 12, 1)},
        {"guest_pass_end": date(2026, 12, 31)},
        {"follow_up_person_id": "emp-2"},
        {"marketing_source_id": "c-2"},
        {"location_id": "shelbyville"},
    ],
)
def test_pushed_content_changes_need_a_push(change: dict[str, object]) -> None:
    old = make_prospect()
    assert needs_push(old, old.model_copy(update=change))


def test_members_and_deletions_are_not_pushed() -> None:
    prospect = make_prospect()
    assert not needs_push(prospect, prospect.model_copy(update={"kind": PersonKind.MEMBER}))
    assert not needs_push(prospect, None)


def test_push_hash_ignores_notes_and_the_push_block() -> None:
    person = make_prospect()
    assert push_hash(person) == push_hash(person.model_copy(update={"notes": "later"}))


# -- one billing prospect ------------------------------------------------------------------


def test_push_creates_once_and_writes_back_the_billing_id(
    pusher: ProspectPusher, store: ProspectStore, target: FakeProspectTarget
) -> None:
    result = pusher.push("p-1")
    assert result.outcome is PushOutcome.PUSHED and result.billing_id == "b-1"
    person = stored(store)
    assert person.billing_member_id == "b-1"
    assert person.push is not None and person.push.billing_member_id == "b-1"
    assert person.push.pushed_hash == push_hash(person)
    assert target.create_calls == [("p-1", "sp-1")]


def test_write_back_keeps_the_match_keys_of_the_locations_country(
    entity_table: MemoryItemTable, state_table: MemoryItemTable, entities: EntityRepository
) -> None:
    # A UK club: a national-format number must keep its +44 key when the billing id is
    # written back, or the duplicate check would stop finding this prospect.
    settings = LocationSettings(
        location_id="leeds", club_number="0999", time_zone="Europe/London", country="GB"
    )
    prospect = make_prospect(
        location_id="leeds",
        contact={
            "mobile_phone": "07700 900123",
            "home_phone": None,
            "country": "GB",
            "zip": "LS1 4AP",
            "state": None,
            "city": "Leeds",
        },
    )
    entities.save([prospect], default_region="GB")
    store = ProspectStore(entity_table, state_table)
    pusher = ProspectPusher(settings, store, FakeProspectTarget(), clock=lambda: NOW)
    assert pusher.push("p-1").outcome is PushOutcome.PUSHED
    (entry,) = entities.person_index("leeds", default_region="GB")
    assert entry.billing_member_id == "b-1"
    assert entry.phone_keys == ("+447700900123",)


def test_redelivery_pushes_once(pusher: ProspectPusher, target: FakeProspectTarget) -> None:
    for _ in range(3):
        pusher.push("p-1")
    assert len(target.created) == 1


def test_created_but_write_back_lost_adopts_the_billing_id(
    pusher: ProspectPusher,
    store: ProspectStore,
    entities: EntityRepository,
    target: FakeProspectTarget,
) -> None:
    pusher.push("p-1")
    entities.save([make_prospect()])  # as if the write-back never happened
    result = pusher.push("p-1")
    assert result.billing_id == "b-1"
    assert len(target.created) == 1 and target.updates == []  # same content: nothing to send


def test_unknown_create_outcome_is_looked_up_before_creating_again(
    pusher: ProspectPusher, store: ProspectStore, target: FakeProspectTarget
) -> None:
    target.create_then_fail = PushOutcomeUnknown("HTTP 500")
    with pytest.raises(RetryLater):
        pusher.push("p-1")
    assert stored(store).push.state is ProspectPushState.FAILING  # type: ignore[union-attr]
    result = pusher.push("p-1")
    assert result.outcome is PushOutcome.PUSHED and result.billing_id == "b-1"
    assert len(target.created) == 1
    assert [billing_id for billing_id, _, _ in target.updates] == ["b-1"]


def test_unknown_outcome_that_created_nothing_creates_on_the_next_attempt(
    pusher: ProspectPusher, target: FakeProspectTarget
) -> None:
    target.fail_next = [PushOutcomeUnknown("read timeout")]
    with pytest.raises(RetryLater):
        pusher.push("p-1")
    assert pusher.push("p-1").outcome is PushOutcome.PUSHED
    assert len(target.created) == 1


def test_a_create_in_flight_elsewhere_is_not_repeated(
    settings: LocationSettings, store: ProspectStore, target: FakeProspectTarget
) -> None:
    other = ProspectPusher(settings, store, target, clock=lambda: NOW, owner="other")
    store.take_claim("springfield", "p-1", "other", NOW, timedelta(minutes=5), None)
    with pytest.raises(RetryLater):
        ProspectPusher(settings, store, target, clock=lambda: NOW, owner="me").push("p-1")
    assert target.create_calls == []
    assert other.store.claim("springfield", "p-1").claim_state is ClaimState.CREATING  # type: ignore[union-attr]


def test_a_known_prospect_is_updated_with_put_and_the_full_personal_block(
    pusher: ProspectPusher,
    store: ProspectStore,
    entities: EntityRepository,
    target: FakeProspectTarget,
) -> None:
    pusher.push("p-1")
    person = stored(store)
    entities.save([person.model_copy(update={"guest_pass_end": date(2026, 12, 4)})])
    assert pusher.push("p-1").outcome is PushOutcome.PUSHED
    assert len(target.created) == 1
    ((billing_id, sent, salesperson),) = target.updates
    assert salesperson == "sp-1"
    assert billing_id == "b-1" and sent.guest_pass_end == date(2026, 12, 4)


# -- rejections ----------------------------------------------------------------------------


def test_rejected_prospect_is_not_retried_until_edited(
    pusher: ProspectPusher,
    store: ProspectStore,
    entities: EntityRepository,
    target: FakeProspectTarget,
) -> None:
    entities.save([make_prospect(contact={"city": "St. Louis"})])
    result = pusher.push("p-1")
    assert result.outcome is PushOutcome.REJECTED and "period" in (result.reason or "")
    person = stored(store)
    assert person.push is not None and person.push.state is ProspectPushState.REJECTED
    assert not needs_push(None, person)
    assert pusher.push("p-1").outcome is PushOutcome.UP_TO_DATE
    assert target.create_calls == []
    edited = person.model_copy(
        update={"contact": person.contact.model_copy(update={"city": "Saint Louis"})}
    )
    entities.save([edited])
    assert needs_push(person, stored(store))
    assert pusher.push("p-1").outcome is PushOutcome.PUSHED


def test_a_location_checks_its_own_providers_rules_not_abcs(
    settings: LocationSettings,
    store: ProspectStore,
    entities: EntityRepository,
    target: FakeProspectTarget,
) -> None:
    # A period in the city and a campaign of another type are ABC's refusals; a Mindbody site
    # refuses what its required fields say, at push time, so both are sent.
    mindbody = settings.model_copy(update={"provider": "mindbody"})
    target.campaigns = {"c-1": "ADV"}
    entities.save([make_prospect(contact={"city": "St. Louis"}, marketing_source_id="c-1")])
    result = ProspectPusher(mindbody, store, target, clock=lambda: NOW).push("p-1")
    assert result.outcome is PushOutcome.PUSHED
    assert len(target.create_calls) == 1


def test_billing_rejection_is_recorded_with_its_reason_and_frees_the_claim(
    pusher: ProspectPusher, store: ProspectStore, target: FakeProspectTarget
) -> None:
    target.reject_with = "Invalid postalCode 00000 for country US"
    result = pusher.push("p-1")
    assert result.outcome is PushOutcome.REJECTED
    assert stored(store).push.reason == "Invalid postalCode 00000 for country US"  # type: ignore[union-attr]
    assert store.claim("springfield", "p-1") is None


def test_marketing_source_of_a_wrong_campaign_type_is_rejected_before_sending(
    pusher: ProspectPusher, entities: EntityRepository, target: FakeProspectTarget
) -> None:
    target.campaigns = {"c-1": "ADV"}
    entities.save([make_prospect(marketing_source_id="c-1")])
    result = pusher.push("p-1")
    assert result.outcome is PushOutcome.REJECTED and "PON or PFA" in (result.reason or "")
    assert target.create_calls == []


def test_missing_state_is_pushed_with_a_recorded_warning(
    pusher: ProspectPusher, store: ProspectStore, entities: EntityRepository
) -> None:
    entities.save([make_prospect(contact={"state": None})])
    assert pusher.push("p-1").outcome is PushOutcome.PUSHED
    assert any("no state" in w for w in stored(store).push.warnings)  # type: ignore[union-attr]


# -- salesperson -----------------------------------------------------------------------------


def test_unauthorized_salesperson_is_resent_empty(
    pusher: ProspectPusher, store: ProspectStore, target: FakeProspectTarget
) -> None:
    target.refused_salespeople = {"sp-1"}
    result = pusher.push("p-1")
    assert result.outcome is PushOutcome.PUSHED
    assert target.create_calls == [("p-1", "sp-1"), ("p-1", "")]
    assert len(target.created) == 1
    assert any("salesperson refused" in w for w in stored(store).push.warnings)  # type: ignore[union-attr]


def test_the_salesperson_is_the_billing_id_the_employee_sync_stored(
    pusher: ProspectPusher, store: ProspectStore, target: FakeProspectTarget
) -> None:
    # The store's fixture ran the employee sync; nothing else wrote the follow-up person.
    assert pusher.push("p-1").outcome is PushOutcome.PUSHED
    assert target.create_calls == [("p-1", "sp-1")]
    assert stored(store).push.warnings == []  # type: ignore[union-attr]


def test_an_employee_of_an_unauthorized_location_is_refused_then_resent_empty(
    settings: LocationSettings,
    entity_table: MemoryItemTable,
    state_table: MemoryItemTable,
    entities: EntityRepository,
    state: StateRepository,
) -> None:
    # Sam works at Shelbyville only; billing has not authorized Shelbyville for Springfield.
    shelbyville = settings.model_copy(update={"location_id": "shelbyville", "club_number": "0452"})
    sam = sync_salesperson(shelbyville, entities, state, billing_id="sh-7")
    entities.save([make_prospect(follow_up_person_id=sam)])
    target = FakeProspectTarget()
    target.refused_salespeople = {"sh-7"}
    pusher = ProspectPusher(settings, ProspectStore(entity_table, state_table), target)
    result = pusher.push("p-1")
    assert result.outcome is PushOutcome.PUSHED
    assert target.create_calls == [("p-1", "sh-7"), ("p-1", "")]
    assert [salesperson for _, salesperson in target.created.values()] == [""]
    assert any("re-sent without one" in warning for warning in result.warnings)


def test_follow_up_person_without_billing_id_is_sent_empty(
    pusher: ProspectPusher, entities: EntityRepository, target: FakeProspectTarget
) -> None:
    entities.save([make_prospect(follow_up_person_id="emp-unknown")])
    pusher.push("p-1")
    assert target.create_calls == [("p-1", "")]


# -- transient failures ------------------------------------------------------------------------


def test_transient_failure_is_recorded_and_retried_then_dead_lettered(
    pusher: ProspectPusher,
    store: ProspectStore,
    target: FakeProspectTarget,
    dead_letters: MemoryDeadLetters,
) -> None:
    target.fail_next = [PushTransient("HTTP 503")] * 3
    for attempt in (1, 2):
        with pytest.raises(RetryLater):
            pusher.push("p-1")
        assert stored(store).push.attempts == attempt  # type: ignore[union-attr]
    result = pusher.push("p-1")  # the limit: stop blocking the shard
    assert result.outcome is PushOutcome.GAVE_UP
    person = stored(store)
    assert person.push is not None and person.push.state is ProspectPushState.FAILING
    assert "redrive" in (person.push.reason or "")
    assert dead_letters.sent == [("springfield", "p-1", person.push.reason)]
    assert store.claim("springfield", "p-1") is None  # nothing was created
    assert pusher.push("p-1", force=True).outcome is PushOutcome.PUSHED  # the redrive


def test_failing_write_back_needs_no_push(
    pusher: ProspectPusher, store: ProspectStore, target: FakeProspectTarget
) -> None:
    before = stored(store)
    target.fail_next = [PushTransient("HTTP 503")]
    with pytest.raises(RetryLater):
        pusher.push("p-1")
    assert not needs_push(before, stored(store))


def test_members_are_never_pushed(
    pusher: ProspectPusher, entities: EntityRepository, target: FakeProspectTarget
) -> None:
    entities.save([make_prospect(kind=PersonKind.MEMBER)])
    assert pusher.push("p-1").outcome is PushOutcome.NOT_A_PROSPECT
    assert target.create_calls == []


# -- redrive and reintegration -----------------------------------------------------------------


def test_redrive_pushes_failing_and_pending_prospects(
    pusher: ProspectPusher, store: ProspectStore, target: FakeProspectTarget
) -> None:
    target.fail_next = [PushTransient("HTTP 503")] * 3
    for _ in range(3):
        with contextlib.suppress(RetryLater):
            pusher.push("p-1")
    report = redrive(store, pusher)
    assert report.outcomes == {"pushed": 1}
    assert stored(store).push.state is ProspectPushState.PUSHED  # type: ignore[union-attr]
    assert redrive(store, pusher).outcomes == {}  # nothing left to redrive


def test_reintegration_creates_every_prospect_once_and_resumes(
    settings: LocationSettings,
    store: ProspectStore,
    state: StateRepository,
    entities: EntityRepository,
    pusher: ProspectPusher,
) -> None:
    entities.save([make_prospect(f"p-{i}") for i in range(2, 5)])
    pusher.push("p-1")  # known to the old provider
    new_billing = FakeProspectTarget()

    def make(scope: str) -> ProspectPusher:
        return ProspectPusher(settings, store, new_billing, clock=lambda: NOW, claim_scope=scope)

    calls = iter([False, False, True])
    first = reintegrate(store, state, make, "springfield", should_stop=lambda: next(calls))
    assert not first.finished and sum(first.outcomes.values()) == 2
    second = reintegrate(store, state, make, "springfield")
    assert second.finished and second.run_id == first.run_id
    assert sum(second.outcomes.values()) == 2
    assert len(new_billing.created) == 4  # p-1 created anew, nobody twice
    assert reintegrate(store, state, make, "springfield").outcomes == {}  # done: not repeated
    assert {p.billing_member_id for p in store.prospects("springfield")} == set(new_billing.created)
