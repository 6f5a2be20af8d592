"""Lambda: the hourly staleness check (EventBridge Scheduler target, the stack's own schedule).

Counts the locations with no successful member sync for 26 hours (`clubsync.features.staleness`)
and emits the count as one metric, `StaleLocations` (the stale-locations alarm), with one log
line per stale location naming it: per-location detail in the logs, never a metric dimension.
The metric is emitted every hour, 0 included, so the alarm can treat a missing hour as this
check not running. Event: `{}` (anything else is ignored).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from clubsync.runtime.sync_lambda import table_repositories

if TYPE_CHECKING:
    from clubsync.store.state import StateRepository

logger = Logger()
metrics = Metrics()


@cache
def _state() -> StateRepository:
    return table_repositories()[1]


def reset() -> None:
    _state.cache_clear()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: Any, context: Any) -> dict[str, Any]:
    from clubsync.features.staleness import STALE_AFTER, check_staleness

    now = datetime.now(UTC)
    report = check_staleness(_state(), now)
    metrics.add_metric(name="StaleLocations", unit=MetricUnit.Count, value=len(report.stale))
    for stale in report.stale:
        # Ids and times only.
        logger.warning(
            "stale location",
            extra={
                "location_id": stale.location_id,
                "sync_type": "members",
                "last_success": stale.last_success.isoformat() if stale.last_success else None,
                "first_checked": stale.first_checked.isoformat() if stale.first_checked else None,
                "hours_since_success": stale.hours_since(now),
            },
        )
    logger.info(
        "staleness checked",
        extra={
            "checked": report.checked,
            "stale": len(report.stale),
            "newly_seen": report.newly_seen,
            "stale_after_hours": STALE_AFTER.total_seconds() / 3600,
        },
    )
    return {
        "checked": report.checked,
        "stale": [stale.location_id for stale in report.stale],
        "newly_seen": report.newly_seen,
    }
