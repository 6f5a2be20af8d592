"""ABC resources other than members as `RecordSource`s: one generic reader, configured per
resource by its path, list key, id field, range parameters and mapping (the per-resource
modules next to it). A provider-neutral `Window` becomes ABC's `...TimestampRange` parameter
of the window's sweep, written in the club's local time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from clubsync.domain.windows import Sweep, Window
from clubsync.providers.abc.client import AbcClient, AbcError, abc_range
from clubsync.providers.abc.members import describe_validation_error
from clubsync.providers.base import InvalidRecord, RawRecord, SourceError, SourcePage


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
        range_params: Mapping[Sweep, str] | None = None,
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
        # Which ABC range parameter bounds each sweep this resource can be read by.
        self._ranges = dict(range_params or {})
        self._requests_without_client = 0

    @property
    def request_count(self) -> int:
        return self._client.request_count if self._client is not None else 0

    def params(self, window: Window) -> dict[str, str]:
        """ABC's request parameters for a window: the range parameter of its sweep, in the
        club's local time (ABC reads and writes wall-clock times of the club)."""
        params = dict(self._fixed)
        if window.bounded:
            range_param = self._ranges.get(window.sweep)
            if range_param is None:
                # Reading everything instead would silently widen the sync: refuse it.
                raise SourceError(f"ABC {self.path} cannot be read by {window.sweep.value} time")
            params[range_param] = abc_range(window.start, window.end, window.zoneinfo)
        return params

    def pages(self, query: Window, start_page: int = 1) -> Iterator[SourcePage]:
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
