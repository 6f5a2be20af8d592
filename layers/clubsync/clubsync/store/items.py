"""Item-level access to one table: DynamoDB, or an in-memory fake with the same behaviour.

Repositories (`entities.py`, `state.py`) are written once against `ItemTable`; unit tests give
them `MemoryItemTable`, local runs and Lambda give them `DynamoItemTable`.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from botocore.exceptions import ClientError

from clubsync.store.tables import ALL_TABLES, GlobalIndexSpec

Item = dict[str, Any]
Key = tuple[str, str]

BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
_UNPROCESSED_RETRIES = 8
# One partition key takes at most 1,000 write units a second (DESIGN.md, known traps): a
# location's first sync writes tens of thousands of items under a few keys.
PARTITION_WRITE_UNITS_PER_SECOND = 1000


class WritePacer:
    """Keeps the write units a table sends to each partition key at or under
    `units_per_second`: a token bucket per key, one second deep, that sleeps before a batch
    that would overdraw it (a batch larger than a second's units waits in proportion)."""

    def __init__(
        self,
        units_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if units_per_second <= 0:
            raise ValueError(f"write units per second must be positive, got {units_per_second}")
        self.units_per_second = units_per_second
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (units left, at)
        # Seconds slept in all: run records and benchmarks can say what pacing cost.
        self.waited = 0.0

    def take(self, partition_key: str, units: float) -> None:
        rate = self.units_per_second
        now = self._clock()
        left, at = self._buckets.get(partition_key, (rate, now))
        left = min(rate, left + (now - at) * rate) - units
        if left < 0:
            wait = -left / rate
            self._sleep(wait)
            self.waited += wait
            now, left = now + wait, 0.0
        self._buckets[partition_key] = (left, now)


@dataclass
class TableUsage:
    """What a table was asked to do; benchmarks and replay tests read it.

    Units follow DynamoDB's on-demand pricing: a write unit per started KB of item written,
    half a read unit per started 4 KB read eventually consistent, one strongly consistent.
    `write_units` include the writes to global indexes (`index_write_units`, see
    `index_writes`), which DynamoDB bills like table writes."""

    requests: int = 0
    items_written: int = 0
    items_deleted: int = 0
    write_units: int = 0
    index_write_units: int = 0
    read_units: float = 0.0
    items_read: int = 0

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


class ConditionFailed(Exception):
    """A conditional write found the item in another state (e.g. a lease held by someone else)."""


@contextmanager
def _condition_checked() -> Iterator[None]:
    """DynamoDB's failed condition as our ConditionFailed; every other error as it is."""
    try:
        yield
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise ConditionFailed(str(error)) from error
        raise


def _text_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def value_size(value: Any) -> int:
    """Bytes DynamoDB counts for a value (its "Item sizes and formats" rules): UTF-8 length of
    strings, about one byte per two digits of numbers, one byte for booleans and nulls, three
    bytes for a list or map plus one per element."""
    kind = type(value)
    if kind is str:
        return _text_size(value)
    if value is None or kind is bool:
        return 1
    if kind is dict:
        size = 3
        for name, entry in value.items():
            size += _text_size(name) + value_size(entry) + 1
        return size
    if kind is list or kind is tuple:
        size = 3
        for entry in value:
            size += value_size(entry) + 1
        return size
    if kind is int or kind is float or kind is Decimal:
        return len(str(value).lstrip("-").replace(".", "")) // 2 + 1
    raise TypeError(f"cannot store a {kind.__name__} in DynamoDB")


def item_size(item: Item) -> int:
    size = 0
    for name, value in item.items():
        size += _text_size(name) + value_size(value)
    return size


def write_units(item: Item) -> int:
    return max(1, math.ceil(item_size(item) / 1024))


# Every global index of our tables, by the attributes that put an item in it: an item carries
# an index's partition key attribute only if it belongs in that index.
KNOWN_INDEXES: tuple[GlobalIndexSpec, ...] = tuple(
    index for table in ALL_TABLES for index in table.global_indexes
)
IndexImage = tuple[Any, ...] | None


def index_image(item: Item | None, index: GlobalIndexSpec) -> IndexImage:
    """What of an item a global index holds (keys, then projected attributes); None: the item
    is not in the index."""
    if item is None or index.partition_key not in item:
        return None
    names = (index.partition_key, index.sort_key, *index.projected_attributes)
    return tuple(item.get(name) for name in names)


def index_writes(old: IndexImage, new: IndexImage) -> int:
    """Index writes DynamoDB bills for a table write that turns `old` into `new` (its "Global
    secondary indexes: provisioned throughput considerations"): none when the index's keys and
    projected attributes stay the same, one to add, remove or update an entry, two when the
    index key changes (the old entry deleted, the new one put). Our index entries are far under
    a KB: one unit each."""
    if old == new:
        return 0
    if old is None or new is None:
        return 1
    return 1 if old[:2] == new[:2] else 2


def to_attribute(value: Any) -> dict[str, Any]:
    """A JSON-shaped value as a DynamoDB attribute value. Our items hold only what
    `model_dump(mode="json")` produces, so this small dispatch replaces boto3's TypeSerializer
    (which costs several times more on the hot path of every sync)."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is bool:
        return {"BOOL": value}
    if kind is int or kind is Decimal:
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    if kind is dict:
        return {"M": {name: to_attribute(entry) for name, entry in value.items()}}
    if kind is list or kind is tuple:
        return {"L": [to_attribute(entry) for entry in value]}
    if kind is float:
        return {"N": repr(value)}
    raise TypeError(f"cannot store a {kind.__name__} in DynamoDB")


def from_attribute(attribute: dict[str, Any]) -> Any:
    ((tag, value),) = attribute.items()
    if tag == "S" or tag == "BOOL":
        return value
    if tag == "N":
        return int(value) if value.lstrip("-").isdigit() else float(value)
    if tag == "NULL":
        return None
    if tag == "M":
        return {name: from_attribute(entry) for name, entry in value.items()}
    if tag == "L":
        return [from_attribute(entry) for entry in value]
    if tag in ("SS", "NS"):
        return sorted(from_attribute({tag[0]: entry}) for entry in value)
    raise TypeError(f"unexpected DynamoDB attribute type {tag}")


def dynamodb_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A DynamoDB client for the repositories. botocore's client-side parameter validation is
    off: it took half the CPU of a first sync, and DynamoDB validates every request itself."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(parameter_validation=False, retries={"mode": "standard"}),
    )


class ItemTable(Protocol):
    name: str
    usage: TableUsage

    def get(self, key: Key) -> Item | None: ...

    def query(
        self, pk: str, sk_prefix: str = "", projection: Sequence[str] | None = None
    ) -> Iterator[Item]: ...

    def query_between(
        self, pk: str, low: str, high: str, projection: Sequence[str] | None = None
    ) -> Iterator[Item]:
        """Items of `pk` whose sort key is between `low` and `high`, both included."""
        ...

    def query_index(self, index: GlobalIndexSpec, pk: str) -> Iterator[Item]:
        """Items of a global index's partition `pk`, with the index's projected attributes
        (eventually consistent, as DynamoDB's global indexes are)."""
        ...

    def query_last(self, pk: str, sk_prefix: str, limit: int) -> list[Item]:
        """The last `limit` items of `pk` under `sk_prefix`, highest sort key first: one
        request, whatever the partition holds."""
        ...

    def batch_get(self, keys: Sequence[Key]) -> list[Item]: ...

    def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> None: ...

    def put(self, item: Item) -> None: ...

    def put_if_free(self, item: Item, *, owner: str, now_epoch: int) -> None:
        """Put a lease-like item unless another owner holds it unexpired.

        The item's `owner` and `expires_at` attributes are compared; raises ConditionFailed."""
        ...

    def delete(self, key: Key, *, only_if_owner: str | None = None) -> None: ...

    def put_expecting(self, item: Item, expected: dict[str, Any]) -> None:
        """Put the item only if the stored one has each `expected` attribute equal to the given
        value (None: the attribute, or the whole item, is absent). Raises ConditionFailed."""
        ...

    def update(self, key: Key, attributes: Item) -> None:
        """Set these attributes on an existing item, leaving the others as they are.
        Raises ConditionFailed when the item does not exist (it is never created)."""
        ...


def _meets(current: Item | None, expected: dict[str, Any]) -> bool:
    for name, value in expected.items():
        present = current is not None and name in current
        if value is None and present:
            return False
        if value is not None and (not present or current is None or current[name] != value):
            return False
    return True


class MemoryItemTable:
    """An in-memory table with DynamoDB's semantics for what the repositories use."""

    def __init__(self, name: str = "memory", pk: str = "pk", sk: str = "sk") -> None:
        self.name = name
        self.usage = TableUsage()
        self._pk = pk
        self._sk = sk
        self._items: dict[Key, Item] = {}
        self._lock = threading.Lock()

    def _key(self, item: Item) -> Key:
        return (item[self._pk], item[self._sk])

    def all_items(self) -> list[Item]:
        """Every item, in key order."""
        with self._lock:
            return [copy.deepcopy(self._items[key]) for key in sorted(self._items)]

    def get(self, key: Key) -> Item | None:
        with self._lock:
            self.usage.requests += 1
            self.usage.read_units += 1
            found = self._items.get(key)
            return copy.deepcopy(found) if found else None

    def query(
        self, pk: str, sk_prefix: str = "", projection: Sequence[str] | None = None
    ) -> Iterator[Item]:
        return self._query(pk, lambda sk: sk.startswith(sk_prefix), projection)

    def query_between(
        self, pk: str, low: str, high: str, projection: Sequence[str] | None = None
    ) -> Iterator[Item]:
        return self._query(pk, lambda sk: low <= sk <= high, projection)

    def query_last(self, pk: str, sk_prefix: str, limit: int) -> list[Item]:
        with self._lock:
            self.usage.requests += 1
            matches = sorted(
                (key, item)
                for key, item in self._items.items()
                if key[0] == pk and key[1].startswith(sk_prefix)
            )[::-1][:limit]
            self.usage.items_read += len(matches)
            self.usage.read_units += max(1, math.ceil(len(matches) / 4))
            return [copy.deepcopy(item) for _, item in matches]

    def _query(
        self, pk: str, wanted: Callable[[str], bool], projection: Sequence[str] | None
    ) -> Iterator[Item]:
        with self._lock:
            self.usage.requests += 1
            matches = sorted(
                (key, item) for key, item in self._items.items() if key[0] == pk and wanted(key[1])
            )
            result = [copy.deepcopy(item) for _, item in matches]
            # As DynamoItemTable counts them (items of about a KB, strongly consistent).
            self.usage.read_units += max(1, math.ceil(len(result) / 4))
        for item in result:
            self.usage.items_read += 1
            yield {name: item[name] for name in projection if name in item} if projection else item

    def query_index(self, index: GlobalIndexSpec, pk: str) -> Iterator[Item]:
        names = (
            self._pk,
            self._sk,
            index.partition_key,
            index.sort_key,
            *index.projected_attributes,
        )
        with self._lock:
            self.usage.requests += 1
            matches = sorted(
                (item[index.sort_key], key, item)
                for key, item in self._items.items()
                if item.get(index.partition_key) == pk
            )
            result = [{n: item[n] for n in names if n in item} for _, _, item in matches]
            # Eventually consistent: half a unit per started 4 KB; index entries are small.
            self.usage.read_units += 0.5 * max(1, math.ceil(len(result) / 16))
            self.usage.items_read += len(result)
        return iter(copy.deepcopy(result))

    def batch_get(self, keys: Sequence[Key]) -> list[Item]:
        with self._lock:
            unique = list(dict.fromkeys(keys))
            self.usage.requests += math.ceil(len(unique) / BATCH_GET_LIMIT)
            found = [copy.deepcopy(self._items[key]) for key in unique if key in self._items]
            self.usage.items_read += len(found)
            # A key not found costs a read too.
            self.usage.read_units += len(unique)
            return found

    def _count_index_writes(self, old: Item | None, new: Item | None) -> None:
        units = sum(
            index_writes(index_image(old, index), index_image(new, index))
            for index in KNOWN_INDEXES
        )
        self.usage.index_write_units += units
        self.usage.write_units += units

    def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> None:
        if not puts and not deletes:
            return
        with self._lock:
            self.usage.requests += math.ceil((len(puts) + len(deletes)) / BATCH_WRITE_LIMIT)
            for item in puts:
                key = self._key(item)
                self._count_index_writes(self._items.get(key), item)
                self._items[key] = copy.deepcopy(item)
                self.usage.items_written += 1
                self.usage.write_units += write_units(item)
            for key in deletes:
                self._count_index_writes(self._items.pop(key, None), None)
                self.usage.items_deleted += 1
                self.usage.write_units += 1

    def put(self, item: Item) -> None:
        self.batch_write([item])

    def put_if_free(self, item: Item, *, owner: str, now_epoch: int) -> None:
        with self._lock:
            current = self._items.get(self._key(item))
            if (
                current
                and current.get("owner") != owner
                and current.get("expires_at", 0) > now_epoch
            ):
                self.usage.requests += 1
                raise ConditionFailed(f"held by {current.get('owner')}")
        self.put(item)

    def delete(self, key: Key, *, only_if_owner: str | None = None) -> None:
        with self._lock:
            current = self._items.get(key)
            if only_if_owner is not None and current and current.get("owner") != only_if_owner:
                raise ConditionFailed(f"held by {current.get('owner')}")
        self.batch_write(deletes=[key])

    def put_expecting(self, item: Item, expected: dict[str, Any]) -> None:
        with self._lock:
            if not _meets(self._items.get(self._key(item)), expected):
                self.usage.requests += 1
                raise ConditionFailed(f"expected {sorted(expected)} not met")
        self.put(item)

    def update(self, key: Key, attributes: Item) -> None:
        with self._lock:
            self.usage.requests += 1
            current = self._items.get(key)
            if current is None:
                raise ConditionFailed("no such item")
            before = dict(current)
            current.update(copy.deepcopy(attributes))
            self._count_index_writes(before, current)
            self.usage.items_written += 1
            self.usage.write_units += write_units(current)


class DynamoItemTable:
    """A DynamoDB table through the low-level client (the resource layer is slower)."""

    def __init__(
        self,
        client: Any,
        name: str,
        pk: str = "pk",
        sk: str = "sk",
        *,
        pacer: WritePacer | None = None,
    ) -> None:
        self.name = name
        self.usage = TableUsage()
        self._client = client
        self._pk = pk
        self._sk = sk
        self._index_images: dict[Key, tuple[IndexImage, ...]] = {}
        # Batch writes are paced per partition key when given one (the sync functions).
        self.pacer = pacer

    def _to_dynamo(self, item: Item) -> dict[str, Any]:
        return {name: to_attribute(value) for name, value in item.items()}

    def _from_dynamo(self, item: dict[str, Any]) -> Item:
        return {name: from_attribute(value) for name, value in item.items()}

    def _key_of(self, key: Key) -> dict[str, Any]:
        return {self._pk: {"S": key[0]}, self._sk: {"S": key[1]}}

    def get(self, key: Key) -> Item | None:
        self.usage.requests += 1
        answer = self._client.get_item(
            TableName=self.name, Key=self._key_of(key), ConsistentRead=True
        )
        self.usage.read_units += 1
        return self._from_dynamo(answer["Item"]) if "Item" in answer else None

    def query(
        self, pk: str, sk_prefix: str = "", projection: Sequence[str] | None = None
    ) -> Iterator[Item]:
        request: dict[str, Any] = {
            "TableName": self.name,
            "ConsistentRead": True,
            "KeyConditionExpression": "#pk = :pk"
            + (" AND begins_with(#sk, :prefix)" if sk_prefix else ""),
            "ExpressionAttributeNames": {"#pk": self._pk},
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        if sk_prefix:
            request["ExpressionAttributeNames"]["#sk"] = self._sk
            request["ExpressionAttributeValues"][":prefix"] = {"S": sk_prefix}
        if projection:
            names = {f"#p{i}": name for i, name in enumerate(projection)}
            request["ExpressionAttributeNames"].update(names)
            request["ProjectionExpression"] = ", ".join(names)
        return self._pages(request)

    def query_last(self, pk: str, sk_prefix: str, limit: int) -> list[Item]:
        self.usage.requests += 1
        answer = self._client.query(
            TableName=self.name,
            ConsistentRead=True,
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": self._pk, "#sk": self._sk},
            ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": sk_prefix}},
            ScanIndexForward=False,
            Limit=limit,
        )
        self.usage.items_read += len(answer["Items"])
        self.usage.read_units += max(1, math.ceil(len(answer["Items"]) / 4))
        return [self._from_dynamo(raw) for raw in answer["Items"]]

    def query_between(
        self, pk: str, low: str, high: str, projection: Sequence[str] | None = None
    ) -> Iterator[Item]:
        request: dict[str, Any] = {
            "TableName": self.name,
            "ConsistentRead": True,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
            "ExpressionAttributeNames": {"#pk": self._pk, "#sk": self._sk},
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":low": {"S": low},
                ":high": {"S": high},
            },
        }
        if projection:
            names = {f"#p{i}": name for i, name in enumerate(projection)}
            request["ExpressionAttributeNames"].update(names)
            request["ProjectionExpression"] = ", ".join(names)
        return self._pages(request)

    def query_index(self, index: GlobalIndexSpec, pk: str) -> Iterator[Item]:
        request: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": index.name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": index.partition_key},
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        # Global indexes are eventually consistent only: half a unit per started 4 KB, and
        # our index entries are small (about 250 bytes).
        return self._pages(request, items_per_unit=16, unit=0.5)

    def _pages(
        self, request: dict[str, Any], items_per_unit: int = 4, unit: float = 1.0
    ) -> Iterator[Item]:
        while True:
            self.usage.requests += 1
            answer = self._client.query(**request)
            self.usage.items_read += len(answer["Items"])
            scanned = answer.get("ScannedCount", 1)
            self.usage.read_units += unit * max(1, math.ceil(scanned / items_per_unit))
            for raw in answer["Items"]:
                item = self._from_dynamo(raw)
                if "ProjectionExpression" not in request and "IndexName" not in request:
                    self._remember(item)
                yield item
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _remember(self, item: Item) -> None:
        """Keeps what the global indexes hold of an item read whole or written, so a later
        write of it counts only the index writes it causes (see `_count_index_writes`)."""
        self._index_images[(item[self._pk], item[self._sk])] = tuple(
            index_image(item, index) for index in KNOWN_INDEXES
        )

    def _count_index_writes(self, key: Key, new: Item | None) -> None:
        """A put of an item this table never saw is counted as adding it to every index it
        belongs to: an index write may be counted that DynamoDB does not bill, never missed.
        (A delete of an item never seen counts none: the sync types delete only what they
        read.)"""
        old = self._index_images.get(key)
        units = sum(
            index_writes(old[position] if old else None, index_image(new, index))
            for position, index in enumerate(KNOWN_INDEXES)
        )
        if new is None:
            self._index_images.pop(key, None)
        else:
            self._remember(new)
        self.usage.index_write_units += units
        self.usage.write_units += units

    def batch_get(self, keys: Sequence[Key]) -> list[Item]:
        found: list[Item] = []
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            pending: dict[str, Any] = {
                self.name: {
                    "Keys": [self._key_of(key) for key in unique[start : start + BATCH_GET_LIMIT]],
                    "ConsistentRead": True,
                }
            }
            for attempt in range(_UNPROCESSED_RETRIES):
                self.usage.requests += 1
                answer = self._client.batch_get_item(RequestItems=pending)
                items = answer["Responses"].get(self.name, [])
                self.usage.items_read += len(items)
                # Every key asked costs a read, found or not (items under 4 KB).
                unprocessed = (answer.get("UnprocessedKeys") or {}).get(self.name, {})
                self.usage.read_units += len(pending[self.name]["Keys"]) - len(
                    unprocessed.get("Keys", [])
                )
                for raw in items:
                    item = self._from_dynamo(raw)
                    self._remember(item)
                    found.append(item)
                pending = answer.get("UnprocessedKeys") or {}
                if not pending:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise RuntimeError(f"DynamoDB kept {len(pending)} keys of {self.name} unprocessed")
        return found

    def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> None:
        operations: list[tuple[str, Any]] = [("put", item) for item in puts]
        operations += [("delete", key) for key in deletes]
        # Converted a batch at a time: a page of 5,000 members converted at once held
        # ~150 MB of attribute dictionaries.
        for start in range(0, len(operations), BATCH_WRITE_LIMIT):
            pending: list[dict[str, Any]] = []
            units: Counter[str] = Counter()
            for operation, value in operations[start : start + BATCH_WRITE_LIMIT]:
                if operation == "put":
                    pending.append({"PutRequest": {"Item": self._to_dynamo(value)}})
                    self.usage.items_written += 1
                    units[value[self._pk]] += write_units(value)
                    self._count_index_writes((value[self._pk], value[self._sk]), value)
                else:
                    pending.append({"DeleteRequest": {"Key": self._key_of(value)}})
                    self.usage.items_deleted += 1
                    units[value[0]] += 1
                    self._count_index_writes(value, None)
            # The table's own units; index writes (counted above) land on the index's keys.
            self.usage.write_units += sum(units.values())
            if self.pacer is not None:
                for partition_key, key_units in units.items():
                    self.pacer.take(partition_key, key_units)
            for attempt in range(_UNPROCESSED_RETRIES):
                self.usage.requests += 1
                answer = self._client.batch_write_item(RequestItems={self.name: pending})
                pending = (answer.get("UnprocessedItems") or {}).get(self.name, [])
                if not pending:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise RuntimeError(
                    f"DynamoDB kept {len(pending)} writes to {self.name} unprocessed"
                )

    def put(self, item: Item) -> None:
        self.usage.requests += 1
        self.usage.items_written += 1
        self.usage.write_units += write_units(item)
        self._count_index_writes((item[self._pk], item[self._sk]), item)
        self._client.put_item(TableName=self.name, Item=self._to_dynamo(item))

    def put_if_free(self, item: Item, *, owner: str, now_epoch: int) -> None:
        self.usage.requests += 1
        with _condition_checked():
            self._client.put_item(
                TableName=self.name,
                Item=self._to_dynamo(item),
                ConditionExpression="attribute_not_exists(#pk) OR #owner = :owner OR #exp < :now",
                ExpressionAttributeNames={"#pk": self._pk, "#owner": "owner", "#exp": "expires_at"},
                ExpressionAttributeValues={":owner": {"S": owner}, ":now": {"N": str(now_epoch)}},
            )
        self.usage.items_written += 1
        self.usage.write_units += write_units(item)

    def delete(self, key: Key, *, only_if_owner: str | None = None) -> None:
        self.usage.requests += 1
        request: dict[str, Any] = {"TableName": self.name, "Key": self._key_of(key)}
        if only_if_owner is not None:
            request["ConditionExpression"] = "attribute_not_exists(#pk) OR #owner = :owner"
            request["ExpressionAttributeNames"] = {"#pk": self._pk, "#owner": "owner"}
            request["ExpressionAttributeValues"] = {":owner": {"S": only_if_owner}}
        with _condition_checked():
            self._client.delete_item(**request)
        self.usage.items_deleted += 1
        self.usage.write_units += 1
        self._count_index_writes(key, None)

    def put_expecting(self, item: Item, expected: dict[str, Any]) -> None:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        clauses: list[str] = []
        for index, (name, value) in enumerate(sorted(expected.items())):
            names[f"#e{index}"] = name
            if value is None:
                clauses.append(f"attribute_not_exists(#e{index})")
            else:
                values[f":e{index}"] = to_attribute(value)
                clauses.append(f"#e{index} = :e{index}")
        request: dict[str, Any] = {"TableName": self.name, "Item": self._to_dynamo(item)}
        if clauses:
            request["ConditionExpression"] = " AND ".join(clauses)
            request["ExpressionAttributeNames"] = names
            if values:
                request["ExpressionAttributeValues"] = values
        self.usage.requests += 1
        with _condition_checked():
            self._client.put_item(**request)
        self.usage.items_written += 1
        self.usage.write_units += write_units(item)
        self._count_index_writes((item[self._pk], item[self._sk]), item)

    def update(self, key: Key, attributes: Item) -> None:
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        values = {f":a{i}": to_attribute(value) for i, value in enumerate(attributes.values())}
        names["#pk"] = self._pk
        self.usage.requests += 1
        with _condition_checked():
            self._client.update_item(
                TableName=self.name,
                Key=self._key_of(key),
                UpdateExpression="SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(values))),
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        self.usage.items_written += 1
        self.usage.write_units += write_units(attributes)
