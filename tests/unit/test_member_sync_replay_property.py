"""Property: page order, page replays and sync replays never change the result and never
duplicate an agreement (DESIGN.md "Idempotent merge")."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clubsync.domain.runs import SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.providers.base import SourcePage
from clubsync.resources.members import MemberSync
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository
from tests.conftest import abc_member
from tests.fakes import ListMemberSource

SETTINGS = LocationSettings(
    location_id="springfield", club_number="0451", time_zone="America/Chicago"
)
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)

# One member's history: the agreements billing showed over time, (number, sign date, active).
agreement_versions = st.lists(
    st.tuples(
        st.sampled_from(["00001", "00002", "00003"]),
        st.sampled_from(["2024-01-05", "2025-03-01", "2026-10-01"]),
        st.booleans(),
    ),
    min_size=1,
    max_size=3,
)
histories = st.lists(agreement_versions, min_size=1, max_size=5)


def billing_states(history: list[list[tuple[str, str, bool]]]) -> list[list[dict[str, Any]]]:
    """State i shows each member's i-th agreement (or their last one)."""
    steps = max(len(versions) for versions in history)
    return [
        [
            abc_member(
                f"{n:032x}",
                personal__firstName=f"Member{n}",
                personal__email=f"m{n}@example.org",
                personal__isActive="true" if versions[min(i, len(versions) - 1)][2] else "false",
                # ABC numbers agreements uniquely per club: member n's are n-prefixed.
                agreement__agreementNumber=f"{n}{versions[min(i, len(versions) - 1)][0]}",
                agreement__signDate=versions[min(i, len(versions) - 1)][1],
            )
            for n, versions in enumerate(history)
        ]
        for i in range(steps)
    ]


def sync(
    records: list[dict[str, Any]],
    entities: EntityRepository,
    state: StateRepository,
    rng: random.Random | None,
) -> None:
    def disorder(pages: list[SourcePage]) -> list[SourcePage]:
        assert rng is not None
        replayed = pages + [rng.choice(pages) for _ in range(rng.randint(0, 2))]
        rng.shuffle(replayed)
        return replayed

    shuffled = list(records)
    if rng is not None:
        rng.shuffle(shuffled)
    source = ListMemberSource(
        shuffled, SETTINGS.zone, page_size=2, page_order=disorder if rng else None
    )
    MemberSync(
        settings=SETTINGS, source=source, entities=entities, state=state, clock=lambda: NOW
    ).run(SyncKind.FULL, NOW)


def fresh() -> tuple[EntityRepository, StateRepository, MemoryItemTable]:
    table = MemoryItemTable()
    state = StateRepository(MemoryItemTable())
    state.put_location(SETTINGS)
    return EntityRepository(table), state, table


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories, seed=st.integers(0, 2**32 - 1), repeats=st.integers(1, 3))
def test_disordered_and_replayed_syncs_reach_the_same_state_without_duplicates(
    history: list[list[tuple[str, str, bool]]], seed: int, repeats: int
) -> None:
    rng = random.Random(seed)
    states = billing_states(history)

    clean_entities, clean_state, clean_table = fresh()
    for records in states:
        sync(records, clean_entities, clean_state, rng=None)

    messy_entities, messy_state, messy_table = fresh()
    for records in states:
        for _ in range(repeats):
            sync(records, messy_entities, messy_state, rng=rng)

    assert messy_table.all_items() == clean_table.all_items()

    agreements = messy_entities.agreements("springfield")
    keys = [a.agreement_key for a in agreements]
    assert len(keys) == len(set(keys))
    for person in messy_entities.people("springfield"):
        assert len(person.agreement_keys) == len(set(person.agreement_keys))
        current = [a for a in agreements if a.person_id == person.person_id and a.is_current]
        assert len(current) == 1

    # Replaying the last state once more writes nothing at all.
    messy_table.usage.reset()
    sync(states[-1], messy_entities, messy_state, rng=rng)
    assert messy_table.usage.items_written == 0
