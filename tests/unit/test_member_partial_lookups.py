"""A partial member sync looks its people up by billing id and by name in the by-billing-id
index instead of reading the location's whole person index (issue 15)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from clubsync.domain.people import PersonKind
from clubsync.domain.runs import RunRecord, SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.store.entities import NAME_INDEX_MARKER, EntityRepository, location_pk
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository
from tests.conftest import abc_member
from tests.fakes import ListMemberSource
from tests.unit.test_member_sync import NOW, make_job, member_id, prospect

LATER = NOW + timedelta(hours=15)  # 12:00 the next day in Chicago: a partial sync


def members(count: int, modified: str = "2026-11-21 08:00:00") -> list[dict[str, Any]]:
    return [
        abc_member(
            member_id(n),
            personal__firstName=f"Person{n}",
            personal__email=f"p{n}@example.org",
            personal__lastModifiedTimestamp=modified,
            agreement__agreementNumber=f"{n:05d}",
        )
        for n in range(1, count + 1)
    ]


def partial(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    records: list[dict[str, Any]],
) -> RunRecord:
    source = ListMemberSource(records, settings.zone, page_size=50)
    return make_job(settings, entities, state, source).run(SyncKind.PARTIAL, LATER)


def full(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    records: list[dict[str, Any]],
) -> RunRecord:
    source = ListMemberSource(records, settings.zone, page_size=50)
    return make_job(settings, entities, state, source).run(SyncKind.FULL, NOW)


def test_a_partial_sync_reads_the_people_it_fetched_not_the_whole_index(
    settings: LocationSettings,
    entities: EntityRepository,
    entity_table: MemoryItemTable,
    state: StateRepository,
) -> None:
    billing = members(200)
    full(settings, entities, state, billing)
    changed = [
        abc_member(
            member_id(n),
            personal__firstName=f"Person{n}",
            personal__email=f"new{n}@example.org",
            personal__lastModifiedTimestamp="2026-11-22 10:00:00",
            agreement__agreementNumber=f"{n:05d}",
        )
        for n in range(1, 6)
    ]
    entity_table.usage.reset()
    run = partial(settings, entities, state, billing[5:] + changed)
    assert run.counts.fetched == 5  # merged again (new hash); the CRM owns the e-mail
    # Each fetched person once by key, its agreement once, the marker once: not 200 people.
    assert entity_table.usage.items_read <= 3 * run.counts.fetched


def test_a_partial_sync_converts_a_prospect_found_by_name(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    full(settings, entities, state, members(3))
    entities.save(
        [prospect("crm-9", first_name="Person9", last_name="Reyes", email="p9@example.org")]
    )
    (new,) = members(9, modified="2026-11-22 10:00:00")[8:]
    run = partial(settings, entities, state, [new])
    assert run.counts.converted == 1
    (converted,) = [p for p in entities.people("springfield") if p.person_id == "crm-9"]
    assert converted.kind is PersonKind.MEMBER and converted.billing_member_id == member_id(9)


def test_people_stored_before_names_were_indexed_get_their_entry_from_the_full_sync(
    settings: LocationSettings,
    entities: EntityRepository,
    entity_table: MemoryItemTable,
    state: StateRepository,
) -> None:
    entities.save(
        [prospect("crm-9", first_name="Person9", last_name="Reyes", email="p9@example.org")]
    )
    # As stored before: no index entry for an unlinked person, no marker.
    (item,) = [i for i in entity_table.all_items() if i["sk"] == "PERSON#crm-9"]
    entity_table.batch_write([{k: v for k, v in item.items() if not k.startswith("gsi1")}])
    assert not entities.name_index_ready("springfield")
    full(settings, entities, state, members(3))
    assert entity_table.get((location_pk("springfield"), NAME_INDEX_MARKER)) is not None
    assert entities.unlinked_named("springfield", "person9 reyes") == ["crm-9"]
