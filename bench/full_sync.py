"""Full sync benchmark (issue 5): the nightly full sync of one location, every sync type, from
the billing sandbox into moto; then the same full sync again with nothing changed.

    python bench/full_sync.py                  # 20,000 members, 200 employees, 60 days of check-ins
    python bench/full_sync.py --quick          # 2,000 members, 40 employees, 6 days of check-ins
    python bench/full_sync.py --json out.json

Billing holds, besides the members: the employees, 60 days of check-ins, calendar events over
the previous, current and next month, 30 days of POS transactions, recurring services (every
4th member) and a few marketing campaigns (`generate_activity` in clubsync/sandbox/abc/activity.py).
moto and the billing sandbox run as child processes, so `time.process_time()` of this process
is the engine's own CPU. Figures are taken per sync type as `run_full_sync` reports each type
done. The baseline is `json.loads` of the very response bytes each type received, timed in the
same run. Nothing here asserts a timing or fails on a figure: it prints (see bench/README.md).
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import platform
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

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

from clubsync.domain.runs import RunCounts, SyncType
from clubsync.domain.settings import LocationSettings, Product
from clubsync.engine.full_sync import RunSummary, TypeResult, run_full_sync
from clubsync.engine.scheduled import SyncDependencies
from clubsync.engine.sync_types import RECORD_SYNC_TYPES, full_sync_types
from clubsync.providers.abc.client import AbcClient, AbcClientConfig
from clubsync.providers.abc.members import AbcMemberSource
from clubsync.providers.abc.sources import abc_record_source
from clubsync.providers.base import MemberSource, RecordSource
from clubsync.resources.member_windows import event_window
from clubsync.runtime.local import (
    SANDBOX_CREDENTIALS,
    Repositories,
    create_tables,
    dynamo_repositories,
    dynamodb_client,
    sandbox_client_config,
    use_fake_aws_credentials,
)
from clubsync.store.items import TableUsage

# The location as a club would configure it: the default departments, event type mapping and
# profit centers (Personal Training: PT, Pro Shop: product), the two Pro Shop products the
# sandbox sells on the product list, marketing sources on. So every type processes records; what
# the sandbox generates off these lists on purpose is skipped, with its reason counted.
LOCATION = LocationSettings(
    location_id="bench-full",
    name="Benchmark Fitness",
    club_number="0451",
    time_zone="America/Chicago",
    products=(
        Product(name="Water Bottle", upc="012345678905"),
        Product(name="Protein Bar", upc="036000291452"),
    ),
    sync_marketing_sources=True,
)
# The nightly full sync of a Friday; the sandbox clock and the sync clock are this instant.
SYNC_AT = datetime(2026, 11, 20, 21, 0, tzinfo=ZoneInfo(LOCATION.time_zone))
SEED = 7
PAGE_SIZE = AbcClientConfig().page_size
CAMPAIGNS = 12
SUMMARY = "run summary"


def event_days(at: datetime, settings: LocationSettings) -> tuple[int, int]:
    """Days back to the first of the previous month and forward to the last of the next month:
    the calendar events of the three months the event sync asks for."""
    start, end = event_window(now=at, zone=settings.zone)
    today = at.astimezone(settings.zone).date()
    first = start.astimezone(settings.zone).date()
    last = end.astimezone(settings.zone).date()
    return (today - first).days, (last - today).days


# -- recording what each type asked of billing ------------------------------------------------


@dataclass
class Capture:
    """A recording transport per sync type, so each type's requests and bytes are its own."""

    transports: dict[str, RecordingTransport] = field(default_factory=dict)
    clients: list[AbcClient] = field(default_factory=list)

    def _client(self, sync_type: SyncType, settings: LocationSettings, base_url: str) -> AbcClient:
        transport = self.transports.setdefault(sync_type.value, RecordingTransport())
        # As `clubsync.runtime.local.sandbox_sources`: no client-side rate limit, short backoff.
        client = AbcClient(
            settings.club_number,
            SANDBOX_CREDENTIALS,
            sandbox_client_config(base_url),
            transport=transport,
        )
        self.clients.append(client)
        return client

    def dependencies(
        self, repos: Repositories, base_url: str, on_page: Callable[[RunCounts], None]
    ) -> SyncDependencies:
        def member_source(settings: LocationSettings) -> MemberSource:
            return AbcMemberSource(
                self._client(SyncType.MEMBERS, settings, base_url), settings.zone
            )

        def record_source(sync_type: SyncType) -> Callable[[LocationSettings], RecordSource]:
            def factory(settings: LocationSettings) -> RecordSource:
                return abc_record_source(
                    sync_type, self._client(sync_type, settings, base_url), settings
                )

            return factory

        return SyncDependencies(
            entities=repos.entities,
            state=repos.state,
            member_source=member_source,
            sources={t: record_source(t) for t in RECORD_SYNC_TYPES},
            clock=lambda: SYNC_AT.astimezone(UTC),
            on_page=on_page,
        )

    def requests(self, name: str) -> tuple[list[str], list[int]]:
        transport = self.transports.get(name)
        return (transport.urls, transport.sizes) if transport else ([], [])

    def close(self) -> None:
        for client in self.clients:
            client.close()


# -- figures ----------------------------------------------------------------------------------


@dataclass
class TypeFigures:
    name: str
    status: str
    attempts: int
    counts: dict[str, int]
    skip_reasons: dict[str, int]
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
    dynamodb_requests: int
    dynamodb_write_units: int
    dynamodb_read_units: float
    entity_writes: int
    moto_cpu_s: float
    sandbox_cpu_s: float
    peak_rss_mb_after: float
    json_loads_s: float = 0.0
    json_loads_us_per_record: float = 0.0
    cpu_ratio: float = 0.0


@dataclass
class Reading:
    wall: float
    cpu: float
    entities: TableUsage
    state: TableUsage
    moto_cpu: float
    sandbox_cpu: float
    sandbox_requests: int


class Meter:
    """Readings between the types of a full sync. A lap runs from the end of the previous
    reading to the start of this one, so the readings themselves (an HTTP call to the sandbox,
    /proc reads) are not counted as the engine's time."""

    def __init__(self, servers: Servers, repos: Repositories) -> None:
        self._servers = servers
        self._repos = repos
        self._last = self._read(time.perf_counter(), time.process_time())

    def _read(self, wall: float, cpu: float) -> Reading:
        return Reading(
            wall=wall,
            cpu=cpu,
            entities=copy.copy(self._repos.entities.table.usage),
            state=copy.copy(self._repos.state.table.usage),
            moto_cpu=self._servers.moto.cpu_seconds(),
            sandbox_cpu=self._servers.sandbox.cpu_seconds(),
            sandbox_requests=self._servers.sandbox_request_count(),
        )

    def restart(self) -> None:
        """The next lap starts now (after the benchmark's own printing between laps)."""
        self._last.wall, self._last.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[Reading, Reading]:
        """(the previous reading, this one); call `restart` when the next lap begins."""
        now = self._read(time.perf_counter(), time.process_time())
        before, self._last = self._last, copy.copy(now)
        return before, now


def usage_between(before: TableUsage, after: TableUsage) -> TableUsage:
    return TableUsage(
        requests=after.requests - before.requests,
        items_written=after.items_written - before.items_written,
        items_deleted=after.items_deleted - before.items_deleted,
        write_units=after.write_units - before.write_units,
        read_units=after.read_units - before.read_units,
        items_read=after.items_read - before.items_read,
    )


def type_figures(
    name: str, result: TypeResult | None, before: Reading, after: Reading, capture: Capture
) -> TypeFigures:
    counts = dict(result.counts) if result else {}
    records = counts.get("fetched", 0)
    per = max(records, 1)
    wall, cpu = after.wall - before.wall, after.cpu - before.cpu
    entities = usage_between(before.entities, after.entities)
    state = usage_between(before.state, after.state)
    _, sizes = capture.requests(name)
    return TypeFigures(
        name=name,
        status=result.status if result else "",
        attempts=result.attempts if result else 0,
        counts=counts,
        skip_reasons=dict(result.skip_reasons) if result else {},
        records=records,
        pages=counts.get("pages", 0),
        payload_bytes=sum(size for size in sizes if size > 0),
        wall_s=wall,
        records_per_s=records / wall if wall else 0.0,
        engine_cpu_s=cpu,
        engine_cpu_us_per_record=cpu / per * 1e6,
        abc_requests_client=counts.get("billing_requests", 0),
        abc_requests_sandbox=after.sandbox_requests - before.sandbox_requests,
        entities=TableFigures.of(entities, records),
        state=TableFigures.of(state, records),
        dynamodb_requests=entities.requests + state.requests,
        dynamodb_write_units=entities.write_units + state.write_units,
        dynamodb_read_units=entities.read_units + state.read_units,
        entity_writes=entities.items_written + entities.items_deleted,
        moto_cpu_s=after.moto_cpu - before.moto_cpu,
        sandbox_cpu_s=after.sandbox_cpu - before.sandbox_cpu,
        peak_rss_mb_after=peak_rss_mb(),
    )


def total_figures(parts: list[TypeFigures]) -> TypeFigures:
    """The whole full sync: the types and the run summary, summed."""
    records = sum(p.records for p in parts)
    per = max(records, 1)
    wall = sum(p.wall_s for p in parts)
    cpu = sum(p.engine_cpu_s for p in parts)
    counts: dict[str, int] = {}
    for part in parts:
        for key, value in part.counts.items():
            counts[key] = counts.get(key, 0) + value

    def table(pick: Callable[[TypeFigures], TableFigures]) -> TableFigures:
        usage = TableUsage(
            requests=sum(pick(p).requests for p in parts),
            items_written=sum(pick(p).items_written for p in parts),
            items_deleted=sum(pick(p).items_deleted for p in parts),
            write_units=sum(pick(p).write_units for p in parts),
            read_units=sum(pick(p).read_units for p in parts),
            items_read=sum(pick(p).items_read for p in parts),
        )
        return TableFigures.of(usage, records)

    json_s = sum(p.json_loads_s for p in parts)
    statuses = {p.status for p in parts if p.status}
    return TypeFigures(
        name="total",
        status="succeeded" if statuses == {"succeeded"} else "/".join(sorted(statuses)),
        attempts=sum(p.attempts for p in parts),
        counts=counts,
        skip_reasons={},
        records=records,
        pages=sum(p.pages for p in parts),
        payload_bytes=sum(p.payload_bytes for p in parts),
        wall_s=wall,
        records_per_s=records / wall if wall else 0.0,
        engine_cpu_s=cpu,
        engine_cpu_us_per_record=cpu / per * 1e6,
        abc_requests_client=sum(p.abc_requests_client for p in parts),
        abc_requests_sandbox=sum(p.abc_requests_sandbox for p in parts),
        entities=table(lambda p: p.entities),
        state=table(lambda p: p.state),
        dynamodb_requests=sum(p.dynamodb_requests for p in parts),
        dynamodb_write_units=sum(p.dynamodb_write_units for p in parts),
        dynamodb_read_units=sum(p.dynamodb_read_units for p in parts),
        entity_writes=sum(p.entity_writes for p in parts),
        moto_cpu_s=sum(p.moto_cpu_s for p in parts),
        sandbox_cpu_s=sum(p.sandbox_cpu_s for p in parts),
        peak_rss_mb_after=max(p.peak_rss_mb_after for p in parts),
        json_loads_s=json_s,
        json_loads_us_per_record=json_s / per * 1e6,
        cpu_ratio=cpu / json_s if json_s else float("inf"),
    )


@dataclass
class RunFigures:
    name: str
    summary_status: str
    types: list[TypeFigures]
    total: TypeFigures | None = None


def run_full(name: str, repos: Repositories, servers: Servers, capture: Capture) -> RunFigures:
    """One full sync of the location, with a lap of figures per sync type (and one for the
    run summary it stores last)."""
    started = time.perf_counter()

    def on_page(counts: RunCounts) -> None:
        elapsed = time.perf_counter() - started
        print(f"      page {counts.pages}: {counts.fetched} records, {elapsed:.1f}s", flush=True)

    deps = capture.dependencies(repos, servers.sandbox_url, on_page)
    types: list[TypeFigures] = []
    gc.collect()
    print(f"  {name}: full sync at {SYNC_AT:%Y-%m-%d %H:%M %Z}", flush=True)
    meter = Meter(servers, repos)

    def on_type(result: TypeResult) -> None:
        before, after = meter.lap()
        figures = type_figures(result.sync_type.value, result, before, after, capture)
        types.append(figures)
        counts = ", ".join(
            f"{key} {value}"
            for key, value in figures.counts.items()
            if value and key not in ("pages", "billing_requests")
        )
        print(
            f"    {figures.name}: {figures.status}; {counts or 'nothing'}; "
            f"{figures.wall_s:.1f}s wall, {figures.engine_cpu_s:.2f}s engine CPU, "
            f"{figures.entity_writes} entity items written",
            flush=True,
        )
        meter.restart()

    meter.restart()
    summary: RunSummary = run_full_sync(LOCATION.location_id, SYNC_AT, deps, on_type=on_type)
    before, after = meter.lap()
    types.append(type_figures(SUMMARY, None, before, after, capture))
    capture.close()
    return RunFigures(name=name, summary_status=summary.status, types=types)


def add_baseline(run: RunFigures, capture: Capture, repeats: int) -> None:
    """json.loads over the bytes each type received; then the total."""
    for figures in run.types:
        urls, sizes = capture.requests(figures.name)
        total = json_loads_seconds(urls, sizes, repeats) if urls else 0.0
        figures.json_loads_s = total
        figures.json_loads_us_per_record = total / max(figures.records, 1) * 1e6
        figures.cpu_ratio = figures.engine_cpu_s / total if total else 0.0
    run.total = total_figures(run.types)


# -- output -----------------------------------------------------------------------------------


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        first = f"{cells[0]:<{widths[0]}}"
        rest = "  ".join(f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:], strict=True))
        return f"{first}  {rest}".rstrip()

    top = line(header)
    return [top, "-" * len(top), *(line(r) for r in rows)]


def run_table(run: RunFigures) -> str:
    assert run.total is not None
    rows_work: list[tuple[str, ...]] = []
    rows_speed: list[tuple[str, ...]] = []

    def n(value: float) -> str:
        return f"{value:,.0f}"

    def f(value: float, digits: int = 2) -> str:
        return f"{value:,.{digits}f}"

    for p in [*run.types, run.total]:
        c = p.counts
        label = p.name if p.name != "total" else "full sync (total)"
        rows_work.append(
            (
                label,
                n(p.records),
                n(c.get("created", 0)),
                n(c.get("updated", 0)),
                n(c.get("unchanged", 0)),
                n(c.get("skipped", 0) + c.get("ignored", 0)),
                n(c.get("quarantined", 0)),
                f"{p.abc_requests_client}/{p.abc_requests_sandbox}",
                f(p.payload_bytes / 1e6, 1),
                n(p.dynamodb_requests),
                n(p.dynamodb_write_units),
                f(p.dynamodb_read_units, 0),
                n(p.entity_writes),
            )
        )
        rows_speed.append(
            (
                label,
                f(p.wall_s, 1),
                n(p.records_per_s) if p.records else "-",
                f(p.engine_cpu_s),
                f(p.engine_cpu_us_per_record, 1) if p.records else "-",
                f(p.json_loads_s * 1000, 1),
                f(p.cpu_ratio, 1) if p.json_loads_s else "-",
                f(p.moto_cpu_s, 1),
                f(p.sandbox_cpu_s, 1),
                f(p.peak_rss_mb_after, 1),
            )
        )
    work = _table(
        (
            "sync type",
            "fetched",
            "created",
            "updated",
            "unchanged",
            "skipped",
            "quarant.",
            "ABC req c/s",
            "payload MB",
            "DDB req",
            "DDB WU",
            "DDB RU",
            "entity writes",
        ),
        rows_work,
    )
    speed = _table(
        (
            "sync type",
            "wall s",
            "records/s",
            "engine CPU s",
            "CPU us/rec",
            "json.loads ms",
            "CPU/json",
            "moto CPU s",
            "sandbox CPU s",
            "peak RSS MB",
        ),
        rows_speed,
    )
    return "\n".join([*work, "", *speed])


def skip_lines(run: RunFigures) -> list[str]:
    lines = []
    for p in run.types:
        if p.skip_reasons:
            reasons = "; ".join(f"{reason} {count}" for reason, count in p.skip_reasons.items())
            lines.append(f"  {p.name}: {reasons}")
    return lines


def rerun_check(rerun: RunFigures) -> str:
    writers = [f"{p.name} {p.entity_writes}" for p in rerun.types if p.entity_writes]
    changed = [
        f"{p.name} {p.counts.get('created', 0)}+{p.counts.get('updated', 0)}"
        for p in rerun.types
        if p.counts.get("created", 0) or p.counts.get("updated", 0)
    ]
    verdict = "OK" if not writers and not changed else "NOT MET"
    detail = ""
    if writers:
        detail += "; entity items written by " + ", ".join(writers)
    if changed:
        detail += "; created+updated in " + ", ".join(changed)
    total = rerun.total.entity_writes if rerun.total else 0
    return f"check: unchanged re-run wrote {total} entity items (target 0): {verdict}{detail}"


# -- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20_000, help="members in billing")
    parser.add_argument("--employees", type=int, default=200, help="employees in billing")
    parser.add_argument("--checkin-days", type=int, default=60, help="days of check-ins")
    parser.add_argument("--pos-days", type=int, default=30, help="days of POS transactions")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2,000 members, 40 employees, 6 days of check-ins: a check in under 2 minutes",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures as JSON")
    parser.add_argument(
        "--repeats", type=int, default=10, help="json.loads repeats per response (best is kept)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.employees, args.checkin_days = 2_000, 40, 6
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
    use_fake_aws_credentials()
    days_back, days_forward = event_days(SYNC_AT, LOCATION)
    volumes: Mapping[str, int] = {
        "members": args.members,
        "employees": args.employees,
        "checkin_days": args.checkin_days,
        "event_days_back": days_back,
        "event_days_forward": days_forward,
        "pos_days": args.pos_days,
        "campaigns": CAMPAIGNS,
    }
    print(
        f"full sync benchmark: {args.members:,} members, {args.employees} employees, "
        f"{args.checkin_days} days of check-ins, events {days_back} days back to "
        f"{days_forward} ahead, {args.pos_days} days of POS, {CAMPAIGNS} campaigns; "
        f"page size {PAGE_SIZE}, sync at {SYNC_AT:%Y-%m-%d %H:%M} {LOCATION.time_zone}; "
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"library at {library_commit()}",
        flush=True,
    )
    print("starting moto and the billing sandbox (generating the club)...", flush=True)
    setup_started = time.perf_counter()
    sandbox_args = [
        "--employees",
        str(args.employees),
        "--checkin-days",
        str(args.checkin_days),
        "--event-days-back",
        str(days_back),
        "--event-days-forward",
        str(days_forward),
        "--pos-days",
        str(args.pos_days),
        "--campaigns",
        str(CAMPAIGNS),
    ]
    try:
        servers = start_servers(
            club=LOCATION.club_number,
            zone=LOCATION.time_zone,
            members=args.members,
            seed=SEED,
            now=SYNC_AT,
            sandbox_args=sandbox_args,
            ready_timeout=max(180.0, args.members / 50),
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
        sync_types = [t.value for t in full_sync_types(LOCATION)]
        print(f"sync types in order: {', '.join(sync_types)}", flush=True)

        first_capture, again_capture = Capture(), Capture()
        first = run_full("first full sync", repos, servers, first_capture)
        rss["after_first"] = peak_rss_mb()
        again = run_full("re-run (unchanged)", repos, servers, again_capture)
        rss["after_rerun"] = peak_rss_mb()

        print(f"json.loads baseline over the same response bytes (best of {args.repeats})...")
        add_baseline(first, first_capture, args.repeats)
        add_baseline(again, again_capture, args.repeats)
        rss["at_end"] = peak_rss_mb()

        billing = servers.sandbox.log_tail(1).partition(" members; ")[2]
        print()
        print(
            f"Full sync of one location, club {LOCATION.club_number} ({LOCATION.time_zone}): "
            f"{args.members:,} members, {args.employees} employees, {args.checkin_days} days of "
            f"check-ins, 3 months of events, {args.pos_days} days of POS.\n"
            f"Billing holds besides the members: {billing or '(see the sandbox log)'}, "
            f"{CAMPAIGNS} campaigns."
        )
        for run in (first, again):
            print(f"\n{run.name} (summary: {run.summary_status})")
            print(run_table(run))
        print("\nskip reasons, first full sync:")
        print("\n".join(skip_lines(first)) or "  none")
        print()
        print(rerun_check(again))
        print(
            f"peak RSS of the benchmark process: {rss['before_syncs']:.1f} MB before the syncs, "
            f"{rss['after_first']:.1f} after the first, {rss['after_rerun']:.1f} after the "
            f"re-run, {rss['at_end']:.1f} at the end (after the baseline fetches)"
        )

        if args.json is not None:
            report = {
                "benchmark": "full_sync",
                "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "volumes": dict(volumes),
                "billing_records": billing,
                "location": LOCATION.model_dump(mode="json"),
                "page_size": PAGE_SIZE,
                "sync_at": SYNC_AT.isoformat(),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "library_commit": library_commit(),
                "targets": {"rerun_entity_items_written": 0},
                "first_full_sync": asdict(first),
                "rerun": asdict(again),
                "rerun_entity_items_written": again.total.entity_writes if again.total else None,
                "peak_rss_mb": rss,
            }
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report, indent=2) + "\n")
            print(f"figures written to {args.json}")
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
