"""Writing extract files from a map, for tests: canonical fields in, the map's headers and
formats out (the sandbox has its own writer: it must not import the code it fakes)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from clubsync.providers.feed.mapping import FeedMap, FileKind


def extract(
    feed_map: FeedMap,
    kind: FileKind,
    rows: Sequence[dict[str, Any]],
    *,
    ignored: dict[str, str] | None = None,
) -> bytes:
    """A file of `rows` (canonical field -> cell text; fields the map has no column for are
    left out), with the map's ignored columns filled from `ignored`."""
    file_map = feed_map.files[kind]
    header = [*file_map.columns.values(), *file_map.ignore_columns]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=feed_map.delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        cells = [str(row.get(name, "")) for name in file_map.columns]
        cells += [(ignored or {}).get(column, "") for column in file_map.ignore_columns]
        writer.writerow(cells)
    return out.getvalue().encode(feed_map.encoding)


def member_row(
    feed_map: FeedMap, number: int, location: str, *, last_name: str = "Member", **fields: Any
) -> dict[str, Any]:
    """A member row in the map's own values and date format (the first of each)."""
    values = feed_map.values
    member = next(k for k, v in values.membership_type.items() if v == "member")
    active = next(k for k, v in values.member_status.items() if v == "active")
    agreement_active = next(k for k, v in values.agreement_status.items() if v == "active")
    date_format = feed_map.date_formats[0]
    from datetime import date

    row: dict[str, Any] = {
        "member_id": f"M{number}",
        "location": location,
        "first_name": f"Person{number}",
        "last_name": last_name,
        "email": f"p{number}@example.org",
        "mobile_phone": f"555{number:07d}",
        "membership_type": member,
        "member_status": active,
        "agreement_number": f"A{number}",
        "agreement_name": "Monthly",
        "agreement_status": agreement_active,
        "sign_date": date(2026, 1, 1 + number % 28).strftime(date_format),
        "join_date": date(2026, 1, 1 + number % 28).strftime(date_format),
        "recurring_payment": "29.99",
    }
    row.update(fields)
    return row
