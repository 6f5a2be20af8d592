"""Observability: alarms to an encrypted SNS topic, and a dashboard of per-location results."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from clubsync_infra.duplicates import Duplicates
from clubsync_infra.followups import FollowUps
from clubsync_infra.full_sync import FullSync
from clubsync_infra.member_sync import MemberSync
from clubsync_infra.prospect_push import ProspectPush
from clubsync_infra.runtime import METRICS_NAMESPACE
from clubsync_infra.scheduling import Scheduling

FIVE_MINUTES = Duration.minutes(5)
HOUR = Duration.hours(1)
# No data means nothing ran or nothing failed, never an alarm.
NO_DATA_IS_FINE = cloudwatch.TreatMissingData.NOT_BREACHING


def per_location(metric: str, label: str, period: Duration = HOUR) -> cloudwatch.MathExpression:
    """One line per location: the run metrics carry the dimensions {service, location}."""
    return cloudwatch.MathExpression(
        expression=(
            f"SEARCH('{{{METRICS_NAMESPACE},location,service}} MetricName=\"{metric}\"', "
            f"'Sum', {int(period.to_seconds())})"
        ),
        label=label,
        period=period,
        using_metrics={},
    )


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
        follow_ups: FollowUps,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
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

        sync = member_sync.function
        sync_dlq = member_sync.dead_letters
        registry_dlq = scheduling.dead_letters
        service = {"service": member_sync.service}
        self.alarms = {
            "SyncErrors": sync.metric_errors(period=FIVE_MINUTES, statistic="Sum").create_alarm(
                self,
                "SyncErrors",
                alarm_description="A member sync invocation failed (it is retried, then "
                "sent to the sync dead-letter queue).",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
            "FailedSyncs": cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name="FailedSyncs",
                dimensions_map=service,
                statistic="Sum",
                period=FIVE_MINUTES,
            ).create_alarm(
                self,
                "FailedSyncsAlarm",
                alarm_description="Sync runs ended FAILED (see the run records: `clubsync runs`).",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
            "InvalidEvents": cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name="InvalidEvents",
                dimensions_map=service,
                statistic="Sum",
                period=FIVE_MINUTES,
            ).create_alarm(
                self,
                "InvalidEventsAlarm",
                alarm_description="Sync events refused without retry (unknown location or "
                "kind, missing billing secret); the logs say which.",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
            # Some throttling at 21:00, when every location of a zone starts its full sync,
            # is expected (events wait in Lambda's queue); fifteen minutes of it is not.
            "SyncThrottles": sync.metric_throttles(
                period=FIVE_MINUTES, statistic="Sum"
            ).create_alarm(
                self,
                "SyncThrottles",
                alarm_description="The member sync has been throttled for 15 minutes: raise "
                "its reserved concurrency (context syncConcurrency).",
                threshold=1,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
            "SyncDeadLetters": sync_dlq.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ).create_alarm(
                self,
                "SyncDeadLetters",
                alarm_description="Sync events in the dead-letter queue: redrive them "
                "(docs/operations.md).",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
            "RegistryDeadLetters": registry_dlq.metric_approximate_number_of_messages_visible(
                period=FIVE_MINUTES, statistic="Maximum"
            ).create_alarm(
                self,
                "RegistryDeadLetters",
                alarm_description="Registry changes whose schedules could not be reconciled: "
                "run `clubsync locations reconcile`.",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
            "RegistryErrors": scheduling.function.metric_errors(
                period=FIVE_MINUTES, statistic="Sum"
            ).create_alarm(
                self,
                "RegistryErrors",
                alarm_description="The location registry function failed to reconcile schedules.",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
        }
        self.alarms.update(self._full_sync_alarms(full_sync))
        self.alarms.update(self._prospect_alarms(prospect_push))
        self.alarms.update(self._duplicates_alarms(duplicates))
        self.alarms.update(self._follow_ups_alarms(follow_ups))
        for alarm in self.alarms.values():
            alarm.add_alarm_action(notify)

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"clubsync-{stage}",
            default_interval=Duration.days(7),
        )
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=(
                    "# clubsync member sync\n"
                    "Per-location lines come from the run records (one point per run). "
                    "A location missing from *Succeeded* for a day has not synced: check "
                    "*Failed*, the table below and `clubsync runs --location ID`."
                ),
                width=24,
                height=2,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Succeeded runs per location",
                left=[per_location("SyncSucceeded", "")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Failed runs per location",
                left=[per_location("SyncFailed", "")],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Members created + updated per location",
                left=[per_location("Created", ""), per_location("Updated", "")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Quarantined records per location",
                left=[per_location("Quarantined", "")],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.LogQueryWidget(
                title="Latest run per location and kind",
                log_group_names=[member_sync.log_group.log_group_name],
                query_lines=[
                    "fields @timestamp, location_id, kind, status, counts.fetched, "
                    "counts.created, counts.updated, counts.quarantined, run_message",
                    "filter message in ['sync run finished', 'sync run failed']",
                    "stats latest(status) as last_status, latest(@timestamp) as last_run, "
                    "latest(counts.fetched) as fetched, latest(counts.created) as created, "
                    "latest(counts.updated) as updated, latest(counts.quarantined) as "
                    "quarantined by location_id, kind",
                    "sort location_id asc",
                ],
                view=cloudwatch.LogQueryVisualizationType.TABLE,
                width=24,
                height=8,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Sync function",
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
                    cloudwatch.Metric(
                        namespace=METRICS_NAMESPACE,
                        metric_name="InvalidEvents",
                        dimensions_map=service,
                        statistic="Sum",
                        period=FIVE_MINUTES,
                        label="invalid events",
                    ),
                ],
                width=12,
            ),
        )
        self._full_sync_dashboard_row(full_sync)
        self._prospect_dashboard_rows(prospect_push)
        self._duplicates_dashboard_rows()

    def _full_sync_alarms(self, full_sync: FullSync) -> dict[str, cloudwatch.Alarm]:
        machine = full_sync.state_machine
        return {
            # A type that fails is caught and the execution goes on: a failed execution means
            # the machinery itself broke (the summary could not be stored, an unhandled state).
            "FullSyncExecutionsFailed": machine.metric_failed(
                period=FIVE_MINUTES, statistic="Sum"
            ).create_alarm(
                self,
                "FullSyncExecutionsFailed",
                alarm_description="A nightly full sync execution failed: open it in the Step "
                "Functions console, fix the cause, rerun the location (docs/operations.md).",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
            "FullSyncExecutionsTimedOut": machine.metric_timed_out(
                period=FIVE_MINUTES, statistic="Sum"
            ).create_alarm(
                self,
                "FullSyncExecutionsTimedOut",
                alarm_description="A nightly full sync execution ran past its timeout (a type "
                "kept continuing or waiting on throttling): see the execution's history.",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
        }

    def _full_sync_dashboard_row(self, full_sync: FullSync) -> None:
        machine = full_sync.state_machine
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
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Full sync type functions (errors)",
                left=[
                    function.metric_errors(period=HOUR, statistic="Sum", label=sync_type.value)
                    for sync_type, function in full_sync.functions.items()
                ],
                width=12,
            ),
        )

    def _prospect_alarms(self, prospect: ProspectPush) -> dict[str, cloudwatch.Alarm]:
        push = prospect.push_function
        return {
            "ProspectPushErrors": push.metric_errors(
                period=FIVE_MINUTES, statistic="Sum"
            ).create_alarm(
                self,
                "ProspectPushErrors",
                alarm_description="A prospect push batch failed (billing unreachable, an "
                "unregistered location); its records are retried, then dead-lettered.",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
            # Pushes take seconds; a shard 15 minutes behind for 15 minutes is stuck on a
            # record being retried (records older than 6 hours go to the DLQ).
            "ProspectPushIteratorAge": push.metric(
                "IteratorAge", period=FIVE_MINUTES, statistic="Maximum"
            ).create_alarm(
                self,
                "ProspectPushIteratorAge",
                alarm_description="The prospect push is more than 15 minutes behind the "
                "entities table's stream: a record keeps failing (see the push logs).",
                threshold=Duration.minutes(15).to_milliseconds(),
                evaluation_periods=3,
                datapoints_to_alarm=3,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
            "ProspectDeadLetters": (
                prospect.dead_letters.metric_approximate_number_of_messages_visible(
                    period=FIVE_MINUTES, statistic="Maximum"
                ).create_alarm(
                    self,
                    "ProspectDeadLetters",
                    alarm_description="Prospects the push gave up on: fix the cause, then "
                    "`clubsync prospects redrive --location ID` (docs/operations.md).",
                    threshold=1,
                    evaluation_periods=1,
                    treat_missing_data=NO_DATA_IS_FINE,
                )
            ),
            "IntakeErrors": prospect.intake_function.metric_errors(
                period=FIVE_MINUTES, statistic="Sum"
            ).create_alarm(
                self,
                "IntakeErrors",
                alarm_description="The prospect intake endpoint failed (5xx to a form): a "
                "prospect may not have been recorded.",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
        }

    def _duplicates_alarms(self, duplicates: Duplicates) -> dict[str, cloudwatch.Alarm]:
        return {
            "ClubHubWebhookErrors": duplicates.webhook_function.metric_errors(
                period=FIVE_MINUTES, statistic="Sum"
            ).create_alarm(
                self,
                "ClubHubWebhookErrors",
                alarm_description="The Club Hub webhook failed (5xx): Club Hub redelivers, "
                "but a lasting failure means pushes are not applied (docs/clubhub.md).",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
            "DuplicatesReportFailed": (
                duplicates.report_dead_letters.metric_approximate_number_of_messages_visible(
                    period=FIVE_MINUTES, statistic="Maximum"
                ).create_alarm(
                    self,
                    "DuplicatesReportFailed",
                    alarm_description="The weekly duplicate report could not run: invoke the "
                    "duplicates report function with {} once the cause is fixed.",
                    threshold=1,
                    evaluation_periods=1,
                    treat_missing_data=NO_DATA_IS_FINE,
                )
            ),
        }

    def _follow_ups_alarms(self, follow_ups: FollowUps) -> dict[str, cloudwatch.Alarm]:
        # Two failed hours in a row: a club may start its day without its list.
        return {
            "FollowUpsDueErrors": follow_ups.function.metric_errors(
                period=HOUR, statistic="Sum"
            ).create_alarm(
                self,
                "FollowUpsDueErrors",
                alarm_description="The follow-up due list function failed two hours in a row: "
                "clubs may start the day without their list (see its logs; re-run with "
                '{"location_id": ID}).',
                threshold=1,
                evaluation_periods=2,
                datapoints_to_alarm=2,
                treat_missing_data=NO_DATA_IS_FINE,
            ),
            "FollowUpsDueDeadLetters": (
                follow_ups.dead_letters.metric_approximate_number_of_messages_visible(
                    period=FIVE_MINUTES, statistic="Maximum"
                ).create_alarm(
                    self,
                    "FollowUpsDueDeadLetters",
                    alarm_description="Hourly follow-up events Scheduler could not deliver: "
                    "check the function's permissions and concurrency.",
                    threshold=1,
                    evaluation_periods=1,
                    treat_missing_data=NO_DATA_IS_FINE,
                )
            ),
        }

    def _duplicates_dashboard_rows(self) -> None:
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Duplicate groups per location (weekly report)",
                left=[
                    per_location("DuplicateGroups", "", period=Duration.days(1)),
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
