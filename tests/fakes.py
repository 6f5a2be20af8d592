"""In-memory stand-ins for billing, for unit tests that must open no sockets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from clubsync.domain.billing import BillingMember
from clubsync.domain.windows import ActiveStatus, MemberQuery
from clubsync.providers.abc.members import AbcMemberSource
from clubsync.providers.base import RawRecord, SourceError, SourcePage


class ListMemberSource:
    """Serves ABC-shaped records from a list, filtered like ABC and cut into pages."""

    provider = "abc"

    def __init__(
        self,
        records: list[dict[str, Any]],
        zone: ZoneInfo,
        *,
        page_size: int = 2,
        page_order: Callable[[list[SourcePage]], list[SourcePage]] | None = None,
    ) -> None:
        self.records = records
        self.zone = zone
        self.page_size = page_size
        self.page_order = page_order
        self.fail_with: str | None = None
        self.requests = 0
        self._translator = AbcMemberSource(client=None, zone=zone)  # type: ignore[arg-type]

    @property
    def request_count(self) -> int:
        return self.requests

    def _matches(self, record: dict[str, Any], query: MemberQuery) -> bool:
        personal = record.get("personal", {})
        active = str(personal.get("isActive", "")).lower() == "true"
        if query.active_status is ActiveStatus.ACTIVE and not active:
            return False
        if query.active_status is ActiveStatus.INACTIVE and active:
            return False
        if query.modified_since is not None:
            stamp = personal.get("lastModifiedTimestamp")
            if not stamp:
                return False
            local = datetime.fromisoformat(stamp).replace(tzinfo=self.zone)
            return local >= query.modified_since
        return True

    def pages(self, query: MemberQuery, start_page: int = 1) -> Iterator[SourcePage]:
        if self.fail_with:
            self.requests += 1
            raise SourceError(self.fail_with)
        matching = [r for r in self.records if self._matches(r, query)]
        chunks = [matching[i : i + self.page_size] for i in range(0, len(matching), self.page_size)]
        pages = [
            SourcePage(number=n, next_page=n + 1 if n < len(chunks) else None, records=chunk)
            for n, chunk in enumerate(chunks or [[]], start=1)
        ]
        if self.page_order is not None:
            pages = self.page_order(pages)
        for page in pages:
            if page.number >= start_page:
                self.requests += 1
                yield page

    def record_id(self, record: RawRecord) -> str | None:
        return self._translator.record_id(record)

    def content(self, record: RawRecord) -> bytes:
        return self._translator.content(record)

    def translate(self, record: RawRecord) -> BillingMember:
        return self._translator.translate(record)


class ListRecordSource:
    """Serves ABC-shaped records of any other resource from a list, through the real ABC
    translation; `records` can be changed between runs, `fail_with` fails every request."""

    provider = "abc"

    def __init__(self, translator: Any, records: list[dict[str, Any]], *, page_size: int = 2):
        self.translator = translator
        self.records = records
        self.page_size = page_size
        self.fail_with: str | None = None
        self.requests = 0
        self.queries: list[Any] = []

    @property
    def request_count(self) -> int:
        return self.requests

    def pages(self, query: Any, start_page: int = 1) -> Iterator[SourcePage]:
        self.queries.append(query)
        if self.fail_with:
            self.requests += 1
            raise SourceError(self.fail_with)
        chunks = [
            self.records[i : i + self.page_size]
            for i in range(0, len(self.records), self.page_size)
        ] or [[]]
        for number, chunk in enumerate(chunks, start=1):
            if number >= start_page:
                self.requests += 1
                following = number + 1 if number < len(chunks) else None
                yield SourcePage(number=number, next_page=following, records=chunk)

    def record_id(self, record: RawRecord) -> str | None:
        return self.translator.record_id(record)  # type: ignore[no-any-return]

    def content(self, record: RawRecord) -> bytes:
        return self.translator.content(record)  # type: ignore[no-any-return]

    def translate(self, record: RawRecord) -> Any:
        return self.translator.translate(record)
