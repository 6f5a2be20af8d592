"""The member sync job end to end over in-memory tables and an in-memory billing source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clubsync.domain.people import ContactData, FollowUpStatus, OptIns, Person, PersonKind
from clubsync.domain.runs import RunRecord, RunStatus, SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.resources.members import MemberSync, SyncFailed
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository
from tests.conftest import abc_member
from tests.fakes import ListMemberSource

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 21:00 on 2026-11-21 in Chicago


def member_id(n: int) -> str:
    return f"{n:032x}"


def three_members() -> list[dict[str, Any]]:
    return [
        abc_member(
            member_id(n),
            personal__firstName=f"Person{n}",
            personal__email=f"p{n}@example.org",
            personal__mobilePhone=f"555010{n:04d}",
            personal__primaryPhone="",
            agreement__agreementNumber=f"{n:05d}",
        )
        for n in (1, 2, 3)
    ]


def make_job(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    source: ListMemberSource,
    **options: Any,
) -> MemberSync:
    return MemberSync(
        settings=settings,
        source=source,
        entities=entities,
        state=state,
        clock=lambda: NOW,
        **options,
    )


def run_full(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    records: list[dict[str, Any]],
) -> RunRecord:
    source = ListMemberSource(records, settings.zone)
    return make_job(settings, entities, state, source).run(SyncKind.FULL, NOW)


def prospect(person_id: str, **fields: Any) -> Person:
    contact = {k: v for k, v in fields.items() if k in ContactData.model_fields}
    rest = {k: v for k, v in fields.items() if k not in ContactData.model_fields}
    return Person(
        person_id=person_id,
        location_id="springfield",
        kind=PersonKind.PROSPECT,
        follow_up_status=FollowUpStatus.LEAD,
        contact=ContactData(**contact),
        **rest,
    )


def test_initial_full_sync_creates_members_marked_as_created_from_billing(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    run = run_full(settings, entities, state, three_members())
    assert run.status is RunStatus.SUCCEEDED
    assert (run.counts.fetched, run.counts.created) == (3, 3)
    people = entities.people("springfield")
    assert {p.person_id for p in people} == {f"abc-{member_id(n)}" for n in (1, 2, 3)}
    assert all(p.kind is PersonKind.MEMBER and p.created_from_billing for p in people)
    assert all(p.is_active and p.follow_up_status is FollowUpStatus.NEW_MEMBER for p in people)
    assert len(entities.agreements("springfield")) == 3


def test_replaying_a_sync_writes_nothing(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    entity_table: MemoryItemTable,
) -> None:
    run_full(settings, entities, state, three_members())
    before = entity_table.all_items()
    entity_table.usage.reset()
    run = run_full(settings, entities, state, three_members())
    assert run.counts.unchanged == 3
    assert entity_table.usage.items_written == 0
    assert entity_table.all_items() == before


def test_a_prospect_with_a_matching_billing_id_is_converted(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    entities.save(
        [prospect("crm-7", first_name="Dana", last_name="Reyes", billing_member_id=member_id(1))]
    )
    run = run_full(settings, entities, state, three_members()[:1])
    assert run.counts.converted == 1 and run.counts.created == 0
    (person,) = entities.people("springfield")
    assert person.person_id == "crm-7"
    assert person.kind is PersonKind.MEMBER
    assert person.follow_up_status is FollowUpStatus.NEW_MEMBER
    assert person.converted_at == NOW
    assert not person.created_from_billing
    assert person.current_agreement_key == "045100001#2024-08-17"


@pytest.mark.parametrize(
    ("contact", "matched"),
    [
        ({"email": "P1@Example.org"}, True),  # same email, other case
        ({"mobile_phone": "(555) 010-0001"}, True),  # same phone, other format
        ({"email": "someone.else@example.org"}, False),
        ({}, False),
    ],
)
def test_an_unmatched_member_profile_is_matched_on_full_name_plus_email_or_phone(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    contact: dict[str, str],
    matched: bool,
) -> None:
    entities.save([prospect("crm-1", first_name="person1 ", last_name="REYES", **contact)])
    run = run_full(settings, entities, state, three_members()[:1])
    assert (run.counts.converted, run.counts.created) == ((1, 0) if matched else (0, 1))


def test_name_matching_needs_an_identical_full_name(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    entities.save(
        [prospect("crm-1", first_name="Person1", last_name="Reyes-Ortiz", email="p1@example.org")]
    )
    run = run_full(settings, entities, state, three_members()[:1])
    assert run.counts.created == 1


def test_an_account_linked_to_another_billing_id_is_not_matched_by_name(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    entities.save(
        [
            prospect(
                "crm-1",
                first_name="Person1",
                last_name="Reyes",
                email="p1@example.org",
                billing_member_id="other",
            )
        ]
    )
    assert run_full(settings, entities, state, three_members()[:1]).counts.created == 1


def test_ignored_membership_types_create_or_convert_nobody(
    entities: EntityRepository, state: StateRepository
) -> None:
    settings = LocationSettings(
        location_id="springfield",
        club_number="0451",
        time_zone="America/Chicago",
        ignored_membership_types=frozenset({"gold"}),
    )
    state.put_location(settings)
    entities.save([prospect("crm-1", billing_member_id=member_id(1))])
    run = run_full(settings, entities, state, three_members()[:2])
    assert run.counts.ignored == 2 and run.counts.created == 0 and run.counts.converted == 0
    (person,) = entities.people("springfield")
    assert person.kind is PersonKind.PROSPECT  # stays a prospect
    assert "membership type 'GOLD' is ignored at this location" in run.skip_reasons


def test_an_unknown_agreement_id_and_sign_date_becomes_current_and_the_others_turn_inactive(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    first = three_members()[:1]
    run_full(settings, entities, state, first)
    rewritten = [
        abc_member(
            member_id(1),
            **{
                **_identity(1),
                "agreement__agreementNumber": "09999",
                "agreement__signDate": "2026-11-01",
            },
        )
    ]
    run = run_full(settings, entities, state, rewritten)
    assert run.counts.updated == 1
    agreements = {a.agreement_key: a for a in entities.agreements("springfield")}
    assert (
        agreements["045109999#2026-11-01"].is_current
        and agreements["045109999#2026-11-01"].is_active
    )
    assert not agreements["045100001#2024-08-17"].is_current
    assert not agreements["045100001#2024-08-17"].is_active
    (person,) = entities.people("springfield")
    assert person.current_agreement_key == "045109999#2026-11-01"


def _identity(n: int) -> dict[str, str]:
    return {
        "personal__firstName": f"Person{n}",
        "personal__email": f"p{n}@example.org",
        "personal__mobilePhone": f"555010{n:04d}",
        "personal__primaryPhone": "",
    }


def test_the_same_agreement_number_with_a_new_sign_date_is_a_new_agreement(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    run_full(settings, entities, state, three_members()[:1])
    resigned = [
        abc_member(
            member_id(1),
            **{
                **_identity(1),
                "agreement__agreementNumber": "00001",
                "agreement__signDate": "2026-10-01",
            },
        )
    ]
    run_full(settings, entities, state, resigned)
    assert sorted(a.agreement_key for a in entities.agreements("springfield")) == [
        "045100001#2024-08-17",
        "045100001#2026-10-01",
    ]


def test_replays_never_duplicate_an_agreement(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    old, new = (
        three_members()[:1],
        [abc_member(member_id(1), **{**_identity(1), "agreement__signDate": "2026-10-01"})],
    )
    for records in (old, new, old, new, new, old):
        run_full(settings, entities, state, records)
    keys = [a.agreement_key for a in entities.agreements("springfield")]
    assert len(keys) == len(set(keys)) == 2


def test_an_agreement_claimed_by_a_second_billing_account_is_never_copied(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    twin = abc_member(member_id(2), **_identity(2), agreement__agreementNumber="00001")
    run = run_full(settings, entities, state, [*three_members()[:1], twin])
    assert run.counts.created == 1 and run.counts.skipped == 1
    assert any("duplicate accounts in billing" in reason for reason in run.skip_reasons)
    (agreement,) = entities.agreements("springfield")
    assert agreement.person_id == f"abc-{member_id(1)}"


def test_a_cancellation_alert_ends_active_status(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    run_full(settings, entities, state, three_members()[:1])
    cancelled = abc_member(
        member_id(1), **_identity(1), personal__isActive="false", personal__memberStatus="Cancelled"
    )
    inactive_only = [cancelled]
    run_full(settings, entities, state, inactive_only)
    (person,) = entities.people("springfield")
    assert person.is_active is False


def test_billing_inactive_without_an_alert_keeps_the_member_active(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    run_full(settings, entities, state, three_members()[:1])
    lapsed = abc_member(
        member_id(1), **_identity(1), personal__isActive="false", personal__memberStatus=""
    )
    run_full(settings, entities, state, [lapsed])
    (person,) = entities.people("springfield")
    assert person.is_active is True


def test_record_owner_crm_keeps_crm_values_and_fills_blanks(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    entities.save(
        [
            prospect(
                "crm-1",
                first_name="Person1",
                last_name="Reyes",
                email="p1@example.org",
                city="Chicago",
                billing_member_id=member_id(1),
            )
        ]
    )
    run_full(settings, entities, state, three_members()[:1])
    (person,) = entities.people("springfield")
    assert person.contact.city == "Chicago"
    assert person.contact.address_line1 == "12 Elm St"


def test_record_owner_billing_overwrites_contact_fields(
    entities: EntityRepository, state: StateRepository
) -> None:
    settings = LocationSettings(
        location_id="springfield",
        club_number="0451",
        time_zone="America/Chicago",
        record_owner="billing",
    )  # type: ignore[arg-type]
    entities.save(
        [
            prospect(
                "crm-1",
                first_name="Person1",
                last_name="Reyes",
                city="Chicago",
                billing_member_id=member_id(1),
            )
        ]
    )
    run_full(settings, entities, state, three_members()[:1])
    (person,) = entities.people("springfield")
    assert person.contact.city == "Springfield"


def test_opt_ins_from_billing_applied_once_at_conversion(
    entities: EntityRepository, state: StateRepository
) -> None:
    settings = LocationSettings(
        location_id="springfield",
        club_number="0451",
        time_zone="America/Chicago",
        override_opt_ins_at_conversion=True,
    )
    entities.save(
        [prospect("crm-1", billing_member_id=member_id(1), opt_ins=OptIns(email=False, sms=False))]
    )
    opted_in = [
        abc_member(
            member_id(1), **_identity(1), personal__emailOptIn="true", personal__smsOptIn="true"
        )
    ]
    run_full(settings, entities, state, opted_in)
    assert entities.people("springfield")[0].opt_ins == OptIns(email=True, sms=True)
    opted_out = [
        abc_member(
            member_id(1),
            **_identity(1),
            personal__emailOptIn="false",
            personal__smsOptIn="false",
            personal__city="Dayton",
        )
    ]
    run_full(settings, entities, state, opted_out)
    person = entities.people("springfield")[0]
    assert person.opt_ins == OptIns(email=True, sms=True)  # not kept in sync after conversion


def test_billing_prospects_are_not_pulled_into_the_crm(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    run = run_full(
        settings, entities, state, [abc_member(member_id(9), personal__joinStatus="Prospect")]
    )
    assert run.counts.skipped == 1 and entities.people("springfield") == []


def test_malformed_records_are_quarantined_and_the_sync_completes(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    state_table: MemoryItemTable,
) -> None:
    records = [*three_members(), abc_member(member_id(4), personal__birthDate="31/02/1990")]
    run = run_full(settings, entities, state, records)
    assert run.status is RunStatus.SUCCEEDED
    assert (run.counts.created, run.counts.quarantined) == (3, 1)
    (quarantined,) = state.quarantined("springfield")
    assert quarantined.record_id == member_id(4)
    assert "personal.birthDate" in quarantined.reason
    assert quarantined.payload["personal"]["birthDate"] == "31/02/1990"

    state_table.usage.reset()
    run_full(settings, entities, state, records)
    quarantine_writes = [i for i in state_table.all_items() if i["sk"].startswith("QUARANTINE#")]
    assert len(quarantine_writes) == 1
    # Replaying writes only the run bookkeeping (lease, watermark, run record), no quarantine.
    assert state_table.usage.items_written == 3

    fixed = [*three_members(), abc_member(member_id(4), personal__birthDate="1990-02-28")]
    run = run_full(settings, entities, state, fixed)
    assert run.counts.created == 1 and state.quarantined("springfield") == []


@pytest.mark.parametrize("blank", ["personal__firstName", "personal__lastName"])
def test_a_member_without_a_first_or_last_name_is_quarantined_not_stored(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository, blank: str
) -> None:
    records = [*three_members(), abc_member(member_id(4), **{blank: "  "})]
    run = run_full(settings, entities, state, records)
    assert (run.counts.created, run.counts.quarantined) == (3, 1)
    assert all(p.contact.first_name and p.contact.last_name for p in entities.people("springfield"))
    (quarantined,) = state.quarantined("springfield")
    assert quarantined.record_id == member_id(4)
    assert "name missing: a member needs a first and a last name" in quarantined.reason


def test_a_quarantined_record_without_an_id_is_released_once_billing_stops_sending_it(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    nameless = abc_member(member_id(4), personal__birthDate="31/02/1990")
    nameless["memberId"] = ""
    run = run_full(settings, entities, state, [*three_members(), nameless])
    (quarantined,) = state.quarantined("springfield")
    assert quarantined.record_id.startswith("unidentified-")
    # Still sent: still quarantined, once.
    run_full(settings, entities, state, [*three_members(), nameless])
    assert len(state.quarantined("springfield")) == 1
    # Billing fixed it (it now has an id): the version without one is gone for good.
    fixed = abc_member(member_id(4))
    run = run_full(settings, entities, state, [*three_members(), fixed])
    assert run.status is RunStatus.SUCCEEDED and run.counts.created == 1
    assert state.quarantined("springfield") == []
    assert "released 1 quarantined record(s) without an id" in run.message


def test_a_silent_rejection_fails_the_sync_and_keeps_the_watermark(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    run_full(settings, entities, state, three_members())
    watermark = state.watermark("springfield", "members")
    source = ListMemberSource(three_members(), settings.zone)
    source.fail_with = "ABC silently rejected the query for page 1 of /members: Invalid date range."
    later = NOW + timedelta(hours=15)
    job = MemberSync(
        settings=settings, source=source, entities=entities, state=state, clock=lambda: later
    )
    with pytest.raises(SyncFailed, match="Invalid date range"):
        job.run(SyncKind.PARTIAL, later)
    assert state.watermark("springfield", "members") == watermark
    failed = [r for r in state.runs("springfield") if r.status is RunStatus.FAILED]
    assert failed and "Invalid date range" in failed[0].message


def test_a_sync_skips_without_writing_while_another_holds_the_lease(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    entity_table: MemoryItemTable,
) -> None:
    state.acquire_lease("springfield", "members", "someone-else", NOW, timedelta(minutes=15))
    run = run_full(settings, entities, state, three_members())
    assert run.status is RunStatus.SKIPPED_LOCKED
    assert entity_table.usage.items_written == 0


def test_an_expired_lease_is_taken_over(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    state.acquire_lease(
        "springfield", "members", "crashed", NOW - timedelta(hours=1), timedelta(minutes=15)
    )
    assert run_full(settings, entities, state, three_members()).status is RunStatus.SUCCEEDED


def test_a_paused_sync_resumes_from_its_checkpoint_with_nothing_lost_or_repeated(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    entity_table: MemoryItemTable,
) -> None:
    records = [
        abc_member(member_id(n), personal__firstName=f"P{n}", agreement__agreementNumber=f"{n:05d}")
        for n in range(1, 8)
    ]
    source = ListMemberSource(records, settings.zone, page_size=2)
    paused = make_job(settings, entities, state, source, should_pause=lambda: True).run(
        SyncKind.FULL, NOW
    )
    assert paused.status is RunStatus.CONTINUED
    assert paused.counts.fetched == 2
    assert state.checkpoint("springfield", "members") is not None
    assert state.watermark("springfield", "members") is None

    # While paused, a new scheduled sync does not start (the lease stays with the paused run).
    blocked = make_job(settings, entities, state, ListMemberSource(records, settings.zone)).run(
        SyncKind.FULL, NOW
    )
    assert blocked.status is RunStatus.SKIPPED_LOCKED

    resumed = make_job(settings, entities, state, source).run(
        SyncKind.FULL, NOW, resume_run_id=paused.run_id
    )
    assert resumed.status is RunStatus.SUCCEEDED
    assert resumed.run_id == paused.run_id
    assert resumed.counts.fetched == 7 and resumed.counts.created == 7
    # Active members: pages 1-4, each asked once; inactive members: one empty page.
    assert source.requests == 5
    assert state.checkpoint("springfield", "members") is None
    assert state.watermark("springfield", "members") == NOW

    one_shot_entities = EntityRepository(MemoryItemTable())
    one_shot_state = StateRepository(MemoryItemTable())
    run_full(settings, one_shot_entities, one_shot_state, records)
    assert entity_table.all_items() == one_shot_entities.table.all_items()  # type: ignore[attr-defined]


def test_a_successful_sync_moves_the_watermark_to_its_start(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    run_full(settings, entities, state, three_members())
    assert state.watermark("springfield", "members") == NOW


def test_unchanged_records_are_skipped_without_translation(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    entity_table: MemoryItemTable,
) -> None:
    run_full(settings, entities, state, three_members())
    source = ListMemberSource(three_members(), settings.zone)
    translated: list[str] = []
    original = source.translate

    def counting(record: dict[str, Any]) -> Any:
        translated.append(record["memberId"])
        return original(record)

    source.translate = counting  # type: ignore[method-assign]
    entity_table.usage.reset()
    run = make_job(settings, entities, state, source).run(SyncKind.FULL, NOW)
    # The same bytes as last merged: the canonical record's hash is known without translating.
    assert translated == []
    assert run.counts.unchanged == 3 and entity_table.usage.items_written == 0


def test_billing_fields_the_mapping_does_not_carry_re_merge_nothing(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    entity_table: MemoryItemTable,
) -> None:
    run_full(settings, entities, state, three_members())
    entity_table.usage.reset()
    visited = [
        {
            **r,
            "personal": {
                **r["personal"],
                "lastCheckInTimestamp": "2026-11-21 09:00:00.000000",
                "totalCheckInCount": "118",
            },
        }
        for r in three_members()
    ]
    run = run_full(settings, entities, state, visited)
    # Translated (the bytes differ), the same canonical record: nothing written.
    assert run.counts.unchanged == 3 and entity_table.usage.items_written == 0


def test_a_bumped_modification_time_alone_writes_nothing(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    entity_table: MemoryItemTable,
) -> None:
    run_full(settings, entities, state, three_members())
    entity_table.usage.reset()
    touched = [
        {**r, "personal": {**r["personal"], "lastModifiedTimestamp": "2026-11-21 09:00:00.000000"}}
        for r in three_members()
    ]
    run = run_full(settings, entities, state, touched)
    assert run.counts.unchanged == 3 and entity_table.usage.items_written == 0


def test_changing_a_merge_setting_re_evaluates_every_member_once(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    entity_table: MemoryItemTable,
) -> None:
    run_full(settings, entities, state, three_members())
    ignoring = settings.model_copy(update={"ignored_membership_types": frozenset({"SILVER"})})
    entity_table.usage.reset()
    run_full(ignoring, entities, state, three_members())
    assert entity_table.usage.items_written == 3  # re-evaluated: new hashes stored
    entity_table.usage.reset()
    run_full(ignoring, entities, state, three_members())
    assert entity_table.usage.items_written == 0
