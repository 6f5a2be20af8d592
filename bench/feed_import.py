"""A 100,000-row MoSo extract through the file-feed path: rows per second and peak memory
(tracemalloc) of the import's parse + translate against `csv` parsing of the same bytes alone,
then the whole import through the engine on in-memory tables (its own CPU, no DynamoDB), a
re-exported snapshot of the same members (nothing to write), and what that means for one
Lambda invocation (15 minutes, 1,769 MB).

    python bench/feed_import.py [--rows 100000] [--version 3.x]

Figures are printed, never asserted. Ratios are against the `csv` baseline measured in the
same run, so they do not depend on the machine.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "clubsync"))

from clubsync.domain.settings import LocationSettings  # noqa: E402
from clubsync.providers.feed.importer import checked_file, translator_of  # noqa: E402
from clubsync.providers.feed.reader import rows  # noqa: E402
from clubsync.providers.feeds import club_feed, import_delivery  # noqa: E402
from clubsync.providers.moso.provider import moso_map  # noqa: E402
from clubsync.sandbox.moso import moso_extracts  # noqa: E402
from clubsync.store.entities import EntityRepository  # noqa: E402
from clubsync.store.items import MemoryItemTable  # noqa: E402
from clubsync.store.state import StateRepository  # noqa: E402

LAMBDA_SECONDS = 15 * 60
LAMBDA_MB = 1769
CLUB = "bench-club"


def measured(work: Callable[[], int]) -> tuple[int, float, float]:
    """(rows, seconds of CPU, peak MiB traced) of `work`: timed in one run and traced in
    another, since tracing every allocation slows Python code several times over."""
    started = time.process_time()
    count = work()
    seconds = time.process_time() - started
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return count, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--version", default="3.x", choices=["2.x", "2.5.x", "3.x"])
    args = parser.parse_args()
    locations = ["N", "S"]
    print(f"Generating a {args.rows:,}-row MoSo {args.version} members extract ...", flush=True)
    files = moso_extracts(
        args.version,
        club_id=CLUB,
        locations=locations,
        members_per_location=args.rows // len(locations),
        now_local=datetime(2026, 11, 20, 5, 0),
    )
    name, data = next((n, d) for n, d in files.items() if "ember" in n)
    feed_map = moso_map(args.version)  # type: ignore[arg-type]
    print(f"  {name}: {len(data) / 2**20:.1f} MiB")

    def csv_only() -> int:
        text = data.decode(feed_map.encoding)
        return sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1

    zone = LocationSettings(location_id="x", time_zone="America/New_York").zone

    def parse_and_translate() -> int:
        checked = checked_file(data, name, feed_map)
        translator = translator_of(checked, feed_map, zone, None)
        count = 0
        for row in rows(checked.text, feed_map, checked.summary):
            translator.member(row)
            count += 1
        return count

    base_rows, base_s, base_mb = measured(csv_only)
    feed_rows, feed_s, feed_mb = measured(parse_and_translate)
    print()
    print(f"{'':34}{'rows':>9}{'CPU s':>8}{'rows/s':>10}{'peak MiB':>10}")
    print(f"{'csv.reader of the same bytes':34}{base_rows:>9,}{base_s:>8.2f}"
          f"{base_rows / base_s:>10,.0f}{base_mb:>10.1f}")  # fmt: skip
    print(f"{'feed: check + parse + translate':34}{feed_rows:>9,}{feed_s:>8.2f}"
          f"{feed_rows / feed_s:>10,.0f}{feed_mb:>10.1f}")  # fmt: skip
    print(f"  ratio to csv: {feed_s / base_s:.1f}x the CPU, {feed_mb / base_mb:.1f}x the memory")

    entity_table = MemoryItemTable("entities")
    entities = EntityRepository(entity_table)
    state = StateRepository(MemoryItemTable("state"))
    for code in locations:
        state.put_location(
            LocationSettings(
                location_id=f"loc-{code.lower()}",
                provider="moso",
                account={"club_id": CLUB, "location_code": code, "extract_version": args.version},
                time_zone="America/New_York",
            )
        )
    club = club_feed(state.locations(), "moso", CLUB)

    def deliver(content: bytes) -> tuple[Any, float]:
        started = time.process_time()
        done = import_delivery(content, name, club, entities, state)
        return done, time.process_time() - started

    first, first_s = deliver(data)
    written = entity_table.usage.items_written
    counts = first.counts()
    print()
    print(f"Import through the engine (in-memory tables), {first.status.value}:")
    print(f"  {counts['fetched']:,} rows in {first_s:.1f} s CPU ({counts['fetched'] / first_s:,.0f}"
          f" rows/s), {counts['pages']} pages, created {counts['created']:,}, items written "
          f"{written:,}")  # fmt: skip
    header, *body = data.decode(feed_map.encoding).splitlines(keepends=True)
    random.Random(1).shuffle(body)
    reordered = (header + "".join(body)).encode(feed_map.encoding)
    entity_table.usage.reset()
    again, again_s = deliver(reordered)
    print(f"  the same members re-exported in another order: {again.status.value}, "
          f"unchanged {again.counts()['unchanged']:,}, items written "
          f"{entity_table.usage.items_written}, {again_s:.1f} s CPU")  # fmt: skip
    entity_table.usage.reset()
    repeat, _ = deliver(data)
    print(f"  the first file delivered again: {repeat.status.value}, items written "
          f"{entity_table.usage.items_written}")  # fmt: skip
    print()
    share = first_s / LAMBDA_SECONDS
    print(f"One Lambda ({LAMBDA_SECONDS // 60} min, {LAMBDA_MB} MB): the engine's own CPU for "
          f"{args.rows:,} rows is {share:.0%} of the time budget; parse + translate peak "
          f"{feed_mb:.0f} MiB of {LAMBDA_MB}. DynamoDB writes come on top (batch writes of 25; "
          "moso-server figures in bench/member_sync.py); past the pause margin the import "
          "checkpoints by file and page and continues in a new invocation.")  # fmt: skip


if __name__ == "__main__":
    main()
