"""Reading a delivered file against its map: which kind of file it is, whether it can be
imported at all (`check_file`), and its rows as raw records (`rows`).

A file that does not match its map imports nothing: a wrong encoding, a header that is not the
map's (a renamed column shows as one missing and one unexpected), a truncated last row, two rows
with the same key. Those raise `FeedFileError` with one line. A row that is only itself wrong (a
bad date, a value the map does not know, a missing name) is quarantined later, by the engine,
with its reason (translate.py). A row with the wrong number of fields is a broken file, not a
bad row: its cells cannot be told apart, nor even its location.
"""

from __future__ import annotations

import csv
import fnmatch
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from clubsync.providers.feed.mapping import KEY_FIELD, FeedMap, FileMap

# Raw records carry their row number (1 is the header) under this key; it is left out of
# their content, so the same member on another row of a later file is unchanged.
ROW = "_row"
# Errors name at most this many rows.
SHOWN = 3


class FeedFileError(ValueError):
    """The delivered file cannot be imported with its map; nothing of it was imported."""


def kind_of(file_name: str, feed_map: FeedMap) -> FileMap:
    base = file_name.rsplit("/", 1)[-1].lower()
    for file_map in feed_map.files.values():
        if fnmatch.fnmatch(base, file_map.match.lower()):
            return file_map
    expected = ", ".join(f"{m.kind.value}: {m.match}" for m in feed_map.files.values())
    raise FeedFileError(f"{base}: no file of map {feed_map.label} has this name ({expected})")


def decode(data: bytes, feed_map: FeedMap, file_name: str) -> str:
    encoding = (
        "utf-8-sig"
        if feed_map.encoding.replace("_", "-").lower() in ("utf-8", "utf8")
        else feed_map.encoding
    )
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise FeedFileError(
            f"{file_name}: not {feed_map.encoding} text (byte {error.start} cannot be read): "
            f"export it as {feed_map.encoding}, or set `encoding` in map {feed_map.label}"
        ) from None


@dataclass
class FileSummary:
    """What `check_file` found: the header's positions and how many rows each location has."""

    file_map: FileMap
    header: list[str]
    rows: int = 0
    by_location: Counter[str] = field(default_factory=Counter)


def _reader(text: str, feed_map: FeedMap) -> Any:
    return csv.reader(io.StringIO(text, newline=""), delimiter=feed_map.delimiter, strict=True)


def check_file(text: str, feed_map: FeedMap, file_map: FileMap, file_name: str) -> FileSummary:
    """Raises FeedFileError when the file cannot be imported with its map."""
    reader = _reader(text, feed_map)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise FeedFileError(f"{file_name}: empty file, no header row")
        header = [cell.strip() for cell in header]
        _check_header(header, feed_map, file_map, file_name)
        key_at = header.index(file_map.columns[KEY_FIELD[file_map.kind]])
        location_at = header.index(file_map.columns["location"])
        summary = FileSummary(file_map, header)
        first_row_of: dict[str, int] = {}
        duplicates: list[str] = []
        misshapen: list[str] = []
        last: list[str] = []
        for cells in reader:
            if not cells:
                continue
            summary.rows += 1
            last = cells
            if len(cells) != len(header):
                misshapen.append(f"line {reader.line_num} has {len(cells)}")
                continue
            key = cells[key_at].strip()
            number = reader.line_num
            if key and key in first_row_of:
                duplicates.append(f"line {number} repeats line {first_row_of[key]}")
            elif key:
                first_row_of[key] = number
            summary.by_location[cells[location_at].strip()] += 1
    except csv.Error as error:
        raise FeedFileError(
            f"{file_name}: truncated or malformed at line {reader.line_num}: {error}"
        ) from None
    if last and len(last) < len(header) and not text.endswith(("\n", "\r")):
        raise FeedFileError(
            f"{file_name}: truncated: the last row (line {reader.line_num}) has {len(last)} of "
            f"{len(header)} fields and no line end; deliver the whole file again"
        )
    if misshapen:
        raise FeedFileError(
            f"{file_name}: {len(misshapen)} row(s) without the header's {len(header)} fields: "
            + "; ".join(misshapen[:SHOWN])
            + (f" (and {len(misshapen) - SHOWN} more)" if len(misshapen) > SHOWN else "")
        )
    if duplicates:
        shown = "; ".join(duplicates[:SHOWN])
        more = f" (and {len(duplicates) - SHOWN} more)" if len(duplicates) > SHOWN else ""
        raise FeedFileError(
            f"{file_name}: {len(duplicates)} duplicate {KEY_FIELD[file_map.kind]} row(s): "
            f"{shown}{more}; one row per key is expected"
        )
    return summary


def _check_header(header: list[str], feed_map: FeedMap, file_map: FileMap, file_name: str) -> None:
    repeated = sorted({h for h in header if header.count(h) > 1})
    missing = [h for h in file_map.columns.values() if h not in header]
    unexpected = [h for h in header if h not in file_map.headers]
    if not (repeated or missing or unexpected):
        return
    problems = []
    if missing:
        problems.append("missing " + ", ".join(repr(h) for h in missing))
    if unexpected:
        problems.append("not in the map " + ", ".join(repr(h) for h in unexpected))
    if repeated:
        problems.append("repeated " + ", ".join(repr(h) for h in repeated))
    hint = " (a renamed column?)" if missing and unexpected else ""
    raise FeedFileError(
        f"{file_name}: header does not match map {feed_map.label} "
        f"{file_map.kind.value}: {'; '.join(problems)}{hint}"
    )


def rows(
    text: str, feed_map: FeedMap, summary: FileSummary, location_code: str | None = None
) -> Iterator[dict[str, Any]]:
    """The file's rows as raw records (canonical field -> the cell's text, stripped), only those
    of `location_code` when given. Only for a file `check_file` accepted."""
    file_map = summary.file_map
    positions = [(name, summary.header.index(column)) for name, column in file_map.columns.items()]
    location_at = summary.header.index(file_map.columns["location"])
    reader = _reader(text, feed_map)
    next(reader)
    for cells in reader:
        if not cells:
            continue
        if location_code is not None and cells[location_at].strip() != location_code:
            continue
        record: dict[str, Any] = {name: cells[at].strip() for name, at in positions}
        record[ROW] = reader.line_num
        yield record
