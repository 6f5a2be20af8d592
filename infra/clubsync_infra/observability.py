"""Observability: alarms (each with a readable name, alarm and OK actions) to an encrypted SNS
topic, and a dashboard.

No metric has a location dimension (each unique dimension set is a billed custom metric):
the sync metrics carry only `service`, alarms over every sync type add the services of the
one sync-type registry (FULL_SYNC_ORDER) with metric math, and the per-location views are
Logs Insights queries over every sync function's log group (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from clubsync.domain.runs import RunStatus
from clubsync.engine.sync_types import FULL_SYNC_ORDER
from clubsync.runtime.feed_import import REFUSED_METRIC as FEED_REFUSED_METRIC
from clubsync.runtime.feed_import import SERVICE as FEED_SERVICE
from clubsync.runtime.run_metrics import (
    EVENT_REFUSED,
    REFUSED_METRIC,
    RUN_FAILED,
    RUN_FINISHED,
    STATUS_METRICS,
    SUMMARY_METRICS,
    sync_service,
)
from clubsync_infra.clubhub_pull import ClubHubPull
from clubsync_infra.duplicates import WEBHOOK_SERVICE, Duplicates
from clubsync_infra.feeds import Feeds
from clubsync_infra.followups import FollowUps
from clubsync_infra.full_sync import FullSync, service_name
from clubsync_infra.member_sync import MemberSync
from clubsync_infra.mindbody_webhook import SERVICE as MINDBODY_WEBHOOK_SERVICE
from clubsync_infra.mindbody_webhook import MindbodyWebhook
from clubsync_infra.prospect_push import INTAKE_SERVICE, ProspectPush
from clubsync_infra.runtime import METRICS_NAMESPACE
from clubsync_infra.scheduling import Scheduling
from clubsync_infra.staleness import Staleness

FIVE_MINUTES = Duration.minutes(5)
HOUR = Duration.hours(1)
# No data means nothing ran or nothing failed, never an alarm.
NO_DATA_IS_FINE = cloudwatch.TreatMissingData.NOT_BREACHING
# A public URL answering 401 this often in 5 minutes: a caller with a stale secret (a form
# provider or Club Hub after a rotation) or someone probing the URL.
UNAUTHORIZED_THRESHOLD = 20
# What the sync functions' log lines carry (clubsync.runtime.run_metrics.run_log_fields).
RUN_LINES = f"filter message in ['{RUN_FINISHED}', '{RUN_FAILED}']"


def metric(
    name: str, service: str, period: Duration = FIVE_MINUTES, label: str = ""
) -> cloudwatch.Metric:
    """A metric of ours: the stack's namespace, the one dimension `service`."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service},
        statistic="Sum",
        period=period,
        label=label or None,
    )


def every_sync_type(
    name: str, label: str, period: Duration = FIVE_MINUTES
) -> cloudwatch.MathExpression:
    """`name` summed over the service of every sync type (FILL: a type that reported nothing
    counts 0, so one silent type does not blank the sum)."""
    using = {
        f"m{index}": metric(name, sync_service(sync_type), period)
        for index, sync_type in enumerate(FULL_SYNC_ORDER)
    }
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({key}, 0)" for key in using),
        using_metrics=using,
        label=label,
        period=period,
    )


def per_sync_type(name: str, period: Duration = HOUR) -> list[cloudwatch.IMetric]:
    """One line per sync type (a bounded set: seven services, not one per location)."""
    return [
        metric(name, sync_service(sync_type), period, label=sync_type.value)
        for sync_type in FULL_SYNC_ORDER
    ]


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        member_sync: MemberSync,
        scheduling: Scheduling,
        full_sync: FullSync,
        prospect_push: ProspectPush,
        duplicates: Duplicates,
        mindbody_webhook: MindbodyWebhook,
        clubhub_pull: ClubHubPull,
        feeds: Feeds,
        follow_ups: FollowUps,
        staleness: Staleness,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        # CloudWatch cannot publish to a topic under the AWS managed SNS key: a customer key
        # whose policy lets CloudWatch use it.
        key = kms.Key(
            self,
            "AlarmTopicKey",
            enable_key_rotation=True,
            description="Encrypts the clubsync alarm topic",
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        self.topic = sns.Topic(
            self, "Alarms", master_key=key, enforce_ssl=True, display_name="clubsync alarms"
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        notify = actions.SnsAction(self.topic)

        # Every sync function's log group: the per-location views query them all.
        self.sync_log_groups: list[logs.ILogGroup] = [
            member_sync.log_group,
            *(full_sync.log_groups[t] for t in FULL_SYNC_ORDER if t in full_sync.log_groups),
        ]

        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._sync_alarms(member_sync, scheduling)
        self._full_sync_alarms(full_sync, staleness)
        self._prospect_alarms(prospect_push)
        self._duplicates_alarms(duplicates)
        self._mindbody_webhook_alarms(mindbody_webhook)
        self._clubhub_pull_alarms(clubhub_pull)
        self._feed_alarms(feeds)
        self._follow_ups_alarms(follow_ups)
        for alarm in self.alarms.values():
            # OK actions too: whoever was paged learns when it is over.
            alarm.add_alarm_action(notify)
            alarm.add_ok_action(notify)

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"clubsync-{stage}",
            default_interval=Duration.days(7),
        )
        self._sync_dashboard_rows(member_sync, scheduling, staleness)
        self._full_sync_dashboard_row(full_sync)
        self._prospect_dashboard_rows(prospect_push)
        self._duplicates_dashboard_rows(duplicates)

    # -- alarms -----------------------------------------------------------------------------
    def _alarm(
        self,
        construct_id: str,
        name: str,
        source: cloudwatch.IMetric,
        description: str,
        *,
        threshold: float = 1,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        missing: cloudwatch.TreatMissingData = NO_DATA_IS_FINE,
    ) -> cloudwatch.Alarm:
        """An alarm named `clubsync-<stage>-<name>` (what a person reads in the e-mail), kept
        under its construct id (the logical id of the deployed alarm stays the same)."""
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=f"clubsync-{self.stage}-{name}",
            alarm_description=description,
            metric=source,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=missing,
        )
        self.alarms[name] = alarm
        return alarm

    def _sync_alarms(self, member_sync: MemberSync, scheduling: Scheduling) -> None:
        sync = member_sync.function
        self._alarm(
            "SyncErrors",
            "member-sync-errors",
            sync.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            "A member sync invocation failed (a partial sync is retried, then sent to the "
            "sync dead-letter queue; in the full sync the state machine retries it).",
        )
        self._alarm(
            "FailedSyncsAlarm",
            "failed-syncs",
            every_sync_type(STATUS_METRICS[RunStatus.FAILED], "failed runs, every sync type"),
            "Sync runs of some type ended FAILED: the logs' 'sync run failed' lines and "
            "`clubsync runs --location ID` say which location and why.",
        )
        self._alarm(
            "InvalidEventsAlarm",
            "invalid-sync-events",
            every_sync_type(REFUSED_METRIC, "refused events, every sync type"),
            "Sync events refused without retry (unknown location or kind, missing billing "
            f"secret); the logs' '{EVENT_REFUSED}' lines say which.",
        )
        # Some throttling at 21:00, when every location of a zone starts its full sync, is
        # expected (events wait in Lambda's queue, the state machine retries); fifteen
        # minutes of it is not.
        self._alarm(
            "SyncThrottles",
            "member-sync-throttles",
            sync.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
            "The member sync has been throttled for 15 minutes: raise its reserved "
            "concurrency (context syncConcurrency).",
            evaluation_periods=3,
            datapoints_to_alarm=3,
        )
        self._alarm(
            "SyncDeadLetters",
            "sync-dead-letters",
            member_sync.dead_letters.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ),
            "Sync events in the dead-letter queue: redrive them (docs/operations.md).",
        )
        self._alarm(
            "RegistryDeadLetters",
            "registry-dead-letters",
            scheduling.dead_letters.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ),
            "Registry changes whose schedules could not be reconciled: run `clubsync "
            "locations reconcile`.",
        )
        self._alarm(
            "RegistryErrors",
            "registry-errors",
            scheduling.function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            "The location registry function failed to reconcile schedules.",
        )

    def _full_sync_alarms(self, full_sync: FullSync, staleness: Staleness) -> None:
        machine = full_sync.state_machine
        summary = service_name("full_sync_summary")
        # A type that fails is caught and the execution goes on: a failed execution means the
        # machinery itself broke (the summary could not be stored, an unhandled state).
        self._alarm(
            "FullSyncExecutionsFailed",
            "full-sync-executions-failed",
            machine.metric_failed(period=FIVE_MINUTES, statistic="Sum"),
            "A nightly full sync execution failed: open it in the Step Functions console, "
            "fix the cause, rerun the location (docs/operations.md).",
        )
        self._alarm(
            "FullSyncExecutionsTimedOut",
            "full-sync-executions-timed-out",
            machine.metric_timed_out(period=FIVE_MINUTES, statistic="Sum"),
            "A nightly full sync execution ran past its timeout (a type kept continuing or "
            "waiting on throttling): see the execution's history.",
        )
        self._alarm(
            "FullSyncPartlyFailed",
            "full-sync-partly-failed",
            metric(SUMMARY_METRICS["partly failed"], summary),
            "A location's nightly full sync stored a 'partly failed' summary: some types "
            "failed after their retries (`clubsync runs --summary --location ID`).",
        )
        self._alarm(
            "FullSyncFailed",
            "full-sync-failed",
            metric(SUMMARY_METRICS["failed"], summary),
            "A location's nightly full sync failed in every type (billing unreachable or "
            "credentials refused?): `clubsync runs --summary --location ID`.",
        )
        # Emitted every hour, 0 included: an hour without a point means the check did not
        # run, which must not look like "nothing is stale". Two hours, so the first hour after
        # a deploy (before the check's first run) does not page.
        self._alarm(
            "StaleLocations",
            "stale-locations",
            metric("StaleLocations", staleness.service, HOUR).with_(statistic="Maximum"),
            "Locations with no successful member sync for 26 hours (a missing schedule, a "
            "run that never ends, or one failing every night), or the hourly check did not "
            "run: the check's 'stale location' log lines name them.",
            evaluation_periods=2,
            datapoints_to_alarm=2,
            missing=cloudwatch.TreatMissingData.BREACHING,
        )

    def _prospect_alarms(self, prospect: ProspectPush) -> None:
        push = prospect.push_function
        self._alarm(
            "ProspectPushErrors",
            "prospect-push-errors",
            push.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            "A prospect push batch failed (billing unreachable, an unregistered location); "
            "its records are retried, then dead-lettered.",
        )
        # Pushes take seconds; a shard 15 minutes behind for 15 minutes is stuck on a record
        # being retried (records older than 6 hours go to the DLQ).
        self._alarm(
            "ProspectPushIteratorAge",
            "prospect-push-iterator-age",
            push.metric("IteratorAge", period=FIVE_MINUTES, statistic="Maximum"),
            "The prospect push is more than 15 minutes behind the entities table's stream: a "
            "record keeps failing (see the push logs).",
            threshold=Duration.minutes(15).to_milliseconds(),
            evaluation_periods=3,
            datapoints_to_alarm=3,
        )
        self._alarm(
            "ProspectDeadLetters",
            "prospect-dead-letters",
            prospect.dead_letters.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ),
            "Prospects the push gave up on: fix the cause, then `clubsync prospects redrive "
            "--location ID` (docs/operations.md).",
        )
        self._alarm(
            "IntakeErrors",
            "prospect-intake-errors",
            prospect.intake_function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            "The prospect intake endpoint failed (5xx to a form): a prospect may not have "
            "been recorded.",
        )
        self._alarm(
            "IntakeUnauthorized",
            "prospect-intake-unauthorized",
            metric("UnauthorizedRequests", INTAKE_SERVICE),
            f"The prospect intake URL refused {UNAUTHORIZED_THRESHOLD}+ requests in 5 minutes "
            "(401): a form provider still sends an old secret, or someone probes the URL.",
            threshold=UNAUTHORIZED_THRESHOLD,
        )

    def _mindbody_webhook_alarms(self, webhook: MindbodyWebhook) -> None:
        self._alarm(
            "MindbodyWebhookErrors",
            "mindbody-webhook-errors",
            webhook.function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            "The Mindbody webhook failed (a crash or a timeout): Mindbody redelivers for 3 "
            "hours, then the nightly pull catches up (docs/providers/mindbody.md).",
        )
        self._alarm(
            "MindbodyWebhookUnauthorized",
            "mindbody-webhook-unauthorized",
            metric("UnauthorizedRequests", MINDBODY_WEBHOOK_SERVICE),
            f"The Mindbody webhook refused {UNAUTHORIZED_THRESHOLD}+ deliveries in 5 minutes "
            "(bad X-Mindbody-Signature): the secret does not hold the subscription's "
            "messageSignatureKey, or someone probes the URL.",
            threshold=UNAUTHORIZED_THRESHOLD,
        )
        self._alarm(
            "MindbodyWebhookDeferred",
            "mindbody-webhook-deferred",
            metric("WebhookDeliveriesDeferred", MINDBODY_WEBHOOK_SERVICE),
            "Mindbody events answered 503 in 3 of the last 6 periods of 5 minutes (Mindbody "
            "unreadable, the call budget spent, or a location's secret refused): the log line "
            "'mindbody delivery' says why; Mindbody redelivers for 3 hours.",
            evaluation_periods=6,
            datapoints_to_alarm=3,
        )

    def _duplicates_alarms(self, duplicates: Duplicates) -> None:
        self._alarm(
            "ClubHubWebhookErrors",
            "clubhub-webhook-errors",
            duplicates.webhook_function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            "The Club Hub webhook failed (5xx): Club Hub redelivers, but a lasting failure "
            "means pushes are not applied (docs/clubhub.md).",
        )
        self._alarm(
            "ClubHubWebhookUnauthorized",
            "clubhub-webhook-unauthorized",
            metric("UnauthorizedRequests", WEBHOOK_SERVICE),
            f"The Club Hub webhook refused {UNAUTHORIZED_THRESHOLD}+ deliveries in 5 minutes "
            "(bad signature or stale timestamp): Club Hub signs with an old secret, or "
            "someone probes the URL.",
            threshold=UNAUTHORIZED_THRESHOLD,
        )
        self._alarm(
            "DuplicatesReportFailed",
            "duplicates-report-failed",
            duplicates.report_dead_letters.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ),
            "The weekly duplicate report could not run: invoke the duplicates report "
            "function with {} once the cause is fixed.",
        )

    def _clubhub_pull_alarms(self, clubhub_pull: ClubHubPull) -> None:
        # Two failed hours in a row: a location's pull is failing, not a passing blip (each
        # hour retries it); pushes still arrive meanwhile.
        self._alarm(
            "ClubHubPullErrors",
            "clubhub-pull-errors",
            clubhub_pull.function.metric_errors(period=HOUR, statistic="Sum"),
            "The Club Hub reconciliation pull failed two hours in a row: its log names the "
            "locations and `clubsync runs --location ID` their failed runs (Club Hub "
            'unreachable, CLUBSYNC_CLUBHUB_BASE_URL unset); re-run with {"location_id": ID}.',
            evaluation_periods=2,
            datapoints_to_alarm=2,
        )
        self._alarm(
            "ClubHubPullDeadLetters",
            "clubhub-pull-dead-letters",
            clubhub_pull.dead_letters.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ),
            "Hourly Club Hub pull events Scheduler could not deliver: check the function's "
            "permissions and concurrency.",
        )

    def _feed_alarms(self, feeds: Feeds) -> None:
        self._alarm(
            "FeedImportErrors",
            "feed-import-errors",
            feeds.function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            "A delivered file's import failed (its log names the file and the run; `clubsync "
            "runs --location ID`); Lambda retries it and a retry continues where it stopped.",
        )
        self._alarm(
            "FeedFilesRefused",
            "feed-import-refused",
            metric(FEED_REFUSED_METRIC, FEED_SERVICE),
            "A delivered file was refused and imported nothing (a header not matching its "
            "map, wrong encoding, truncated, duplicate rows, an unknown club): the function's "
            "log line 'feed file refused' gives the reason; fix and upload it again.",
        )
        self._alarm(
            "FeedDeadLetters",
            "feed-import-dead-letters",
            feeds.dead_letters.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ),
            "Delivery events EventBridge could not hand to the feed import: check its "
            "permissions; redrive the messages to the function.",
        )

    def _follow_ups_alarms(self, follow_ups: FollowUps) -> None:
        # Two failed hours in a row: a club may start its day without its list.
        self._alarm(
            "FollowUpsDueErrors",
            "followups-due-errors",
            follow_ups.function.metric_errors(period=HOUR, statistic="Sum"),
            "The follow-up due list function failed two hours in a row: clubs may start the "
            'day without their list (see its logs; re-run with {"location_id": ID}).',
            evaluation_periods=2,
            datapoints_to_alarm=2,
        )
        self._alarm(
            "FollowUpsDueDeadLetters",
            "followups-due-dead-letters",
            follow_ups.dead_letters.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ),
            "Hourly follow-up events Scheduler could not deliver: check the function's "
            "permissions and concurrency.",
        )

    # -- dashboard --------------------------------------------------------------------------
    def _log_table(
        self,
        title: str,
        log_groups: Sequence[logs.ILogGroup],
        query: list[str],
        width: int = 12,
        height: int = 8,
    ) -> cloudwatch.LogQueryWidget:
        return cloudwatch.LogQueryWidget(
            title=title,
            log_group_names=[group.log_group_name for group in log_groups],
            query_lines=query,
            view=cloudwatch.LogQueryVisualizationType.TABLE,
            width=width,
            height=height,
        )

    def _sync_dashboard_rows(
        self, member_sync: MemberSync, scheduling: Scheduling, staleness: Staleness
    ) -> None:
        sync = member_sync.function
        groups = self.sync_log_groups
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    "# clubsync syncs\n"
                    "Counts per sync type come from the run metrics (dimension `service` "
                    "only); per-location tables are Logs Insights queries over every sync "
                    "function's log lines (`sync run finished` / `sync run failed`: "
                    "`location_id`, `sync_type`, `status`, `counts`, `run_message`). Then "
                    "`clubsync runs --location ID`."
                ),
                width=24,
                height=2,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Succeeded runs per sync type",
                left=per_sync_type(STATUS_METRICS[RunStatus.SUCCEEDED]),
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Failed runs per sync type",
                left=per_sync_type(STATUS_METRICS[RunStatus.FAILED]),
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            # The worst locations: most failed runs in the dashboard's interval.
            self._log_table(
                "Worst locations: failed runs",
                groups,
                [
                    "fields @timestamp, location_id, sync_type, run_message",
                    f"filter message = '{RUN_FAILED}'",
                    "stats count(*) as failed_runs, latest(run_message) as last_reason, "
                    "latest(@timestamp) as last_failure by location_id, sync_type",
                    "sort failed_runs desc",
                    "limit 25",
                ],
            ),
            self._log_table(
                "Worst locations: quarantined records (latest run)",
                groups,
                [
                    "fields @timestamp, location_id, sync_type, counts.quarantined",
                    f"filter message = '{RUN_FINISHED}' and status = 'succeeded'",
                    "stats latest(counts.quarantined) as quarantined, "
                    "latest(@timestamp) as last_run by location_id, sync_type",
                    "sort quarantined desc",
                    "limit 25",
                ],
            ),
        )
        self.dashboard.add_widgets(
            self._log_table(
                "Stale locations (no successful member sync for 26 hours)",
                [staleness.log_group],
                [
                    "fields @timestamp, location_id, last_success, hours_since_success",
                    "filter message = 'stale location'",
                    # A row whose last_flagged is older than an hour has recovered since.
                    "stats latest(@timestamp) as last_flagged, latest(last_success) as "
                    "last_success, latest(hours_since_success) as hours by location_id",
                    "sort last_flagged desc",
                    "limit 50",
                ],
            ),
            self._log_table(
                "Latest run per location and type",
                groups,
                [
                    "fields @timestamp, location_id, sync_type, kind, status, counts.fetched, "
                    "counts.created, counts.updated, counts.quarantined, run_message",
                    RUN_LINES,
                    "stats latest(status) as last_status, latest(@timestamp) as last_run, "
                    "latest(counts.fetched) as fetched, latest(counts.created) as created, "
                    "latest(counts.updated) as updated, latest(counts.quarantined) as "
                    "quarantined by location_id, sync_type, kind",
                    # "continued", "failed", "skipped_locked" sort before "succeeded".
                    "sort last_status asc",
                ],
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Records created + updated per sync type",
                left=per_sync_type("Created") + per_sync_type("Updated"),
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Quarantined records per sync type",
                left=per_sync_type("Quarantined"),
                right=[
                    metric("StaleLocations", staleness.service, HOUR, "stale locations").with_(
                        statistic="Maximum"
                    )
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Member sync function",
                left=[
                    sync.metric_invocations(period=FIVE_MINUTES, statistic="Sum"),
                    sync.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                    sync.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
                ],
                right=[sync.metric_duration(period=FIVE_MINUTES, statistic="p90")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queues and refused events",
                left=[
                    member_sync.dead_letters.metric_approximate_number_of_messages_visible(
                        period=FIVE_MINUTES, statistic="Maximum", label="sync DLQ"
                    ),
                    scheduling.dead_letters.metric_approximate_number_of_messages_visible(
                        period=FIVE_MINUTES, statistic="Maximum", label="registry DLQ"
                    ),
                    every_sync_type(REFUSED_METRIC, "invalid events"),
                ],
                width=12,
            ),
        )

    def _full_sync_dashboard_row(self, full_sync: FullSync) -> None:
        machine = full_sync.state_machine
        summary = service_name("full_sync_summary")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Full sync executions",
                left=[
                    machine.metric_started(period=HOUR, statistic="Sum", label="started"),
                    machine.metric_succeeded(period=HOUR, statistic="Sum", label="succeeded"),
                    machine.metric_failed(period=HOUR, statistic="Sum", label="failed"),
                    machine.metric_timed_out(period=HOUR, statistic="Sum", label="timed out"),
                ],
                right=[machine.metric_time(period=HOUR, statistic="p90", label="duration p90")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Full sync summaries",
                left=[
                    metric(name, summary, HOUR, label=status)
                    for status, name in SUMMARY_METRICS.items()
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Full sync type functions (errors)",
                left=[
                    function.metric_errors(period=HOUR, statistic="Sum", label=sync_type.value)
                    for sync_type, function in full_sync.functions.items()
                ],
                width=8,
            ),
        )

    def _duplicates_dashboard_rows(self, duplicates: Duplicates) -> None:
        self.dashboard.add_widgets(
            self._log_table(
                "Duplicate groups per location (latest weekly report)",
                [duplicates.report_log_group],
                [
                    "fields @timestamp, location_id, groups",
                    "filter message = 'duplicate report stored'",
                    "stats latest(groups) as groups, latest(@timestamp) as reported by location_id",
                    "sort groups desc",
                    "limit 50",
                ],
                width=24,
            )
        )

    def _prospect_dashboard_rows(self, prospect: ProspectPush) -> None:
        push = prospect.push_function
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    "# clubsync prospect push\n"
                    "Outcomes come from the push function's logs (`prospect push`, field "
                    "`outcome`). Prospects the push gave up on are in the DLQ: "
                    "`clubsync prospects redrive --location ID`."
                ),
                width=24,
                height=2,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.LogQueryWidget(
                title="Prospect push outcomes",
                log_group_names=[prospect.push_log_group.log_group_name],
                query_lines=[
                    "fields @timestamp, outcome",
                    "filter message = 'prospect push'",
                    "stats count(*) as pushes by outcome, bin(1h)",
                ],
                view=cloudwatch.LogQueryVisualizationType.STACKEDAREA,
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Prospect push function",
                left=[
                    push.metric_invocations(period=FIVE_MINUTES, statistic="Sum"),
                    push.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                    prospect.intake_function.metric_invocations(
                        period=FIVE_MINUTES, statistic="Sum", label="intake invocations"
                    ),
                    prospect.intake_function.metric_errors(
                        period=FIVE_MINUTES, statistic="Sum", label="intake errors"
                    ),
                    prospect.dead_letters.metric_approximate_number_of_messages_visible(
                        period=FIVE_MINUTES, statistic="Maximum", label="prospect DLQ"
                    ),
                ],
                right=[
                    push.metric(
                        "IteratorAge",
                        period=FIVE_MINUTES,
                        statistic="Maximum",
                        label="stream lag (ms)",
                    )
                ],
                width=12,
            ),
        )
