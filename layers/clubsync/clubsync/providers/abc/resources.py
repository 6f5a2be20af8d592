"""ABC resources other than members as `RecordSource`s: one generic reader, configured per
resource by its path, list key, id field and mapping (the per-resource modules next to it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from clubsync.providers.abc.client import AbcClient, AbcError, abc_range
from clubsync.providers.abc.members import describe_validation_error
from clubsync.providers.base import InvalidRecord, RangeQuery, RawRecord, SourceError, SourcePage


class AbcResourceSource:
    """Reads one ABC resource page by page and translates its records."""

    provider = "abc"

    def __init__(
        self,
        client: AbcClient | None,
        zone: ZoneInfo,
        *,
        path: str,
        list_key: str,
        id_field: str,
        wire: type[BaseModel],
        mapping: Callable[[Any], Any],
        volatile_fields: tuple[str, ...] = (),
        fixed_params: dict[str, str] | None = None,
    ) -> None:
        self._client = client
        self.zone = zone
        self.path = path
        self.list_key = list_key
        self._id_field = id_field
        self._wire = wire
        self._mapping = mapping
        self._volatile = volatile_fields
        self._fixed = fixed_params or {}
        self._requests_without_client = 0

    @property
    def request_count(self) -> int:
        return self._client.request_count if self._client is not None else 0

    def params(self, query: RangeQuery) -> dict[str, str]:
        params = dict(self._fixed)
        if query.range_param and (query.start is not None or query.end is not None):
            params[query.range_param] = abc_range(query.start, query.end, self.zone)
        return params

    def pages(self, query: RangeQuery, start_page: int = 1) -> Iterator[SourcePage]:
        if self._client is None:
            raise SourceError("no billing client")
        try:
            for page in self._client.iter_pages(
                self.path, self.list_key, self.params(query), start_page=start_page
            ):
                yield SourcePage(
                    number=page.page,
                    next_page=page.next_page,
                    records=page.records,
                    raw_bytes=page.raw_bytes,
                )
        except AbcError as error:
            raise SourceError(str(error)) from error

    def record_id(self, record: RawRecord) -> str | None:
        value = record.get(self._id_field)
        return value.strip() or None if isinstance(value, str) else None

    def content(self, record: RawRecord) -> bytes:
        kept = {k: v for k, v in record.items() if k not in self._volatile}
        return json.dumps(kept, separators=(",", ":"), sort_keys=True).encode()

    def translate(self, record: RawRecord) -> Any:
        try:
            wire = self._wire.model_validate(record)
        except ValidationError as error:
            raise InvalidRecord(describe_validation_error(error)) from error
        return self._mapping(wire)
