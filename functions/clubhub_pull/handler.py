"""Lambda: the scheduled Club Hub reconciliation pull (EventBridge Scheduler, hourly).

Thin on purpose: events, wiring and metrics are in `clubsync.clubhub_runtime`; the pulls are
engine runs (`clubsync.sync.clubhub_sync`).
"""

from __future__ import annotations

from typing import Any

from clubsync.clubhub_runtime import pull_handler

_handler = pull_handler()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _handler(event, context)
