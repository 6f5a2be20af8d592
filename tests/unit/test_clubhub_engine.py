"""Club Hub on the engine: pushes through `SyncEngine.ingest` (run record, quarantine, lease),
the pull as an engine run (watermark, checkpoint, one bad record does not abort it), and the
member merge's rules (active status, opt-ins, conversion) applying to Club Hub too."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clubsync.domain.people import ContactData, FollowUpStatus, OptIns, Person, PersonKind
from clubsync.domain.runs import RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.providers.clubhub.members import ClubHubMemberSource
from clubsync.providers.clubhub.sync import pull
from clubsync.providers.clubhub.webhook import ClubHubWebhook, signed_headers
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository
from tests.unit.clubhub_helpers import CLUBHUB_LOCATION

SECRET = b"webhook-secret-for-tests"  # a test value, not a credential
NOW = datetime(2022, 1, 3, 15, 0, tzinfo=UTC)


def member(account: str, **changes: Any) -> dict[str, Any]:
    return {
        "member_id": account,
        "first_name": "Mary",
        "last_name": "Member",
        "email": "mary@example.org",
        **changes,
    }


def membership(number: str, *, pending: bool = False, sold: str = "2022-01-01") -> dict[str, Any]:
    return {"membership_id": number, "pending": pending, "sale_date": sold}


def delivery(delivery_id: str, account: dict[str, Any], held: dict[str, Any] | None) -> bytes:
    body: dict[str, Any] = {
        "delivery_id": delivery_id,
        "event": "membership.updated" if held else "member.updated",
        "club_id": "0451",
        "occurred_at": "2022-01-03T15:00:00Z",
        "member": account,
    }
    if held:
        body["membership"] = held
    return json.dumps(body).encode()


def post(webhook: ClubHubWebhook, body: bytes) -> tuple[int, dict[str, Any]]:
    result = webhook.handle(body, signed_headers(SECRET, body, NOW))
    return result.status, result.body


class Listing:
    """Club Hub's member listing, as the stream reads it (no HTTP in unit tests)."""

    def __init__(self, entries: list[Any]) -> None:
        self.entries = entries
        self.requests = 0

    def listing(self, club_id: str) -> Any:
        self.requests += 1
        return {"members": self.entries}


@pytest.fixture
def settings() -> LocationSettings:
    """The webhook serves Club Hub's locations only."""
    return CLUBHUB_LOCATION


@pytest.fixture
def webhook(entities: EntityRepository, state: StateRepository) -> ClubHubWebhook:
    return ClubHubWebhook(entities, state, SECRET, clock=lambda: NOW)


def test_a_delivery_is_a_push_run_that_leaves_the_watermark_alone(
    webhook: ClubHubWebhook, state: StateRepository
) -> None:
    assert post(webhook, delivery("d1", member("A"), membership("456", pending=True))) == (
        200,
        {"status": "added", "delivery_id": "d1"},
    )
    (run,) = state.runs("springfield")
    assert (run.kind, run.status, run.sync_type) == (
        SyncKind.PUSH,
        RunStatus.SUCCEEDED,
        SyncType.MEMBERS,
    )
    assert (run.counts.fetched, run.counts.created) == (1, 1)
    assert run.message == "Club Hub delivery d1"
    assert state.watermark("springfield", SyncType.MEMBERS) is None
    # The lease is released: the next delivery is applied.
    assert post(webhook, delivery("d2", member("A"), membership("123")))[1]["status"] == (
        "replaced_pending"
    )


def test_a_delivery_that_cannot_be_read_is_quarantined_and_a_fixed_one_releases_it(
    webhook: ClubHubWebhook, state: StateRepository, entities: EntityRepository
) -> None:
    """The shape is ours (422 for a malformed one); a member without a last name passes it but
    cannot be a CRM account: kept with its reason, not dropped and not stored blank."""
    status, body = post(webhook, delivery("d1", member("A", last_name=" "), membership("123")))
    assert (status, body["status"]) == (200, "quarantined")
    (held,) = state.quarantined("springfield")
    assert held.record_id == "A#123#2022-01-01"
    assert "last name missing" in held.reason
    assert entities.people("springfield") == []
    assert post(webhook, delivery("d2", member("A"), membership("123")))[1]["status"] == "added"
    assert state.quarantined("springfield") == []


def test_a_delivery_while_a_pull_holds_the_lease_is_503_and_not_remembered(
    webhook: ClubHubWebhook, state: StateRepository, entity_table: MemoryItemTable
) -> None:
    state.acquire_lease("springfield", SyncType.MEMBERS, "a-pull", NOW, timedelta(minutes=15))
    body = delivery("d1", member("A"), membership("123"))
    assert post(webhook, body)[0] == 503
    assert entity_table.all_items() == []
    assert [run.status for run in state.runs("springfield")] == [RunStatus.SKIPPED_LOCKED]
    state.release_lease("springfield", SyncType.MEMBERS, "a-pull")
    # Club Hub redelivers the same delivery id: it was not recorded, so it is applied now.
    assert post(webhook, body)[1]["status"] == "added"


def test_the_pull_is_an_engine_run_and_one_bad_record_does_not_abort_it(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    listing = Listing(
        [
            {"member": member("A"), "memberships": [membership("123")]},
            {"member": member("B", first_name="Bob"), "memberships": [{"pending": "maybe"}]},
            "not an account",
            {"member": member("C", first_name="Cleo", email="cleo@example.org"), "memberships": []},
        ]
    )
    first = pull(settings, entities, state, listing, clock=lambda: NOW)
    assert first.run.status is RunStatus.SUCCEEDED
    assert (first.run.kind, first.run.counts.fetched, first.run.counts.quarantined) == (
        SyncKind.FULL,
        4,
        2,
    )
    assert first.outcomes == ["added", "created"]
    assert state.watermark("springfield", SyncType.MEMBERS) == NOW
    index = state.quarantine_index("springfield", SyncType.MEMBERS)
    assert len(index) == 2 and "B#?#?" in index
    assert sorted(p.billing_member_id or "" for p in entities.people("springfield")) == ["A", "C"]

    written = entities.table.usage.items_written  # type: ignore[attr-defined]
    again = pull(settings, entities, state, listing, clock=lambda: NOW + timedelta(hours=1))
    assert again.outcomes == ["unchanged", "unchanged"]
    assert entities.table.usage.items_written == written  # type: ignore[attr-defined]


def test_a_pull_pauses_between_pages_and_its_continuation_finishes_it(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    from clubsync.engine.sync_engine import SyncEngine
    from clubsync.resources.members import MemberJob

    listing = Listing(
        [
            {
                "member": member(f"M{n}", last_name=f"Member{n}", email=f"m{n}@example.org"),
                "memberships": [membership(f"{n}00")],
            }
            for n in range(5)
        ]
    )

    def engine(pause: bool) -> SyncEngine:
        source = ClubHubMemberSource("0451", listing, page_size=2)
        job = MemberJob(settings, source, entities, policy=source.policy, state=state)
        return SyncEngine(
            settings, job, entities, state, clock=lambda: NOW, should_pause=lambda: pause
        )

    paused = engine(True).run(SyncKind.FULL, NOW)
    assert paused.status is RunStatus.CONTINUED and paused.counts.fetched == 2
    done = engine(False).run(SyncKind.FULL, NOW, resume_run_id=paused.run_id)
    assert done.status is RunStatus.SUCCEEDED and done.counts.fetched == 5
    assert len(entities.people("springfield")) == 5


def test_club_hub_members_follow_the_member_merge_rules(
    webhook: ClubHubWebhook, entities: EntityRepository
) -> None:
    """Conversion keeps the CRM's opt-ins (no override at this location) and moves the
    follow-up status as a sale does; an active member stays active when Club Hub calls the
    account inactive without an ending alert (the active-status rule)."""
    entities.save(
        [
            Person(
                person_id="crm-1",
                location_id="springfield",
                kind=PersonKind.PROSPECT,
                follow_up_status=FollowUpStatus.APPT_BOOKED,
                opt_ins=OptIns(email=True, sms=False),
                contact=ContactData(
                    first_name="Mary", last_name="Member", email="mary@example.org"
                ),
            )
        ]
    )
    assert post(webhook, delivery("d1", member("A"), membership("123")))[1]["status"] == "added"
    (person,) = entities.people("springfield")
    assert (person.person_id, person.kind, person.is_active) == ("crm-1", PersonKind.MEMBER, True)
    assert person.opt_ins == OptIns(email=True, sms=False)
    assert person.follow_up_status is FollowUpStatus.NEW_MEMBER
    assert person.converted_at == NOW
    post(webhook, delivery("d2", member("A", is_active=False), None))
    (person,) = entities.people("springfield")
    assert person.is_active


def test_a_second_account_joins_its_person_and_never_copies_an_agreement_in_one_pull(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    """The article's two accounts in one page of a first pull: the second record finds the
    person the first one created (not a second person with a live pending copy)."""
    listing = Listing(
        [
            {"member": member("CH-A"), "memberships": [membership("123")]},
            {"member": member("CH-B"), "memberships": [membership("456", pending=True)]},
        ]
    )
    pulled = pull(settings, entities, state, listing, clock=lambda: NOW)
    assert pulled.outcomes == ["added", "pending_already_replaced"]
    (mary,) = entities.people("springfield")
    assert mary.current_agreement_key == "123#2022-01-01"
    live = [a.system_id for a in entities.agreements("springfield") if not a.archived]
    assert live == ["123"]
    assert pulled.run.skip_reasons == {
        "pending membership already replaced by its real one: stored archived": 1
    }


def test_the_scheduled_pull_takes_due_club_hub_locations_and_continues_unfinished_ones(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hourly: a location is pulled when it never was, when its last pull is a day old, or
    when its pull is unfinished (continued from its checkpoint, under the same run)."""
    import clubsync.providers.clubhub.sync as clubhub_sync

    # The settings' provider names are the registry's; here the location stands for Club Hub.
    monkeypatch.setattr(clubhub_sync, "is_clubhub", lambda _: True)
    entries = [
        {"member": member(f"M{n}", last_name=f"Member{n}"), "memberships": [membership(f"{n}")]}
        for n in range(3)
    ]
    listing = Listing(entries)
    monkeypatch.setattr(clubhub_sync, "ClubHubMemberSource", _small_pages)
    at = {"now": NOW}

    def reconcile(pause: bool = False) -> clubhub_sync.Reconciliation:
        return clubhub_sync.reconcile(
            entities,
            state,
            lambda _: listing,
            clock=lambda: at["now"],
            should_pause=lambda: pause,
        )

    paused = reconcile(pause=True)
    assert [run.status for run in paused.runs] == [RunStatus.CONTINUED]
    at["now"] = NOW + timedelta(hours=1)
    continued = reconcile()
    assert [run.run_id for run in continued.runs] == [paused.runs[0].run_id]
    assert continued.runs[0].status is RunStatus.SUCCEEDED
    at["now"] = NOW + timedelta(hours=2)
    assert reconcile().runs == []  # pulled an hour ago
    at["now"] = NOW + timedelta(hours=24)
    assert [run.status for run in reconcile().runs] == [RunStatus.SUCCEEDED]


def _small_pages(club_id: str, client: Any = None) -> ClubHubMemberSource:
    return ClubHubMemberSource(club_id, client, page_size=2)


def test_a_store_failure_during_a_delivery_is_a_failed_push_run_and_the_delivery_stays_open(
    state: StateRepository, entity_table: MemoryItemTable
) -> None:
    """A request to the entities table fails (past its retries): the push run is recorded
    FAILED, the lease released, the error raised (the Lambda answers 5xx) and the delivery id
    not remembered, so Club Hub's redelivery applies it."""
    from tests.faults import FaultyTable, StoreError

    faulty = FaultyTable(entity_table)
    webhook = ClubHubWebhook(EntityRepository(faulty), state, SECRET, clock=lambda: NOW)  # type: ignore[arg-type]
    body = delivery("d1", member("A"), membership("123"))
    faulty.crash_at(2)  # after the person index is read
    with pytest.raises(StoreError):
        post(webhook, body)
    (failed,) = state.runs("springfield")
    assert (failed.kind, failed.status) == (SyncKind.PUSH, RunStatus.FAILED)
    assert "StoreError" in failed.message
    assert post(webhook, body)[1]["status"] == "added"
