"""Member sync benchmark (issue 2): a large location from the billing sandbox into moto.

    python bench/member_sync.py                # 50,000 members in billing
    python bench/member_sync.py --quick        # 5,000 members, a fast check
    python bench/member_sync.py --json out.json --profile

moto and the billing sandbox run as child processes, so `time.process_time()` of this process
is the engine's own CPU (HTTP client, parsing, validation, mapping, hashing, merge, boto3
serialization). The baseline is `json.loads` of the very page bytes each sync received, timed
in the same run. Requests and write units are counted by the tables themselves and do not
depend on the machine. Nothing here asserts a timing: it prints (see bench/README.md).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from _util import (
    RecordingTransport,
    Servers,
    TableFigures,
    json_loads_seconds,
    library_commit,
    peak_rss_mb,
    raise_keyboard_interrupt,
    start_servers,
)

from clubsync.domain.runs import RunCounts, RunRecord
from clubsync.domain.settings import LocationSettings
from clubsync.domain.windows import MemberQuery
from clubsync.engine.scheduled import SyncDependencies, run_scheduled_sync
from clubsync.providers.abc.client import AbcClient, AbcClientConfig
from clubsync.providers.abc.members import AbcMemberSource
from clubsync.providers.base import MemberSource, SourcePage
from clubsync.runtime.local import (
    SANDBOX_CREDENTIALS,
    Repositories,
    create_tables,
    dynamo_repositories,
    dynamodb_client,
    use_fake_aws_credentials,
)

LOCATION = LocationSettings(
    location_id="bench-members",
    name="Benchmark Fitness",
    club_number="0451",
    time_zone="America/Chicago",
)
# The nightly full sync of a Friday; the sandbox clock and the sync clock are this instant.
SYNC_AT = datetime(2026, 11, 20, 21, 0, tzinfo=ZoneInfo(LOCATION.time_zone))
SEED = 7
PAGE_SIZE = AbcClientConfig().page_size  # the client default, 5000
TARGET_CPU_RATIO = 3.0
TARGET_PEAK_RSS_MB = 300.0


# -- recording what the sync received ---------------------------------------------------------


class RecordingMemberSource(AbcMemberSource):
    """The ABC member source, noting the size of every page it yields."""

    def __init__(self, client: AbcClient, settings: LocationSettings, sizes: list[int]) -> None:
        super().__init__(client, settings.zone)
        self.client = client
        self._sizes = sizes

    def pages(self, query: MemberQuery, start_page: int = 1) -> Iterator[SourcePage]:
        for page in super().pages(query, start_page):
            self._sizes.append(page.raw_bytes)
            yield page


@dataclass
class Capture:
    transport: RecordingTransport = field(default_factory=RecordingTransport)
    page_sizes: list[int] = field(default_factory=list)
    sources: list[RecordingMemberSource] = field(default_factory=list)

    def member_source(self, base_url: str) -> Any:
        # As `clubsync.runtime.local.sandbox_member_source`: no client-side rate limit,
        # short backoff.
        config = AbcClientConfig(
            base_url=base_url,
            min_request_interval_seconds=0,
            backoff_base_seconds=0.01,
            backoff_max_seconds=0.05,
        )

        def factory(settings: LocationSettings) -> MemberSource:
            client = AbcClient(
                settings.club_number, SANDBOX_CREDENTIALS, config, transport=self.transport
            )
            source = RecordingMemberSource(client, settings, self.page_sizes)
            self.sources.append(source)
            return source

        return factory

    def close(self) -> None:
        for source in self.sources:
            source.client.close()


# -- figures ----------------------------------------------------------------------------------


@dataclass
class SyncFigures:
    name: str
    status: str
    counts: dict[str, int]
    records: int
    pages: int
    payload_bytes: int
    wall_s: float
    records_per_s: float
    engine_cpu_s: float
    engine_cpu_us_per_record: float
    abc_requests_client: int
    abc_requests_sandbox: int
    entities: TableFigures
    state: TableFigures
    moto_cpu_s: float
    sandbox_cpu_s: float
    peak_rss_mb_after: float
    json_loads_s: float = 0.0
    json_loads_us_per_record: float = 0.0
    cpu_ratio: float = 0.0
    naive_s: float = 0.0
    naive_ratio: float = 0.0


def run_sync(
    name: str,
    repos: Repositories,
    servers: Servers,
    capture: Capture,
    profiler: cProfile.Profile | None = None,
) -> tuple[RunRecord, SyncFigures]:
    entities_usage, state_usage = repos.entities.table.usage, repos.state.table.usage
    entities_usage.reset()
    state_usage.reset()
    started = time.perf_counter()

    def on_page(counts: RunCounts) -> None:
        elapsed = time.perf_counter() - started
        print(f"    page {counts.pages}: {counts.fetched} records, {elapsed:.1f}s", flush=True)

    deps = SyncDependencies(
        entities=repos.entities,
        state=repos.state,
        member_source=capture.member_source(servers.sandbox_url),
        clock=lambda: SYNC_AT.astimezone(UTC),
        on_page=on_page,
    )
    event = {
        "location": LOCATION.location_id,
        "kind": "full",
        "scheduled_time": SYNC_AT.isoformat(),
    }
    sandbox_requests = servers.sandbox_request_count()
    moto_cpu, sandbox_cpu = servers.moto.cpu_seconds(), servers.sandbox.cpu_seconds()
    gc.collect()
    print(f"  {name}: full sync at {SYNC_AT:%Y-%m-%d %H:%M %Z}", flush=True)
    started = time.perf_counter()
    cpu_started = time.process_time()
    if profiler is not None:
        profiler.enable()
    try:
        run = run_scheduled_sync(event, deps)
    finally:
        if profiler is not None:
            profiler.disable()
    engine_cpu = time.process_time() - cpu_started
    wall = time.perf_counter() - started
    moto_cpu = servers.moto.cpu_seconds() - moto_cpu
    sandbox_cpu = servers.sandbox.cpu_seconds() - sandbox_cpu
    sandbox_requests = servers.sandbox_request_count() - sandbox_requests
    capture.close()

    records = run.counts.fetched
    per = max(records, 1)
    figures = SyncFigures(
        name=name,
        status=run.status.value,
        counts=run.counts.model_dump(),
        records=records,
        pages=run.counts.pages,
        payload_bytes=sum(capture.page_sizes),
        wall_s=wall,
        records_per_s=records / wall if wall else 0.0,
        engine_cpu_s=engine_cpu,
        engine_cpu_us_per_record=engine_cpu / per * 1e6,
        abc_requests_client=run.billing_requests,
        abc_requests_sandbox=sandbox_requests,
        entities=TableFigures.of(entities_usage, records),
        state=TableFigures.of(state_usage, records),
        moto_cpu_s=moto_cpu,
        sandbox_cpu_s=sandbox_cpu,
        peak_rss_mb_after=peak_rss_mb(),
    )
    counts = ", ".join(f"{key} {value}" for key, value in figures.counts.items() if value)
    print(
        f"  {name}: {run.status.value}; {counts}; {wall:.1f}s wall, "
        f"{engine_cpu:.2f}s engine CPU, {figures.records_per_s:,.0f} records/s",
        flush=True,
    )
    return run, figures


def json_loads_baseline(figures: SyncFigures, capture: Capture, repeats: int) -> None:
    """Fetches the pages the sync received once more, checks they are the same size, and times
    `json.loads` over each (best of `repeats`); fills the baseline figures in."""
    if len(capture.transport.urls) != len(capture.page_sizes):
        raise RuntimeError(
            f"{figures.name}: {len(capture.transport.urls)} requests for "
            f"{len(capture.page_sizes)} pages (retries?); the baseline would not match"
        )
    total = json_loads_seconds(capture.transport.urls, capture.page_sizes, repeats)
    figures.json_loads_s = total
    figures.json_loads_us_per_record = total / max(figures.records, 1) * 1e6
    figures.cpu_ratio = figures.engine_cpu_s / total if total else float("inf")
    naive = naive_rewrite_seconds(capture.transport.urls, capture.page_sizes)
    figures.naive_s = naive
    figures.naive_ratio = figures.engine_cpu_s / naive if naive else float("inf")


def naive_rewrite_seconds(urls: list[str], sizes: list[int]) -> float:
    """The naive script issue 15 measures against, over the same page bytes: parse each page,
    validate every member with the ABC wire model, and build the DynamoDB put of every record
    as it came (no hashes, no matching, nothing skipped). CPU seconds, summed over pages."""
    from clubsync.providers.abc.members import MEMBERS_LIST_KEY
    from clubsync.providers.abc.wire import AbcMember
    from clubsync.runtime.local import SANDBOX_CREDENTIALS
    from clubsync.store.items import to_attribute

    headers = {
        "app_id": SANDBOX_CREDENTIALS.app_id.get_secret_value(),
        "app_key": SANDBOX_CREDENTIALS.app_key.get_secret_value(),
        "Accept": "application/json;charset=UTF-8",
    }
    total = 0.0
    with httpx.Client(headers=headers, timeout=60) as http:
        for url, size in zip(urls, sizes, strict=True):
            body = http.get(url).content
            if len(body) != size:
                raise RuntimeError(f"{url}: {len(body)} bytes now, {size} during the sync")
            began = time.process_time()
            for record in json.loads(body).get(MEMBERS_LIST_KEY) or []:
                member = AbcMember.model_validate(record)
                to_attribute(member.model_dump(mode="json", exclude_none=True))
            total += time.process_time() - began
    return total


def print_profile(name: str, profiler: cProfile.Profile, top: int, out_dir: Path | None) -> None:
    by_package: dict[str, float] = {}
    raw = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _, _), (_, _, tottime, _, callers) in raw.items():
        if filename != "~":
            by_package[_package(filename)] = by_package.get(_package(filename), 0.0) + tottime
            continue
        # C functions (dict.get, isinstance, ...) count for the package that called them.
        for (caller_file, _, _), (_, _, caller_tottime, _) in callers.items():
            package = _package(caller_file)
            by_package[package] = by_package.get(package, 0.0) + caller_tottime
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    print(f"\n=== cProfile, {name}: top {top} by tottime, CPU time (profiling inflates it) ===")
    print(stream.getvalue().strip())
    print(f"\n--- {name}: CPU (tottime) by package; C builtins count for their caller ---")
    total = sum(by_package.values()) or 1.0
    for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {package:<28} {seconds:8.2f}s  {seconds / total:6.1%}")
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"member_sync-{name.replace(' ', '-')}.prof"
        profiler.dump_stats(str(path))
        print(f"(saved to {path}; open with `python -m pstats {path}`)")


def _package(filename: str) -> str:
    """Which package a profiled function belongs to (for the CPU-by-package summary)."""
    if filename == "~" or filename.startswith("<"):
        return "(top level)"
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    if "clubsync" in parts:
        index = len(parts) - 1 - parts[::-1].index("clubsync")
        return "clubsync." + "/".join(parts[index + 1 : -1] or ("",)).replace("/", ".")
    if "bench" in parts:
        return "bench"
    for index, part in enumerate(parts[:-1]):
        if part.startswith("python3"):
            return "stdlib " + Path(parts[index + 1]).stem
    return Path(filename).stem


# -- output -----------------------------------------------------------------------------------


def summary_table(first: SyncFigures, again: SyncFigures, rss: dict[str, float]) -> str:
    rows: list[tuple[str, str, str, str]] = []

    def row(label: str, a: str, b: str, target: str = "") -> None:
        rows.append((label, a, b, target))

    def n(value: float) -> str:
        return f"{value:,.0f}"

    def f(value: float, digits: int = 2) -> str:
        return f"{value:,.{digits}f}"

    row("records fetched", n(first.records), n(again.records))
    row("pages", n(first.pages), n(again.pages))
    row("payload MB", f(first.payload_bytes / 1e6, 1), f(again.payload_bytes / 1e6, 1))
    row(
        "created / updated",
        f"{first.counts['created']} / {first.counts['updated']}",
        f"{again.counts['created']} / {again.counts['updated']}",
    )
    row("unchanged", n(first.counts["unchanged"]), n(again.counts["unchanged"]))
    row("wall s", f(first.wall_s, 1), f(again.wall_s, 1))
    row("records/s (wall)", n(first.records_per_s), n(again.records_per_s))
    row("engine CPU s", f(first.engine_cpu_s), f(again.engine_cpu_s))
    row(
        "engine CPU us/record",
        f(first.engine_cpu_us_per_record, 1),
        f(again.engine_cpu_us_per_record, 1),
    )
    row(
        "json.loads us/record",
        f(first.json_loads_us_per_record, 1),
        f(again.json_loads_us_per_record, 1),
    )
    row(
        "engine / json.loads",
        f(first.cpu_ratio, 1),
        f(again.cpu_ratio, 1),
        f"<= {TARGET_CPU_RATIO:g}",
    )
    row("naive validate-and-rewrite CPU s", f(first.naive_s), f(again.naive_s))
    row("engine / naive", f(first.naive_ratio, 2), f(again.naive_ratio, 2))
    row("moto CPU s (child)", f(first.moto_cpu_s, 1), f(again.moto_cpu_s, 1))
    row("sandbox CPU s (child)", f(first.sandbox_cpu_s, 1), f(again.sandbox_cpu_s, 1))
    row("ABC requests (client)", n(first.abc_requests_client), n(again.abc_requests_client))
    row("ABC requests (sandbox)", n(first.abc_requests_sandbox), n(again.abc_requests_sandbox))
    for label, a, b in (
        ("entities", first.entities, again.entities),
        ("state", first.state, again.state),
    ):
        row(f"{label}: requests", n(a.requests), n(b.requests))
        row(f"{label}: requests/record", f(a.requests_per_record, 4), f(b.requests_per_record, 4))
        row(
            f"{label}: items written",
            n(a.items_written),
            n(b.items_written),
            "0 on re-sync" if label == "entities" else "",
        )
        row(f"{label}: write units", n(a.write_units), n(b.write_units))
        row(
            f"{label}: write units/record",
            f(a.write_units_per_record, 4),
            f(b.write_units_per_record, 4),
        )
        row(f"{label}: read units", f(a.read_units, 1), f(b.read_units, 1))
        row(f"{label}: items read", n(a.items_read), n(b.items_read))
    row(
        "peak RSS MB after sync",
        f(first.peak_rss_mb_after, 1),
        f(again.peak_rss_mb_after, 1),
        f"<= {TARGET_PEAK_RSS_MB:g}",
    )

    header = ("figure", "first sync", "re-sync", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]

    def line(cells: tuple[str, str, str, str]) -> str:
        label, a, b, target = cells
        return (
            f"{label:<{widths[0]}}  {a:>{widths[1]}}  {b:>{widths[2]}}  {target:<{widths[3]}}"
        ).rstrip()

    lines = [line(header)]
    lines.append("-" * len(lines[0]))
    lines.extend(line(cells) for cells in rows)
    lines.append("-" * len(lines[0]))
    lines.append(
        f"peak RSS of the benchmark process: {rss['before_syncs']:.1f} MB before the syncs, "
        f"{rss['after_first']:.1f} after the first, {rss['after_resync']:.1f} after the re-sync, "
        f"{rss['at_end']:.1f} at the end (after the baseline fetches)"
    )
    return "\n".join(lines)


# -- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50_000, help="members in billing")
    parser.add_argument("--quick", action="store_true", help="5,000 members, a fast check")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures as JSON")
    parser.add_argument(
        "--repeats", type=int, default=10, help="json.loads repeats per page (best is kept)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, run both syncs again on fresh tables under cProfile and print the "
        "top functions by tottime (the measured figures are not profiled)",
    )
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument("--profile-dir", type=Path, help="also save the .prof files here")
    args = parser.parse_args(argv)
    if args.quick:
        args.members = 5_000
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
    use_fake_aws_credentials()
    print(
        f"member sync benchmark: {args.members:,} members in billing, page size {PAGE_SIZE}, "
        f"sync at {SYNC_AT:%Y-%m-%d %H:%M} {LOCATION.time_zone}; "
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"library at {library_commit()}",
        flush=True,
    )
    print("starting moto and the billing sandbox (generating members)...", flush=True)
    setup_started = time.perf_counter()
    try:
        servers = start_servers(
            club=LOCATION.club_number,
            zone=LOCATION.time_zone,
            members=args.members,
            seed=SEED,
            now=SYNC_AT,
        )
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    try:
        print(
            f"  ready in {time.perf_counter() - setup_started:.1f}s: moto {servers.moto_endpoint}"
            f" (pid {servers.moto.pid}), sandbox {servers.sandbox_url} (pid {servers.sandbox.pid})",
            flush=True,
        )
        client = dynamodb_client(servers.moto_endpoint)
        create_tables(client)
        repos = dynamo_repositories(client)
        repos.state.put_location(LOCATION)
        rss = {"before_syncs": peak_rss_mb()}

        first_capture, again_capture = Capture(), Capture()
        _, first = run_sync("first sync", repos, servers, first_capture)
        rss["after_first"] = peak_rss_mb()
        _, again = run_sync("re-sync", repos, servers, again_capture)
        rss["after_resync"] = peak_rss_mb()

        print(f"json.loads baseline over the same page bytes (best of {args.repeats})...")
        json_loads_baseline(first, first_capture, args.repeats)
        json_loads_baseline(again, again_capture, args.repeats)
        rss["at_end"] = peak_rss_mb()

        print()
        print(
            f"Member sync, {args.members:,} members in billing (club {LOCATION.club_number}, "
            f"{LOCATION.time_zone}); the unchanged re-sync repeats the same full sync."
        )
        print(summary_table(first, again, rss))

        if args.json is not None:
            report = {
                "benchmark": "member_sync",
                "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "members_in_billing": args.members,
                "page_size": PAGE_SIZE,
                "sync_at": SYNC_AT.isoformat(),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "library_commit": library_commit(),
                "targets": {
                    "cpu_ratio_max": TARGET_CPU_RATIO,
                    "resync_entity_items_written": 0,
                    "peak_rss_mb_max": TARGET_PEAK_RSS_MB,
                },
                "first_sync": asdict(first),
                "resync": asdict(again),
                "peak_rss_mb": rss,
            }
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report, indent=2) + "\n")
            print(f"figures written to {args.json}")

        if args.profile:
            print("\nprofiling: the same two syncs on fresh tables (prefix 'profile-')...")
            create_tables(client, prefix="profile-")
            profiled = dynamo_repositories(client, prefix="profile-")
            profiled.state.put_location(LOCATION)
            for name in ("first sync", "re-sync"):
                # CPU time, not wall time: waiting for moto is not the engine's cost.
                profiler = cProfile.Profile(time.process_time)
                run_sync(f"profiled {name}", profiled, servers, Capture(), profiler)
                print_profile(name, profiler, args.profile_top, args.profile_dir)
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
