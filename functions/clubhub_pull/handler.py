"""Lambda: the scheduled Club Hub reconciliation pull (EventBridge Scheduler, hourly).

Thin on purpose: events, wiring and metrics are in `clubsync.runtime.clubhub_pull`; the pulls are
engine runs (`clubsync.providers.clubhub.sync`).
"""

from __future__ import annotations

from typing import Any

from clubsync.runtime.clubhub_pull import pull_handler

_handler = pull_handler()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _handler(event, context)
