"""Fleet health (clubsync.features.fleet_status) over the in-memory stores: worst first, the
state of each sync type from its watermark and newest runs, bounded reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clubsync.domain.runs import RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.engine.sync_types import full_sync_types
from clubsync.features.fleet_status import Health, fleet_status, one_line
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import QuarantinedRecord, StateRepository

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def settings(location_id: str) -> LocationSettings:
    return LocationSettings(location_id=location_id, club_number="0451", time_zone="UTC")


def run(location_id: str, status: RunStatus, at: datetime, message: str = "") -> RunRecord:
    return RunRecord(
        run_id=f"{location_id}-{at:%H%M}-{status.value}",
        location_id=location_id,
        sync_type=SyncType.MEMBERS,
        kind=SyncKind.PARTIAL,
        status=status,
        scheduled_time=at,
        started_at=at,
        message=message,
    )


def synced(state: StateRepository, location_id: str, at: datetime) -> None:
    """A location whose every sync type last succeeded at `at`."""
    location = settings(location_id)
    state.put_location(location)
    for sync_type in full_sync_types(location):
        state.set_watermark(location_id, sync_type.value, at)


def fleet() -> tuple[StateRepository, MemoryItemTable]:
    state = StateRepository(MemoryItemTable("state"))
    synced(state, "a-ok", NOW - timedelta(hours=2))
    synced(state, "b-stale", NOW - timedelta(hours=2))
    state.set_watermark("b-stale", "members", NOW - timedelta(hours=30))
    synced(state, "c-failing", NOW - timedelta(hours=3))
    state.put_run(run("c-failing", RunStatus.SUCCEEDED, NOW - timedelta(hours=3)))
    state.put_run(
        run("c-failing", RunStatus.FAILED, NOW - timedelta(hours=1), "ABC answered 500\nat /x")
    )
    state.save_quarantine(
        [
            QuarantinedRecord(
                location_id="c-failing",
                sync_type="members",
                record_id=f"m{i}",
                reason="bad email",
                payload={},
                content_hash="h",
                first_seen=NOW,
                last_seen=NOW,
            )
            for i in range(3)
        ]
    )
    return state, MemoryItemTable("entities")


def test_locations_come_worst_first_with_what_made_them_so() -> None:
    state, entities = fleet()
    status = fleet_status(state, entities, NOW, dead_letters={"sync": 2})
    assert [(loc.location_id, loc.health) for loc in status.locations] == [
        ("c-failing", Health.FAILING),
        ("b-stale", Health.STALE),
        ("a-ok", Health.OK),
    ]
    failing = status.locations[0].types[0]
    assert (failing.sync_type, failing.quarantined, failing.age_hours) == ("members", 3, 3.0)
    assert failing.last_error == "ABC answered 500 at /x"
    stale = status.locations[1].types[0]
    assert (stale.sync_type, stale.health, stale.age_hours) == ("members", Health.STALE, 30.0)
    assert [row.health for row in status.locations[2].types] == [Health.OK] * len(
        full_sync_types(settings("a-ok"))
    )
    assert status.dead_letters == {"sync": 2}
    assert (status.count(Health.FAILING), status.count(Health.OK)) == (1, 1)


def test_a_success_after_a_failure_is_ok_and_a_lease_skip_decides_nothing() -> None:
    state, entities = fleet()
    state.put_run(run("c-failing", RunStatus.SKIPPED_LOCKED, NOW - timedelta(minutes=30)))
    assert fleet_status(state, entities, NOW, location_id="c-failing").locations[0].health is (
        Health.FAILING
    )
    state.put_run(run("c-failing", RunStatus.SUCCEEDED, NOW - timedelta(minutes=10)))
    members = fleet_status(state, entities, NOW, location_id="c-failing").locations[0].types
    assert {row.health for row in members} == {Health.OK}
    # The failure before the success is still shown, with its time.
    assert members[0].last_error_at == NOW - timedelta(hours=1)


def test_a_location_that_never_synced_is_stale() -> None:
    state = StateRepository(MemoryItemTable("state"))
    state.put_location(settings("new"))
    status = fleet_status(state, MemoryItemTable("entities"), NOW)
    assert {row.health for row in status.locations[0].types} == {Health.STALE}
    assert {row.age_hours for row in status.locations[0].types} == {None}


def test_runs_are_read_newest_first_a_bounded_number_per_type() -> None:
    state, entities = fleet()
    for hour in range(200):
        state.put_run(run("a-ok", RunStatus.SUCCEEDED, NOW - timedelta(days=30, hours=hour)))
    state.table.usage.reset()
    fleet_status(state, entities, NOW, location_id="a-ok", pushes=False)
    # 200 old runs, yet each type's runs are one Query of at most RECENT_RUNS items.
    assert state.table.usage.items_read <= 10 * len(full_sync_types(settings("a-ok")))


def test_pending_pushes_count_prospects_still_to_push() -> None:
    state, entities = fleet()
    pk = "LOC#a-ok"
    entities.batch_write(
        [
            {"pk": pk, "sk": "PERSON#p1", "kind": "prospect"},
            {"pk": pk, "sk": "PERSON#p2", "kind": "prospect", "push": {"state": "failing"}},
            {"pk": pk, "sk": "PERSON#p3", "kind": "prospect", "push": {"state": "pushed"}},
            {"pk": pk, "sk": "PERSON#m1", "kind": "member"},
        ]
    )
    status = fleet_status(state, entities, NOW, location_id="a-ok")
    assert status.locations[0].pending_pushes == 2
    assert (
        fleet_status(state, entities, NOW, location_id="a-ok", pushes=False)
        .locations[0]
        .pending_pushes
        is None
    )


def test_an_unknown_location_is_refused_by_name() -> None:
    state, entities = fleet()
    with pytest.raises(LookupError, match="'nowhere' is not registered"):
        fleet_status(state, entities, NOW, location_id="nowhere")


def test_one_line_flattens_and_shortens() -> None:
    assert one_line("a\n  b\tc") == "a b c"
    assert len(one_line("x" * 500)) == 200
