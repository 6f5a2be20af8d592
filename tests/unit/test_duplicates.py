"""The duplicate report and every resolution path (spec/duplicates-faq.txt)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from clubsync.domain.people import ContactData, MembershipAgreement, Person, PersonKind
from clubsync.domain.settings import LocationSettings
from clubsync.features.duplicates import Action, Duplicates, ResolutionRefused, store_weekly_reports
from clubsync.store.audit import AuditRepository
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository

LOC = "springfield"
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def person(pid: str, kind: PersonKind, **contact: Any) -> Person:
    fields = {"first_name": "Dana", "last_name": "Reyes", "email": "dana@example.org", **contact}
    return Person(person_id=pid, location_id=LOC, kind=kind, contact=ContactData(**fields))


def agreement(pid: str, system_id: str, signed: date, **fields: Any) -> MembershipAgreement:
    return MembershipAgreement(
        agreement_key=f"{system_id}#{signed.isoformat()}",
        person_id=pid,
        location_id=LOC,
        system_id=system_id,
        agreement_number=system_id,
        sign_date=signed,
        sale_date=signed,
        **fields,
    )


def with_agreements(p: Person, *held: MembershipAgreement) -> Person:
    return p.model_copy(update={"agreement_keys": sorted(a.agreement_key for a in held)})


@pytest.fixture
def duplicates(entities: EntityRepository, state: StateRepository) -> Duplicates:
    return Duplicates(entities, state, clock=lambda: NOW)


def entity_items(table: MemoryItemTable) -> list[dict[str, Any]]:
    return table.all_items()


# -- report -----------------------------------------------------------------------------------
def test_a_prospect_and_a_member_are_reported_for_a_merge_into_the_member(
    duplicates: Duplicates, entities: EntityRepository
) -> None:
    held = agreement("m1", "A100", date(2026, 1, 5))
    entities.save(
        [
            person("p1", PersonKind.PROSPECT, email="DANA@example.org"),
            with_agreements(
                person("m1", PersonKind.MEMBER, email=None, mobile_phone="555 010 0100"), held
            ),
            person("p2", PersonKind.PROSPECT, email=None, mobile_phone="(555) 010-0100"),
            person("x1", PersonKind.PROSPECT, first_name="Robert", email="dana@example.org"),
        ],
        [held],
    )
    # p1 matches m1? No shared email/phone: p1 has an email m1 lacks -> its own group only if
    # it matches someone. p2 matches m1 by phone.
    report = duplicates.report([LOC])
    (group,) = report.groups
    assert group.group_id == "m1+p2"
    assert group.action is Action.MERGE_INTO_MEMBER
    assert (group.keep, group.remove) == ("m1", ["p2"])
    kinds = {a.person_id: (a.kind.value, a.agreements, a.location_id) for a in group.accounts}
    assert kinds == {"m1": ("member", ["A100"], LOC), "p2": ("prospect", [], LOC)}


def test_two_members_one_without_agreement_are_reported_for_deleting_that_one(
    duplicates: Duplicates, entities: EntityRepository
) -> None:
    held = agreement("m1", "A100", date(2026, 1, 5))
    entities.save(
        [with_agreements(person("m1", PersonKind.MEMBER), held), person("m2", PersonKind.MEMBER)],
        [held],
    )
    (group,) = duplicates.report([LOC]).groups
    assert (group.action, group.keep, group.remove) == (
        Action.DELETE_WITHOUT_AGREEMENT,
        "m1",
        ["m2"],
    )


def test_two_members_both_holding_agreements_are_for_review(
    duplicates: Duplicates, entities: EntityRepository
) -> None:
    a1, a2 = agreement("m1", "A100", date(2026, 1, 5)), agreement("m2", "A200", date(2026, 1, 5))
    entities.save(
        [
            with_agreements(person("m1", PersonKind.MEMBER), a1),
            with_agreements(person("m2", PersonKind.MEMBER), a2),
        ],
        [a1, a2],
    )
    (group,) = duplicates.report([LOC]).groups
    assert group.action is Action.REVIEW
    assert "duplicate accounts in billing" in group.reason


def test_accounts_across_locations_are_grouped_when_asked(
    duplicates: Duplicates, entities: EntityRepository, state: StateRepository
) -> None:
    state.put_location(
        LocationSettings(location_id="shelbyville", club_number="0452", time_zone="America/Chicago")
    )
    other = person("o1", PersonKind.MEMBER).model_copy(update={"location_id": "shelbyville"})
    entities.save([person("p1", PersonKind.PROSPECT), other])
    assert duplicates.report([LOC, "shelbyville"]).groups == []
    (group,) = duplicates.report([LOC, "shelbyville"], across=True).groups
    assert group.locations == ["shelbyville", LOC]
    assert group.action is Action.REVIEW


def test_billing_findings_name_the_duplicate_club_hub_accounts(
    duplicates: Duplicates, state_table: MemoryItemTable
) -> None:
    state_table.put(
        {
            "pk": f"LOC#{LOC}",
            "sk": "FINDING#clubhub#MEMBERSHIP#123#2022-01-01",
            "provider": "clubhub",
            "membership_id": "123",
            "accounts": ["A", "B"],
            "person_ids": ["mary"],
            "reason": "duplicate accounts in billing",
        }
    )
    (finding,) = duplicates.report([LOC]).billing_findings
    assert (finding.provider, finding.accounts, finding.membership_id) == (
        "clubhub",
        ["A", "B"],
        "123",
    )


# -- merge --------------------------------------------------------------------------------------
@pytest.fixture
def merge_case(entities: EntityRepository, entity_table: MemoryItemTable) -> None:
    held = agreement("m1", "A100", date(2026, 1, 5))
    member = with_agreements(
        person("m1", PersonKind.MEMBER, mobile_phone=None, city=None), held
    ).model_copy(update={"notes": "member note"})
    prospect = person("p1", PersonKind.PROSPECT, mobile_phone="555 010 0100", city="Springfield")
    prospect = prospect.model_copy(update={"notes": "asked about PT", "follow_up_person_id": "e7"})
    entities.save([member, prospect], [held])
    entity_table.put(
        {"pk": f"LOC#{LOC}", "sk": "EVENT#ev1", "person_id": "p1", "event_type": "Tour"}
    )
    entity_table.put(
        {"pk": f"LOC#{LOC}", "sk": "PTFOLLOWUP#p1", "person_id": "p1", "status": "PT Opportunity"}
    )
    # The prospect's follow-up schedule track, with the contacts staff made.
    entity_table.put(
        {
            "pk": f"LOC#{LOC}",
            "sk": "FOLLOWUP#p1",
            "person_id": "p1",
            "status": "Web Lead",
            "contacts": [{"on": "2026-11-20", "channel": "call"}],
        }
    )


@pytest.mark.usefixtures("merge_case")
def test_merge_dry_run_shows_every_change_and_writes_nothing(
    duplicates: Duplicates, entity_table: MemoryItemTable, state_table: MemoryItemTable
) -> None:
    before = entity_table.all_items()
    entry = duplicates.resolve(LOC, "m1+p1", Action.MERGE_INTO_MEMBER, dry_run=True)
    changed = {c.key[1] for c in entry.changes}
    assert changed == {
        "PERSON#m1",
        "PERSON#p1",
        "DELETED#PERSON#p1",
        "EVENT#ev1",
        "PTFOLLOWUP#p1",
        "PTFOLLOWUP#m1",
        "FOLLOWUP#p1",
        "FOLLOWUP#m1",
    }
    assert entity_table.all_items() == before
    assert AuditRepository(state_table).entries(LOC) == []


@pytest.mark.usefixtures("merge_case")
def test_merge_carries_contact_notes_events_and_follow_ups_into_the_member_and_undoes(
    duplicates: Duplicates, entities: EntityRepository, entity_table: MemoryItemTable
) -> None:
    before = entity_table.all_items()
    entry = duplicates.resolve(LOC, "m1+p1", Action.MERGE_INTO_MEMBER)

    (member,) = entities.people(LOC)
    assert member.person_id == "m1"
    assert member.contact.mobile_phone == "555 010 0100"  # filled from the prospect
    assert member.contact.city == "Springfield"
    assert member.notes == "member note\nasked about PT"
    assert member.follow_up_person_id == "e7"
    assert entity_table.get((f"LOC#{LOC}", "EVENT#ev1"))["person_id"] == "m1"  # type: ignore[index]
    assert entity_table.get((f"LOC#{LOC}", "PTFOLLOWUP#m1")) is not None
    track = entity_table.get((f"LOC#{LOC}", "FOLLOWUP#m1"))
    assert track is not None and track["contacts"] == [{"on": "2026-11-20", "channel": "call"}]
    deleted = entity_table.get((f"LOC#{LOC}", "DELETED#PERSON#p1"))
    assert deleted is not None and deleted["merged_into"] == "m1"
    assert duplicates.report([LOC]).groups == []

    assert duplicates.audit.get(LOC, entry.audit_id) is not None
    duplicates.undo(LOC, entry.audit_id)
    assert entity_table.all_items() == before
    with pytest.raises(ResolutionRefused, match="was undone"):
        duplicates.undo(LOC, entry.audit_id)


@pytest.mark.usefixtures("merge_case")
def test_undo_is_refused_when_an_item_changed_since(
    duplicates: Duplicates, entities: EntityRepository
) -> None:
    entry = duplicates.resolve(LOC, "m1+p1", Action.MERGE_INTO_MEMBER)
    (member,) = entities.people(LOC)
    entities.save([member.model_copy(update={"notes": "edited later"})])
    with pytest.raises(ResolutionRefused, match="changed after the resolution"):
        duplicates.undo(LOC, entry.audit_id)


# -- delete -------------------------------------------------------------------------------------
def test_delete_soft_deletes_the_member_without_agreement_and_undoes(
    duplicates: Duplicates, entities: EntityRepository, entity_table: MemoryItemTable
) -> None:
    held = agreement("m1", "A100", date(2026, 1, 5))
    entities.save(
        [with_agreements(person("m1", PersonKind.MEMBER), held), person("m2", PersonKind.MEMBER)],
        [held],
    )
    before = entity_table.all_items()
    dry = duplicates.resolve(LOC, "m1+m2", Action.DELETE_WITHOUT_AGREEMENT, dry_run=True)
    assert {c.key[1] for c in dry.changes} == {"PERSON#m2", "DELETED#PERSON#m2"}
    assert entity_table.all_items() == before

    entry = duplicates.resolve(LOC, "m1+m2", Action.DELETE_WITHOUT_AGREEMENT)
    assert [p.person_id for p in entities.people(LOC)] == ["m1"]
    assert entity_table.get((f"LOC#{LOC}", "DELETED#PERSON#m2")) is not None
    duplicates.undo(LOC, entry.audit_id)
    assert entity_table.all_items() == before


# -- archive ------------------------------------------------------------------------------------
def test_duplicated_agreements_are_archived_out_of_reports_and_undone(
    duplicates: Duplicates, entities: EntityRepository, entity_table: MemoryItemTable
) -> None:
    real = agreement("mary", "123", date(2022, 1, 1), is_current=True)
    copy = agreement("mary", "123", date(2022, 1, 2))  # a copy under another sign date
    pending = agreement("mary", "456", date(2022, 1, 1), billing_status="pending")
    mary = with_agreements(person("mary", PersonKind.MEMBER), real, copy, pending)
    entities.save([mary], [real, copy, pending])
    before = entity_table.all_items()

    groups = {g.group_id: g for g in duplicates.report([LOC]).agreement_groups}
    assert set(groups) == {"agreement:123", "pending:mary:456#2022-01-01"}
    assert (groups["agreement:123"].keep, groups["agreement:123"].remove) == (
        "123#2022-01-01",
        ["123#2022-01-02"],
    )
    dry = duplicates.resolve(LOC, "agreement:123", Action.ARCHIVE_COPIES, dry_run=True)
    assert [c.key[1] for c in dry.changes] == ["AGREEMENT#123#2022-01-02"]
    assert entity_table.all_items() == before

    first = duplicates.resolve(LOC, "agreement:123", Action.ARCHIVE_COPIES)
    duplicates.resolve(LOC, "pending:mary:456#2022-01-01", Action.ARCHIVE_COPIES)
    live = [a.agreement_key for a in entities.agreements(LOC) if not a.archived]
    assert live == ["123#2022-01-01"]
    assert duplicates.report([LOC]).agreement_groups == []

    with pytest.raises(ResolutionRefused, match="no copies left to archive"):
        duplicates.resolve(LOC, "agreement:123", Action.ARCHIVE_COPIES)
    # The pending one was archived after, by another entry: undoing the first still works.
    duplicates.undo(LOC, first.audit_id)
    assert [a.archived for a in entities.agreements(LOC) if a.system_id == "123"] == [False, False]


# -- refusals -----------------------------------------------------------------------------------
def test_a_resolution_on_accounts_that_no_longer_match_is_refused_with_the_reason(
    duplicates: Duplicates, entities: EntityRepository, entity_table: MemoryItemTable
) -> None:
    held = agreement("m1", "A100", date(2026, 1, 5))
    entities.save(
        [with_agreements(person("m1", PersonKind.MEMBER), held), person("p1", PersonKind.PROSPECT)],
        [held],
    )
    assert duplicates.report([LOC]).groups[0].group_id == "m1+p1"
    entities.save([person("p1", PersonKind.PROSPECT, email="someone.else@example.org")])
    before = entity_table.all_items()
    with pytest.raises(ResolutionRefused, match="share no email or phone"):
        duplicates.resolve(LOC, "m1+p1", Action.MERGE_INTO_MEMBER)
    entities.save([person("p1", PersonKind.PROSPECT, first_name="Danielle")])
    with pytest.raises(ResolutionRefused, match="different names"):
        duplicates.resolve(LOC, "m1+p1", Action.MERGE_INTO_MEMBER, dry_run=True)
    assert entity_table.all_items()[0:1] == before[0:1]


def test_a_resolution_with_another_action_or_already_done_is_refused(
    duplicates: Duplicates, entities: EntityRepository
) -> None:
    held = agreement("m1", "A100", date(2026, 1, 5))
    entities.save(
        [with_agreements(person("m1", PersonKind.MEMBER), held), person("p1", PersonKind.PROSPECT)],
        [held],
    )
    with pytest.raises(ResolutionRefused, match="prescribed action is 'merge'"):
        duplicates.resolve(LOC, "m1+p1", Action.DELETE_WITHOUT_AGREEMENT)
    duplicates.resolve(LOC, "m1+p1", Action.MERGE_INTO_MEMBER)
    with pytest.raises(ResolutionRefused, match="p1 were deleted, merged or moved"):
        duplicates.resolve(LOC, "m1+p1", Action.MERGE_INTO_MEMBER)


def test_the_weekly_run_stores_one_report_per_location(
    duplicates: Duplicates, entities: EntityRepository
) -> None:
    entities.save([person("m1", PersonKind.MEMBER), person("m2", PersonKind.MEMBER)])
    assert store_weekly_reports(duplicates).groups == {LOC: 1}
    (stored,) = duplicates.audit.reports(LOC)
    assert stored["groups"][0]["group_id"] == "m1+m2"
    assert stored["generated_at"].startswith("2026-11-22")
    # The next scheduled run that Monday has nothing left; a named location is recomputed.
    assert store_weekly_reports(duplicates).groups == {}
    assert store_weekly_reports(duplicates, [LOC]).groups == {LOC: 1}


def test_a_weekly_run_should_stop_leaves_the_rest_for_the_next_run(
    duplicates: Duplicates, entities: EntityRepository
) -> None:
    asked: list[int] = []

    def should_stop() -> bool:  # time for one location only
        asked.append(1)
        return len(asked) > 1

    duplicates.state.put_location(
        LocationSettings(location_id="ogdenville", club_number="1207", time_zone="America/Denver")
    )
    first = store_weekly_reports(duplicates, should_stop=should_stop)
    assert len(first.groups) == 1 and len(first.pending) == 1
    second = store_weekly_reports(duplicates)
    assert list(second.groups) == first.pending and second.pending == []
