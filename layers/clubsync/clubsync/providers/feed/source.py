"""One location's rows of a delivered file as an engine stream: pages of `PAGE_ROWS` rows, so
the engine checkpoints by file (the run's query names its content hash) and row (the page), and
a continuation starts at the page it stopped before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from clubsync.domain.billing import BillingMember
from clubsync.domain.employees import BillingEmployee
from clubsync.providers.base import RawRecord, SourcePage
from clubsync.providers.feed.mapping import KEY_FIELD, FeedMap
from clubsync.providers.feed.reader import ROW, FileSummary, rows
from clubsync.providers.feed.translate import RowTranslator

PAGE_ROWS = 500


@dataclass
class FeedRows:
    """The rows of one location in one checked file."""

    text: str
    feed_map: FeedMap
    summary: FileSummary
    location_code: str
    translator: RowTranslator
    page_rows: int = PAGE_ROWS
    provider: str = field(init=False)

    def __post_init__(self) -> None:
        self.provider = self.feed_map.provider

    @property
    def request_count(self) -> int:
        # Nothing is requested from billing: the file was delivered.
        return 0

    def pages(self, query: Any, start_page: int = 1) -> Iterator[SourcePage]:
        count = max(1, -(-self.summary.by_location[self.location_code] // self.page_rows))
        found = rows(self.text, self.feed_map, self.summary, self.location_code)
        skipped = islice(found, (start_page - 1) * self.page_rows, None)
        for number in range(start_page, count + 1):
            chunk = list(islice(skipped, self.page_rows))
            yield SourcePage(
                number=number, next_page=number + 1 if number < count else None, records=chunk
            )

    def record_id(self, record: RawRecord) -> str | None:
        key = record.get(KEY_FIELD[self.summary.file_map.kind])
        return key if isinstance(key, str) and key else None

    def content(self, record: RawRecord) -> bytes:
        # Without the row number: the same row elsewhere in a later file is unchanged.
        return json.dumps(
            {name: value for name, value in record.items() if name != ROW},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()


class FeedMemberSource(FeedRows):
    def translate(self, record: RawRecord) -> BillingMember:
        return self.translator.member(record)


class FeedEmployeeSource(FeedRows):
    def translate(self, record: RawRecord) -> BillingEmployee:
        return self.translator.employee(record)
