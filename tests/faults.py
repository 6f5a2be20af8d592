"""Crashes injected at any DynamoDB request, for the tests that prove a crash loses nothing.

`FaultyTable` wraps a `MemoryItemTable` and behaves like DynamoDB request by request: a batch
write of more than 25 items is several requests, each applied whole or not at all, in order.
Arm it with `crash_at(n)` and the n-th request from then on raises instead of running (a batch
write may first apply some of its items, as DynamoDB does when it returns the rest as
unprocessed and the process dies before the retry):
- `StoreError`, an `Exception` like a DynamoDB error past its retries: the code above sees it
  and may record a failed run;
- `Killed`, a `BaseException`: the process is gone (kill -9, Lambda's timeout); nothing after
  the crash runs, no failed run is recorded, the lease is left to expire.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from clubsync.store.items import (
    BATCH_GET_LIMIT,
    BATCH_WRITE_LIMIT,
    Item,
    Key,
    MemoryItemTable,
    TableUsage,
)
from clubsync.store.tables import GlobalIndexSpec


class StoreError(Exception):
    """DynamoDB failed a request after the SDK's own retries."""


class Killed(BaseException):
    """The process died: nothing after this point runs."""


class FaultyTable:
    def __init__(self, inner: MemoryItemTable) -> None:
        self.inner = inner
        self.name = inner.name
        self.requests = 0
        self._crash_at: int | None = None
        self._crash: type[BaseException] = StoreError
        self._applied_before_crash = 0

    @property
    def usage(self) -> TableUsage:
        return self.inner.usage

    def crash_at(
        self, request: int | None, kind: type[BaseException] = StoreError, applied: int = 0
    ) -> None:
        """The `request`-th request from now fails (None: none does); a batch write failing
        applies its first `applied` items before it fails."""
        self._crash_at = None if request is None else self.requests + request
        self._crash = kind
        self._applied_before_crash = applied

    def _crashing(self) -> bool:
        self.requests += 1
        if self._crash_at is not None and self.requests >= self._crash_at:
            self._crash_at = None
            return True
        return False

    def _request(self) -> None:
        if self._crashing():
            raise self._crash(f"injected crash at request {self.requests}")

    # -- ItemTable ----------------------------------------------------------------------------
    def get(self, key: Key) -> Item | None:
        self._request()
        return self.inner.get(key)

    def query(
        self, pk: str, sk_prefix: str = "", projection: Sequence[str] | None = None
    ) -> Iterator[Item]:
        self._request()
        return iter(list(self.inner.query(pk, sk_prefix, projection)))

    def query_between(
        self, pk: str, low: str, high: str, projection: Sequence[str] | None = None
    ) -> Iterator[Item]:
        self._request()
        return iter(list(self.inner.query_between(pk, low, high, projection)))

    def query_last(self, pk: str, sk_prefix: str, limit: int) -> list[Item]:
        self._request()
        return self.inner.query_last(pk, sk_prefix, limit)

    def query_index(self, index: GlobalIndexSpec, pk: str) -> Iterator[Item]:
        self._request()
        return iter(list(self.inner.query_index(index, pk)))

    def batch_get(self, keys: Sequence[Key]) -> list[Item]:
        found: list[Item] = []
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            self._request()
            found.extend(self.inner.batch_get(unique[start : start + BATCH_GET_LIMIT]))
        return found

    def batch_write(self, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> None:
        requests: list[tuple[str, Any]] = [("put", item) for item in puts]
        requests += [("delete", key) for key in deletes]
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            chunk = requests[start : start + BATCH_WRITE_LIMIT]
            crashing = self._crashing()
            if crashing:
                chunk = chunk[: self._applied_before_crash]
            self.inner.batch_write(
                [value for verb, value in chunk if verb == "put"],
                [value for verb, value in chunk if verb == "delete"],
            )
            if crashing:
                raise self._crash(f"injected crash at request {self.requests}")

    def put(self, item: Item) -> None:
        self._request()
        self.inner.put(item)

    def put_if_free(self, item: Item, *, owner: str, now_epoch: int) -> None:
        self._request()
        self.inner.put_if_free(item, owner=owner, now_epoch=now_epoch)

    def delete(self, key: Key, *, only_if_owner: str | None = None) -> None:
        self._request()
        self.inner.delete(key, only_if_owner=only_if_owner)

    def put_expecting(self, item: Item, expected: dict[str, Any]) -> None:
        self._request()
        self.inner.put_expecting(item, expected)

    def update(self, key: Key, attributes: Item) -> None:
        self._request()
        self.inner.update(key, attributes)

    def all_items(self) -> list[Item]:
        return self.inner.all_items()
