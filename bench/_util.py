"""Helpers for the benchmarks: free ports, child servers that die with the benchmark, CPU and
memory readings, and the billing sandbox as a standalone process.

Run as a script, it serves a generated sandbox club until SIGTERM/SIGINT:

    python bench/_util.py serve-sandbox --port P --club 0451 --zone America/Chicago \
        --members 50000 --seed 7 --now 2026-11-20T21:00:00-06:00
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
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
from datetime import datetime
from pathlib import Path
from typing import IO

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


# -- the billing sandbox as a standalone process ----------------------------------------------


def serve_sandbox(
    *, port: int, club: str, zone: str, members: int, seed: int, now: datetime
) -> None:
    """Serves one generated club with its clock fixed at `now` until SIGTERM or SIGINT."""
    from clubsync.sandbox import BillingSandbox

    billing = BillingSandbox(now=now)
    billing.add_club(club, zone)
    billing.generate_members(club, members, seed=seed)
    url = billing.start(port=port)
    print(f"sandbox ready at {url} with {members} members", flush=True)
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
    args = parser.parse_args(argv)
    serve_sandbox(
        port=args.port,
        club=args.club,
        zone=args.zone,
        members=args.members,
        seed=args.seed,
        now=args.now,
    )


if __name__ == "__main__":
    _main()
