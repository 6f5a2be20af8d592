"""Helpers for the benchmarks: free ports, child servers that die with the benchmark, CPU and
memory readings, moto and the billing sandbox as child processes, the requests a sync made and
the json.loads baseline over their bodies, table usage figures.

Run as a script, it serves a generated sandbox club until SIGTERM/SIGINT:

    python bench/_util.py serve-sandbox --port P --club 0451 --zone America/Chicago \
        --members 50000 --seed 7 --now 2026-11-20T21:00:00-06:00

With any of `--employees N --checkin-days N --event-days-back N --event-days-forward N
--pos-days N` the club's other resources are generated again with those volumes (see
`clubsync.sandbox.abc.activity.generate_activity`); `--campaigns N` adds N marketing campaigns.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from clubsync.store.items import TableUsage

BENCH_DIR = Path(__file__).resolve().parent
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of another process (all its threads), from /proc; 0 if unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name (field 2) may hold spaces; fields after ')' start at field 3.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the benchmark dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ChildServer:
    """A server in a child process; output goes to a temporary log shown if it fails."""

    def __init__(self, name: str, argv: Sequence[str]) -> None:
        self.name = name
        self._log: IO[bytes] = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop)
            prefix=f"bench-{name}-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def log_tail(self, lines: int = 20) -> str:
        self._log.flush()
        text = Path(self._log.name).read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> None:
        """Polls `ready` until it returns True; fails if the child exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(Exception):
                if ready():
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        with contextlib.suppress(OSError):
            os.unlink(self._log.name)


def raise_keyboard_interrupt(signum: int, _frame: object) -> None:
    """A SIGTERM handler: stop the benchmark as Ctrl-C does, so the children are stopped."""
    raise KeyboardInterrupt(f"signal {signum}")


def library_commit() -> str:
    """The commit the figures belong to, with "+dirty" when the library has local changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "layers/clubsync"],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}+dirty" if dirty else commit


# -- moto and the billing sandbox as child processes ------------------------------------------


@dataclass
class Servers:
    moto: ChildServer
    sandbox: ChildServer
    moto_endpoint: str
    sandbox_url: str
    sandbox_root: str

    def sandbox_request_count(self) -> int:
        """Requests the sandbox answered under /rest (its control API is not counted)."""
        answer = httpx.get(f"{self.sandbox_root}/_sandbox/health", timeout=10)
        return int(answer.json()["requestCount"])

    def stop(self) -> None:
        self.sandbox.stop()
        self.moto.stop()


def start_servers(
    *,
    club: str,
    zone: str,
    members: int,
    seed: int,
    now: datetime,
    sandbox_args: Sequence[str] = (),
    ready_timeout: float | None = None,
) -> Servers:
    """Starts moto and the sandbox (`serve-sandbox` with `sandbox_args` added) as child
    processes, side by side; returns them when both answer."""
    moto_port, sandbox_port = free_port(), free_port()
    moto_script = Path(sys.executable).with_name("moto_server")
    moto_argv = (
        [str(moto_script)] if moto_script.exists() else [sys.executable, "-m", "moto.server"]
    )
    started: list[ChildServer] = []
    try:
        started.append(ChildServer("moto", [*moto_argv, "-H", "127.0.0.1", "-p", str(moto_port)]))
        started.append(
            ChildServer(
                "sandbox",
                [
                    sys.executable,
                    str(BENCH_DIR / "_util.py"),
                    "serve-sandbox",
                    "--port",
                    str(sandbox_port),
                    "--club",
                    club,
                    "--zone",
                    zone,
                    "--members",
                    str(members),
                    "--seed",
                    str(seed),
                    "--now",
                    now.isoformat(),
                    *sandbox_args,
                ],
            )
        )
        moto, sandbox = started
        endpoint = f"http://127.0.0.1:{moto_port}"
        root = f"http://127.0.0.1:{sandbox_port}"
        moto.wait_until(lambda: httpx.get(endpoint, timeout=2).status_code < 600, timeout=60)
        sandbox.wait_until(
            lambda: httpx.get(f"{root}/_sandbox/health", timeout=2).json()["status"] == "ok",
            timeout=ready_timeout if ready_timeout is not None else max(120.0, members / 100),
        )
    except BaseException:
        for child in started:
            child.stop()
        raise
    return Servers(moto, sandbox, endpoint, f"{root}/rest", root)


# -- what a sync asked of billing and of DynamoDB ---------------------------------------------


class RecordingTransport(httpx.BaseTransport):
    """The real HTTP transport, noting the URL of every request and the size of its answer
    (Content-Length, -1 when absent), for the json.loads baseline."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.urls: list[str] = []
        self.sizes: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        response = self._inner.handle_request(request)
        self.sizes.append(int(response.headers.get("content-length", -1)))
        return response

    def close(self) -> None:
        self._inner.close()


def json_loads_seconds(urls: Sequence[str], sizes: Sequence[int], repeats: int) -> float:
    """Fetches `urls` from the sandbox once more, checks each answer has the size it had
    (`sizes`), and sums the best of `repeats` timings of `json.loads` over each body (CPU)."""
    from clubsync.runtime.local import SANDBOX_CREDENTIALS

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
            best = float("inf")
            for _ in range(repeats):
                began = time.process_time()
                parsed = json.loads(body)
                best = min(best, time.process_time() - began)
                del parsed
            total += best
            del body
    return total


@dataclass
class TableFigures:
    requests: int
    items_written: int
    items_deleted: int
    write_units: int
    read_units: float
    items_read: int
    requests_per_record: float
    write_units_per_record: float
    read_units_per_record: float

    @classmethod
    def of(cls, usage: TableUsage, records: int) -> TableFigures:
        per = max(records, 1)
        return cls(
            requests=usage.requests,
            items_written=usage.items_written,
            items_deleted=usage.items_deleted,
            write_units=usage.write_units,
            read_units=usage.read_units,
            items_read=usage.items_read,
            requests_per_record=usage.requests / per,
            write_units_per_record=usage.write_units / per,
            read_units_per_record=usage.read_units / per,
        )


# -- the billing sandbox as a standalone process ----------------------------------------------


def serve_sandbox(
    *,
    port: int,
    club: str,
    zone: str,
    members: int,
    seed: int,
    now: datetime,
    employees: int | None = None,
    checkin_days: int | None = None,
    event_days_back: int | None = None,
    event_days_forward: int | None = None,
    pos_days: int | None = None,
    campaigns: int = 0,
) -> None:
    """Serves one generated club with its clock fixed at `now` until SIGTERM or SIGINT. Given
    any activity volume, the club's other resources are generated again with it (the rest at
    the generator's defaults); `campaigns` adds that many marketing campaigns."""
    from clubsync.sandbox import BillingSandbox

    billing = BillingSandbox(now=now)
    billing.add_club(club, zone)
    billing.generate_members(club, members, seed=seed)
    volumes = {
        "employees": employees,
        "checkin_days": checkin_days,
        "event_days_back": event_days_back,
        "event_days_forward": event_days_forward,
        "pos_days": pos_days,
    }
    given = {name: value for name, value in volumes.items() if value is not None}
    if given:
        billing.generate_activity(club, seed=seed, **given)
    for index in range(campaigns):
        billing.add_campaign(
            club, f"c{index + 1:03d}", f"Campaign {index + 1}", ("PON", "PFA", "WEB")[index % 3]
        )
    counts = ", ".join(
        f"{len(billing.activity(club, resource))} {resource}"
        for resource in ("employees", "events", "checkins", "transactions", "recurringServices")
    )
    url = billing.start(port=port)
    print(f"sandbox ready at {url} with {members} members; {counts}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        billing.stop()


def _main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser("serve-sandbox", help="serve a generated sandbox club")
    sandbox.add_argument("--port", type=int, required=True)
    sandbox.add_argument("--club", default="0451")
    sandbox.add_argument("--zone", default="America/Chicago")
    sandbox.add_argument("--members", type=int, required=True)
    sandbox.add_argument("--seed", type=int, default=7)
    sandbox.add_argument("--now", type=datetime.fromisoformat, required=True)
    sandbox.add_argument("--employees", type=int)
    sandbox.add_argument("--checkin-days", type=int)
    sandbox.add_argument("--event-days-back", type=int)
    sandbox.add_argument("--event-days-forward", type=int)
    sandbox.add_argument("--pos-days", type=int)
    sandbox.add_argument("--campaigns", type=int, default=0)
    args = parser.parse_args(argv)
    serve_sandbox(
        port=args.port,
        club=args.club,
        zone=args.zone,
        members=args.members,
        seed=args.seed,
        now=args.now,
        employees=args.employees,
        checkin_days=args.checkin_days,
        event_days_back=args.event_days_back,
        event_days_forward=args.event_days_forward,
        pos_days=args.pos_days,
        campaigns=args.campaigns,
    )


if __name__ == "__main__":
    _main()
