"""Lambda: the weekly duplicate report (EventBridge Scheduler target, hourly 06:00-11:00 UTC on
Mondays: each run stores the locations the previous one did not reach).

Event: `{}` for every registered location without this Monday's report, or
`{"locations": ["springfield", ...]}` to recompute those. Each
location's report is stored in the state table under `DUPLICATES#{date}` (`clubsync duplicates
report` shows the live one). Reads only: it never resolves anything.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from clubsync.features.duplicates import Duplicates, store_weekly_reports
from clubsync.runtime.sync_lambda import table_repositories

logger = Logger(service="duplicates-report")
# One location's report takes seconds; two minutes left never cuts one in half.
TIME_MARGIN_MS = 120_000


@cache
def _duplicates() -> Duplicates:
    return Duplicates(*table_repositories())


def reset() -> None:
    _duplicates.cache_clear()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    wanted = event.get("locations") if isinstance(event, dict) else None
    # Stop starting locations with a margin left: the next Monday-morning run carries on.
    result = store_weekly_reports(
        _duplicates(),
        wanted if isinstance(wanted, list) else None,
        should_stop=lambda: context.get_remaining_time_in_millis() < TIME_MARGIN_MS,
    )
    if result.pending:
        logger.warning(
            "duplicate reports left for the next run: out of time",
            extra={"pending_locations": result.pending},
        )
    for location_id, groups in result.groups.items():
        # Per location in the log line only (the dashboard's Logs Insights table): a location
        # metric dimension would be a billed custom metric per location. Ids and counts only:
        # groups name accounts, never their contact data.
        logger.info("duplicate report stored", extra={"location_id": location_id, "groups": groups})
    if result.groups:
        # One total per run; namespace and the service dimension come from the POWERTOOLS_*
        # variables the stack sets.
        with single_metric(
            name="DuplicateGroups", unit=MetricUnit.Count, value=sum(result.groups.values())
        ):
            pass
    return {"ok": True, "groups": result.groups, "pending": result.pending}
