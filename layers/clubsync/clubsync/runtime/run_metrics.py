"""The one place a sync run becomes metrics and structured log lines, for every sync type.

Metrics go to the namespace in POWERTOOLS_METRICS_NAMESPACE (the stack sets it on every
function: infra/clubsync_infra/runtime.py METRICS_NAMESPACE); nothing here names a namespace,
because Powertools' `Metrics(namespace=...)` given in code overrides the variable.

Dimensions: only Powertools' `service` (one service per sync function, so it also names the
sync type). Never the location: CloudWatch bills every unique dimension set as a custom
metric (11 metrics x 10,000 locations would be ~$33,000 a month). Per-location health is in
the run records and in the log lines written here, which carry `location_id`, `sync_type`,
`kind`, `status`, `counts`, `skip_reasons` and `run_message`; the dashboard's Logs Insights
queries read them (docs/operations.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clubsync.domain.runs import RunRecord, RunStatus, SyncType

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

# The run record's counts (RunRecord.metrics()) by metric name.
COUNT_METRICS: dict[str, str] = {
    "fetched": "Fetched",
    "created": "Created",
    "updated": "Updated",
    "converted": "Converted",
    "unchanged": "Unchanged",
    "quarantined": "Quarantined",
    "ignored": "Ignored",
    "skipped": "Skipped",
    "pages": "Pages",
    "billing_requests": "BillingRequests",
}
# One count per run, by how it ended. SyncFailed is what the failed-syncs alarm sums over every
# sync service.
STATUS_METRICS: dict[RunStatus, str] = {
    RunStatus.SUCCEEDED: "SyncSucceeded",
    RunStatus.FAILED: "SyncFailed",
    RunStatus.CONTINUED: "SyncContinued",
    RunStatus.SKIPPED_LOCKED: "SyncSkippedLocked",
}
# An event refused without a run (unknown location, no billing secret, a malformed event).
REFUSED_METRIC = "InvalidEvents"
# The log messages the dashboard's queries filter on.
RUN_FINISHED = "sync run finished"
RUN_FAILED = "sync run failed"
EVENT_REFUSED = "sync event refused"

# What the full sync summary function emits: one of each per summary, 1 for the summary's
# status, 0 for the others, so a graph shows the night's mix and the alarms see 0 as "fine".
SUMMARY_METRICS: dict[str, str] = {
    "succeeded": "FullSyncSucceeded",
    "partly failed": "FullSyncPartlyFailed",
    "failed": "FullSyncFailed",
}


def sync_service(sync_type: SyncType) -> str:
    """The Powertools service (and metric `service` dimension) of a sync type's function;
    the stack sets it as POWERTOOLS_SERVICE_NAME (tests/infra pins the two together)."""
    return "clubsync-" + sync_type.value.replace("_", "-") + "-sync"


def run_metric_values(run: RunRecord) -> dict[str, int]:
    """The metrics a run emits: its status count, and its counts once it has ended."""
    values = {STATUS_METRICS[run.status]: 1}
    # A continued run's counts are cumulative and its continuation reports them again: they
    # are counted once, when the run ends (succeeded or failed).
    if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        for key, value in run.metrics().items():
            values[COUNT_METRICS[key]] = int(value)
    return values


def run_log_fields(run: RunRecord) -> dict[str, Any]:
    """Log fields of a run: ids, counts and the message; never a person's data. (`message` is
    the log line's own key in Powertools, so the run's message is `run_message`.)"""
    return {
        "location_id": run.location_id,
        "sync_type": run.sync_type.value,
        "kind": run.kind.value,
        "run_id": run.run_id,
        "status": run.status.value,
        "scheduled_time": run.scheduled_time.isoformat(),
        "counts": run.metrics(),
        "skip_reasons": run.skip_reasons,
        "run_message": run.message,
    }


def record_run(metrics: Metrics, logger: Logger, run: RunRecord) -> None:
    """Metrics and one log line for a run, whatever its type and however it ended."""
    from aws_lambda_powertools.metrics import MetricUnit

    for name, value in run_metric_values(run).items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    fields = run_log_fields(run)
    if run.status is RunStatus.FAILED:
        logger.error(RUN_FAILED, extra=fields)
    else:
        logger.info(RUN_FINISHED, extra=fields)


def record_crash(
    metrics: Metrics, logger: Logger, sync_type: SyncType, event: Any, error: BaseException
) -> None:
    """A run that ended in an exception other than SyncFailed (a DynamoDB error past its
    retries, a bug): no run record reached us, but it is a failed sync all the same, so it
    counts in SyncFailed (the failed-syncs alarm) and gets the same log line."""
    from aws_lambda_powertools.metrics import MetricUnit

    fields = event if isinstance(event, dict) else {}
    metrics.add_metric(name=STATUS_METRICS[RunStatus.FAILED], unit=MetricUnit.Count, value=1)
    logger.exception(
        RUN_FAILED,
        extra={
            "location_id": fields.get("location"),
            "sync_type": sync_type.value,
            "kind": fields.get("kind"),
            "run_id": fields.get("resume_run_id"),
            "status": RunStatus.FAILED.value,
            # The type only: an exception's text may quote what it was processing.
            "run_message": f"crashed: {type(error).__name__}",
        },
    )


def record_refused(
    metrics: Metrics, logger: Logger, sync_type: SyncType, reason: str, event: Any
) -> None:
    """An event that can never succeed: counted (the InvalidEvents alarm) and logged with what
    the event said of itself (it may name a location that does not exist)."""
    from aws_lambda_powertools.metrics import MetricUnit

    fields = event if isinstance(event, dict) else {}
    logger.error(
        EVENT_REFUSED,
        extra={
            "location_id": fields.get("location"),
            "sync_type": sync_type.value,
            "kind": fields.get("kind"),
            "status": "invalid_event",
            "reason": reason,
        },
    )
    metrics.add_metric(name=REFUSED_METRIC, unit=MetricUnit.Count, value=1)


def record_summary(metrics: Metrics, logger: Logger, summary: dict[str, Any]) -> None:
    """The full sync summary's status as metrics (FullSyncPartlyFailed alarms) and a log line
    naming the location and the types that did not succeed."""
    from aws_lambda_powertools.metrics import MetricUnit

    status = str(summary.get("status"))
    for summary_status, name in SUMMARY_METRICS.items():
        metrics.add_metric(
            name=name, unit=MetricUnit.Count, value=1 if status == summary_status else 0
        )
    results = summary.get("results") or []
    not_succeeded = {
        str(result.get("sync_type")): str(result.get("status"))
        for result in results
        if result.get("status") != RunStatus.SUCCEEDED.value
    }
    fields = {
        "location_id": summary.get("location_id"),
        "local_date": summary.get("local_date"),
        "status": status,
        "not_succeeded": not_succeeded,
    }
    if not_succeeded:
        logger.warning("full sync summary stored", extra=fields)
    else:
        logger.info("full sync summary stored", extra=fields)
