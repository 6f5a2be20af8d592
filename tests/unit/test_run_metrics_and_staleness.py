"""The one place a run becomes metrics (clubsync.runtime.run_metrics) and the staleness check
(clubsync.features.staleness), over the in-memory state table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clubsync.domain.runs import RunCounts, RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.engine.sync_types import FULL_SYNC_ORDER
from clubsync.features.staleness import STALE_AFTER, check_staleness
from clubsync.runtime.run_metrics import (
    COUNT_METRICS,
    STATUS_METRICS,
    run_metric_values,
    sync_service,
)
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def run(status: RunStatus, sync_type: SyncType = SyncType.POS) -> RunRecord:
    return RunRecord(
        run_id="r1",
        location_id="springfield",
        sync_type=sync_type,
        kind=SyncKind.FULL,
        status=status,
        scheduled_time=NOW,
        started_at=NOW,
        counts=RunCounts(fetched=7, created=3, quarantined=1, pages=2),
        billing_requests=2,
    )


@pytest.mark.parametrize("status", list(RunStatus))
def test_a_run_emits_its_status_and_its_counts_once_it_has_ended(status: RunStatus) -> None:
    values = run_metric_values(run(status))
    assert values[STATUS_METRICS[status]] == 1
    ended = status in (RunStatus.SUCCEEDED, RunStatus.FAILED)
    # A continued run's counts are reported again, cumulatively, when it ends.
    assert set(values) == {STATUS_METRICS[status], *(COUNT_METRICS.values() if ended else ())}
    if ended:
        assert (values["Fetched"], values["Created"], values["BillingRequests"]) == (7, 3, 2)


def test_every_sync_type_has_the_same_metric_names_and_its_own_service() -> None:
    names = {frozenset(run_metric_values(run(RunStatus.SUCCEEDED, t))) for t in FULL_SYNC_ORDER}
    assert len(names) == 1
    services = [sync_service(t) for t in FULL_SYNC_ORDER]
    assert len(set(services)) == len(FULL_SYNC_ORDER)
    assert sync_service(SyncType.MEMBERS) == "clubsync-members-sync"
    assert sync_service(SyncType.SERVICE_AGREEMENTS) == "clubsync-service-agreements-sync"


@pytest.fixture
def state() -> StateRepository:
    repository = StateRepository(MemoryItemTable())
    for location_id in ("fresh", "old", "never"):
        repository.put_location(
            LocationSettings(location_id=location_id, club_number="0451", time_zone="UTC")
        )
    repository.set_watermark("fresh", "members", NOW - timedelta(hours=20))
    repository.set_watermark("old", "members", NOW - STALE_AFTER - timedelta(minutes=1))
    # Another type's watermark does not count: the check is about members.
    repository.set_watermark("never", "checkins", NOW - timedelta(hours=1))
    return repository


def test_a_location_whose_member_watermark_is_older_than_26_hours_is_stale(
    state: StateRepository,
) -> None:
    report = check_staleness(state, NOW)
    assert report.checked == 3
    assert [s.location_id for s in report.stale] == ["old"]
    assert report.stale[0].hours_since(NOW) == pytest.approx(26.0, abs=0.1)
    # Never synced: first seen now, not stale yet (its first sync may not have run).
    assert report.newly_seen == ["never"]


def test_a_location_never_synced_is_stale_26_hours_after_it_was_first_seen(
    state: StateRepository,
) -> None:
    check_staleness(state, NOW)
    later = check_staleness(state, NOW + timedelta(hours=25))
    assert "never" not in [s.location_id for s in later.stale] and later.newly_seen == []
    much_later = check_staleness(state, NOW + STALE_AFTER + timedelta(minutes=1))
    never = next(s for s in much_later.stale if s.location_id == "never")
    assert never.last_success is None and never.first_checked == NOW


def test_a_successful_sync_makes_a_location_fresh_again(state: StateRepository) -> None:
    state.set_watermark("old", "members", NOW - timedelta(minutes=5))
    assert [s.location_id for s in check_staleness(state, NOW).stale] == []


def test_the_check_reads_watermarks_in_batches_not_one_request_per_location() -> None:
    table = MemoryItemTable()
    repository = StateRepository(table)
    for index in range(250):
        location_id = f"club{index:03d}"
        repository.put_location(
            LocationSettings(location_id=location_id, club_number="0451", time_zone="UTC")
        )
        repository.set_watermark(location_id, "members", NOW - timedelta(hours=index % 30))
    calls: list[int] = []
    batch_get = table.batch_get
    table.batch_get = lambda keys: calls.append(len(keys)) or batch_get(keys)  # type: ignore[method-assign]
    report = check_staleness(repository, NOW)
    assert calls == [250]  # one call; DynamoItemTable splits it into requests of 100
    assert len(report.stale) == sum(1 for i in range(250) if i % 30 > 26)
