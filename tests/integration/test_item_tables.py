"""The in-memory table and DynamoDB (moto) answer the same and count the same units for what
the bounded reads use: sort-key ranges, the by-billing-id index, and index writes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clubsync.runtime.local import Repositories
from clubsync.store.items import ItemTable, MemoryItemTable, index_image, index_writes
from clubsync.store.tables import BILLING_ID_INDEX


@pytest.fixture(params=["memory", "dynamodb"])
def table(request: pytest.FixtureRequest) -> Iterator[ItemTable]:
    if request.param == "memory":
        yield MemoryItemTable("entities")
    else:
        repos: Repositories = request.getfixturevalue("repos")
        yield repos.entities.table


def person(person_id: str, billing_id: str | None, kind: str = "member") -> dict[str, str]:
    item = {"pk": "LOC#x", "sk": f"PERSON#{person_id}", "person_id": person_id, "kind": kind}
    if billing_id:
        item |= {"gsi1pk": f"BILLING#x#{billing_id}", "gsi1sk": item["sk"]}
    return item


def test_a_range_of_sort_keys_reads_only_that_range(table: ItemTable) -> None:
    days = ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"]
    table.batch_write([{"pk": "LOC#x", "sk": f"CHECKINDAY#{d}#c{i}"} for i, d in enumerate(days)])
    table.usage.reset()
    found = list(table.query_between("LOC#x", "CHECKINDAY#2026-11-19", "CHECKINDAY#2026-11-20~"))
    assert [item["sk"] for item in found] == [
        "CHECKINDAY#2026-11-19#c1",
        "CHECKINDAY#2026-11-20#c2",
    ]
    assert table.usage.items_read == 2
    assert table.usage.read_units == 1


def test_the_last_items_of_a_prefix_are_read_newest_first_in_one_request(
    table: ItemTable,
) -> None:
    table.batch_write(
        [{"pk": "LOC#x", "sk": f"RUN#members#2026-11-{day}"} for day in range(10, 20)]
    )
    table.batch_write([{"pk": "LOC#x", "sk": "RUN#pos#2026-11-30"}])
    table.usage.reset()
    found = table.query_last("LOC#x", "RUN#members#", 3)
    assert [item["sk"] for item in found] == [
        "RUN#members#2026-11-19",
        "RUN#members#2026-11-18",
        "RUN#members#2026-11-17",
    ]
    assert table.usage.requests == 1
    assert table.usage.items_read == 3


def test_the_billing_id_index_finds_a_person_with_its_projection(table: ItemTable) -> None:
    table.batch_write([person("abc-1", "1"), person("p-2", None, "prospect")])
    table.usage.reset()
    found = list(table.query_index(BILLING_ID_INDEX, "BILLING#x#1"))
    assert [item["person_id"] for item in found] == ["abc-1"]
    assert table.usage.read_units == 0.5
    assert list(table.query_index(BILLING_ID_INDEX, "BILLING#x#2")) == []


def test_index_writes_are_counted_once_per_entry_added_changed_or_removed(
    table: ItemTable,
) -> None:
    table.batch_write([person("abc-1", "1"), person("p-2", None, "prospect")])
    # Two table writes, one index entry (the prospect is not linked to billing).
    assert (table.usage.write_units, table.usage.index_write_units) == (3, 1)
    # Read first, as every sync does before it writes a person again.
    table.batch_get([("LOC#x", "PERSON#abc-1"), ("LOC#x", "PERSON#p-2")])
    table.usage.reset()
    table.batch_write([person("abc-1", "1") | {"source_hash": "h2"}])
    assert (table.usage.write_units, table.usage.index_write_units) == (1, 0)
    table.batch_write([person("p-2", "2")])  # the prospect gets linked: a new index entry
    assert table.usage.index_write_units == 1


def test_the_rule_for_index_writes() -> None:
    linked = index_image(person("abc-1", "1"), BILLING_ID_INDEX)
    relinked = index_image(person("abc-1", "9"), BILLING_ID_INDEX)
    converted = index_image(person("abc-1", "1", "prospect"), BILLING_ID_INDEX)
    assert index_writes(None, None) == 0
    assert index_writes(None, linked) == 1
    assert index_writes(linked, None) == 1
    assert index_writes(linked, linked) == 0
    assert index_writes(linked, converted) == 1  # a projected attribute changed
    assert index_writes(linked, relinked) == 2  # the index key changed: delete and put
