"""The 21:00 burst, simulated: N locations of one time zone start their nightly full sync, each
at 21:00 plus a uniform delay within Scheduler's flexible window; the state machine runs its
stages (members, employees, then the other types side by side) on Lambda functions with the
account's concurrency and the member sync's reserved concurrency; a throttled Task is retried
with the state machine's own throttle policy (full jitter) and, past its attempts, the type is
marked failed for the night. Prints, per scenario, the types failed by throttling, when the last
location finished and the peak concurrency.

    python bench/burst.py                         # 4,000 and 10,000 locations, window 0/15/30
    python bench/burst.py --locations 10000 --window 15 --account-concurrency 1000

A model, not a measurement: run times per type come from a club's size (printed below; members
about 5 s + 2 s per 1,000 members on an unchanged night, as billing pages take most of it),
club sizes are drawn from a log-normal distribution (median 2,500, 300 to 20,000 members). The
retry policy, stage order, window default and reserved concurrency are read from the code that
deploys them (clubsync_infra, clubsync.features.scheduling), so the simulation follows changes.
"""

from __future__ import annotations

import argparse
import heapq
import inspect
import os
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "infra"))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

from clubsync_infra import full_sync as machine  # noqa: E402
from clubsync_infra.stack import ClubsyncStack  # noqa: E402

from clubsync.domain.runs import SyncType  # noqa: E402
from clubsync.engine.sync_types import FULL_SYNC_STAGES  # noqa: E402
from clubsync.features.scheduling import FULL_SYNC_WINDOW_MINUTES  # noqa: E402

RESERVED_MEMBERS = int(
    inspect.signature(ClubsyncStack.__init__).parameters["sync_concurrency"].default
)
THROTTLE_INTERVAL = machine.THROTTLE_INTERVAL.to_seconds()
THROTTLE_MAX_DELAY = machine.THROTTLE_MAX_DELAY.to_seconds()


def run_seconds(sync_type: SyncType, members: int) -> float:
    """An unchanged night's run of one type for a club of `members` (the model's assumption)."""
    per_thousand = {
        SyncType.MEMBERS: 2.0,
        SyncType.EVENTS: 0.5,
        SyncType.CHECKINS: 0.4,
        SyncType.SERVICE_AGREEMENTS: 0.2,
        SyncType.POS: 0.2,
    }
    return (
        3.0
        + per_thousand.get(sync_type, 0.0) * members / 1000
        + (2.0 if sync_type is SyncType.MEMBERS else 0.0)
    )


@dataclass
class Pool:
    """Concurrent executions of a set of functions (reserved, or the account's unreserved)."""

    limit: int
    busy: int = 0
    peak: int = 0

    def acquire(self) -> bool:
        if self.busy >= self.limit:
            return False
        self.busy += 1
        self.peak = max(self.peak, self.busy)
        return True


@dataclass(order=True)
class Event:
    at: float
    order: int
    action: str = field(compare=False)
    location: int = field(compare=False)
    sync_type: SyncType = field(compare=False)
    attempt: int = field(compare=False, default=0)


@dataclass
class Outcome:
    failed_types: int
    failed_locations: int
    throttles: int
    last_finish_minutes: float
    peak_members: int
    peak_unreserved: int


def simulate(
    locations: int, window_minutes: int, account_concurrency: int, seed: int = 7
) -> Outcome:
    rng = random.Random(seed)
    sizes = [min(20_000, max(300, int(rng.lognormvariate(7.824, 0.9)))) for _ in range(locations)]
    members_pool = Pool(RESERVED_MEMBERS)
    other_pool = Pool(account_concurrency - RESERVED_MEMBERS)
    counter = iter(range(10**12))
    queue: list[Event] = []
    stage_of: list[int] = [0] * locations
    left_in_stage: list[int] = [0] * locations
    failed: set[int] = set()
    failed_types = throttles = 0
    last_finish = 0.0

    def push(at: float, action: str, location: int, sync_type: SyncType, attempt: int = 0) -> None:
        heapq.heappush(queue, Event(at, next(counter), action, location, sync_type, attempt))

    def start_stage(location: int, at: float) -> None:
        nonlocal last_finish
        stage = stage_of[location]
        if stage == len(FULL_SYNC_STAGES):
            last_finish = max(last_finish, at)
            return
        left_in_stage[location] = len(FULL_SYNC_STAGES[stage])
        for sync_type in FULL_SYNC_STAGES[stage]:
            push(at, "invoke", location, sync_type)

    def end_type(location: int, at: float) -> None:
        left_in_stage[location] -= 1
        if left_in_stage[location] == 0:
            stage_of[location] += 1
            start_stage(location, at)

    for location in range(locations):
        start_stage(location, rng.uniform(0, window_minutes * 60))
    while queue:
        event = heapq.heappop(queue)
        pool = members_pool if event.sync_type is SyncType.MEMBERS else other_pool
        if event.action == "done":
            pool.busy -= 1
            end_type(event.location, event.at)
        elif pool.acquire():
            seconds = run_seconds(event.sync_type, sizes[event.location])
            push(event.at + seconds, "done", event.location, event.sync_type)
        elif event.attempt < machine.THROTTLE_ATTEMPTS:
            throttles += 1
            ceiling = min(
                THROTTLE_INTERVAL * machine.RETRY_BACKOFF**event.attempt, THROTTLE_MAX_DELAY
            )
            push(
                event.at + rng.uniform(0, ceiling),
                "invoke",
                event.location,
                event.sync_type,
                event.attempt + 1,
            )
        else:
            failed_types += 1
            failed.add(event.location)
            end_type(event.location, event.at)
    return Outcome(
        failed_types,
        len(failed),
        throttles,
        last_finish / 60,
        members_pool.peak,
        other_pool.peak,
    )


def scenarios(args: argparse.Namespace) -> Iterator[tuple[int, int]]:
    for locations in args.locations:
        for window in args.window:
            yield locations, window


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, nargs="+", default=[4_000, 10_000])
    parser.add_argument(
        "--window", type=int, nargs="+", default=sorted({0, FULL_SYNC_WINDOW_MINUTES, 30})
    )
    parser.add_argument("--account-concurrency", type=int, default=1_000)
    args = parser.parse_args()
    print(
        f"21:00 burst, one zone; account concurrency {args.account_concurrency}, member sync "
        f"reserved {RESERVED_MEMBERS}; throttle retries: {machine.THROTTLE_ATTEMPTS} attempts, "
        f"{THROTTLE_INTERVAL:.0f} s x{machine.RETRY_BACKOFF} up to {THROTTLE_MAX_DELAY:.0f} s, "
        "full jitter"
    )
    print(
        "run seconds (model) for 2,000 / 20,000 members: "
        + ", ".join(
            f"{t.value} {run_seconds(t, 2000):.0f}/{run_seconds(t, 20000):.0f}"
            for stage in FULL_SYNC_STAGES
            for t in stage
        )
    )
    header = (
        f"  {'locations':>9}{'window min':>11}{'failed types':>13}{'locations hit':>14}"
        f"{'throttles':>11}{'last done min':>14}{'peak members':>13}{'peak others':>12}"
    )
    print(header)
    for locations, window in scenarios(args):
        outcome = simulate(locations, window, args.account_concurrency)
        print(
            f"  {locations:>9,}{window:>11}{outcome.failed_types:>13,}"
            f"{outcome.failed_locations:>14,}{outcome.throttles:>11,}"
            f"{outcome.last_finish_minutes:>14.0f}{outcome.peak_members:>13}"
            f"{outcome.peak_unreserved:>12}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
