"""Entity writes paced below a partition key's 1,000 write units a second (issue 15, the 21:00
burst): WritePacer's arithmetic on a fake clock, and DynamoItemTable.batch_write using it."""

from __future__ import annotations

from typing import Any

import pytest

from clubsync.domain.runs import SyncType
from clubsync.engine.sync_types import (
    FULL_SYNC_STAGES,
    PACED_SHARE,
    PARTIAL_SYNC_ORDER,
    write_units_per_second,
)
from clubsync.store.items import PARTITION_WRITE_UNITS_PER_SECOND, DynamoItemTable, WritePacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_key_gets_a_seconds_units_at_once_then_waits_in_proportion() -> None:
    clock = FakeClock()
    pacer = WritePacer(100, clock=clock, sleep=clock.sleep)
    pacer.take("LOC#a", 100)
    assert clock.slept == []
    pacer.take("LOC#a", 50)
    assert clock.slept == [pytest.approx(0.5)]
    # Another key has its own budget.
    pacer.take("LOC#b", 100)
    assert len(clock.slept) == 1
    # Time refills the bucket, never past one second's units.
    clock.now += 10
    pacer.take("LOC#a", 100)
    assert len(clock.slept) == 1
    pacer.take("LOC#a", 250)  # larger than a second's units: waits 2.5 s
    assert clock.slept[-1] == pytest.approx(2.5)
    assert pacer.waited == pytest.approx(3.0)


def test_over_any_long_stretch_a_key_gets_at_most_its_rate() -> None:
    clock = FakeClock()
    pacer = WritePacer(800, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(2_760):  # ~69,000 items in batches of 25, one unit each
        pacer.take("LOC#big", 25)
    elapsed = clock.now - start
    # One second's burst, then the rate.
    assert (2_760 * 25 - 800) / elapsed == pytest.approx(800, rel=0.001)


def test_a_bad_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        WritePacer(0)


class RecordingClient:
    def __init__(self) -> None:
        self.batches: list[dict[str, Any]] = []

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.batches.append(RequestItems)
        return {}


def test_batch_writes_are_paced_per_partition_key_by_their_write_units() -> None:
    clock = FakeClock()
    pacer = WritePacer(10, clock=clock, sleep=clock.sleep)
    client = RecordingClient()
    table = DynamoItemTable(client, "entities", pacer=pacer)
    items = [{"pk": "LOC#a", "sk": f"PERSON#{i}"} for i in range(30)]

    table.batch_write(items, deletes=[("LOC#b", "PERSON#x")])

    assert len(client.batches) == 2
    # 25 units of LOC#a: 10 at once, 15 waited (1.5 s); then 5 more of LOC#a (0.5 s), and
    # LOC#b's delete within its own budget.
    assert clock.slept == [pytest.approx(1.5), pytest.approx(0.5)]
    assert table.usage.write_units == 31


def test_without_a_pacer_nothing_waits() -> None:
    client = RecordingClient()
    table = DynamoItemTable(client, "entities")
    table.batch_write([{"pk": "LOC#a", "sk": f"P#{i}"} for i in range(60)])
    assert len(client.batches) == 3 and table.pacer is None


def test_types_that_write_at_the_same_time_share_the_keys_budget() -> None:
    limit = PARTITION_WRITE_UNITS_PER_SECOND
    for stage in FULL_SYNC_STAGES:
        # A stage's types run side by side: together they stay within the paced share.
        assert sum(write_units_per_second(t, limit) for t in stage) <= PACED_SHARE * limit
    assert sum(write_units_per_second(t, limit) for t in PARTIAL_SYNC_ORDER) <= PACED_SHARE * limit
    # Members run alone at night, beside check-ins at noon: half the share.
    assert write_units_per_second(SyncType.MEMBERS, limit) == PACED_SHARE * limit / 2
