"""Delivered files (issue 14): a bucket, S3 -> EventBridge -> the feed import function, and the
optional SFTP server of AWS Transfer Family writing into the bucket (`-c feedSftp=true`).

Vendors deliver files over SFTP; on AWS that is Transfer Family into S3 (reference/providers.md
"Delivery of files in AWS terms"). Files land under `incoming/<provider>/<club id>/`; each SFTP
user (one per club, added by devops: docs/providers/file-feeds.md) is locked to its folder.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_transfer as transfer
from constructs import Construct

from clubsync.providers.feeds import INCOMING_PREFIX
from clubsync.runtime.feed_import import BUCKET_VARIABLE, SERVICE
from clubsync.store.tables import ENTITIES, STATE
from clubsync_infra.member_sync import TABLE_ACTIONS
from clubsync_infra.runtime import PythonFunction, acknowledge, failure_queue, nag_arn
from clubsync_infra.storage import Storage

# `-c feedSftp=true`: an SFTP endpoint (Transfer Family) for vendors that deliver that way.
SFTP_CONTEXT = "feedSftp"
# Delivered files are kept this long (a support engineer may replay one), then expire.
KEEP_FILES = Duration.days(90)


class Feeds(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        storage: Storage,
        layers: Sequence[lambda_.ILayerVersion],
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        # Log delivery writes through a bucket policy, not the legacy LogDeliveryWrite ACL
        # (cfn-lint W3045); set here, before the buckets, for this construct only.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=KEEP_FILES)],
            removal_policy=removal_policy,
            auto_delete_objects=False,
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the access-log bucket of the feed bucket; logging it again would loop.",
        )
        self.bucket = s3.Bucket(
            self,
            "Deliveries",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="deliveries/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=KEEP_FILES, noncurrent_version_expiration=Duration.days(7)
                )
            ],
            removal_policy=removal_policy,
        )
        # Events EventBridge could not deliver, and invocations that failed past Lambda's
        # retries: the original event, so a redrive is a plain re-invoke.
        self.dead_letters = failure_queue(self, "DeadLetters")
        # EventBridge notifications as the bucket's own property: `event_bridge_enabled` would
        # add a custom-resource Lambda (with a managed policy) to set it.
        deliveries = self.bucket.node.default_child
        assert isinstance(deliveries, s3.CfnBucket)
        deliveries.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )
        importer = PythonFunction(
            self,
            "Import",
            name="feed_import",
            handler="lambda_handler",
            description="Imports a delivered extract file into every location of its club",
            layers=layers,
            environment={
                ENTITIES.env_var: storage.entities.table_name,
                STATE.env_var: storage.state.table_name,
                BUCKET_VARIABLE: self.bucket.bucket_name,
            },
            service=SERVICE,
            # bench/feed_import.py: a 100,000-row extract's parse and translate peak well
            # under this; more memory is also more CPU.
            memory_size=1769,
            timeout=Duration.minutes(15),
            log_retention=log_retention,
            removal_policy=removal_policy,
            dead_letter_queue=self.dead_letters,
        )
        self.function = importer.function
        acknowledge(
            self.function,
            "Serverless-LambdaAsyncFailureDestination",
            "Failed asynchronous events go to the function's dead-letter queue, which keeps "
            "the original event as the message body so a redrive is a plain re-invoke.",
        )
        self.log_group = importer.log_group
        importer.grant_table(storage.entities, TABLE_ACTIONS)
        importer.grant_table(storage.state, TABLE_ACTIONS)
        importer.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.bucket.arn_for_objects(f"{INCOMING_PREFIX}*")],
            )
        )
        deliveries_id = Stack.of(self).get_logical_id(deliveries)
        # cdk-nag's id of a finding on "every object under incoming/" of the bucket.
        self.incoming_finding = (
            f"AwsSolutions-IAM5[Resource::<{deliveries_id}.Arn>/{INCOMING_PREFIX}*]"
        )
        acknowledge(
            importer.role,
            self.incoming_finding,
            "Files arrive under incoming/ with names nobody knows in advance; the function "
            "reads only that folder.",
        )
        # A paused import continues in a new invocation of this function (a policy of its
        # own: the role's default one would make the function depend on its own ARN).
        iam.Policy(
            self,
            "InvokeSelf",
            roles=[importer.role],
            statements=[
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"], resources=[self.function.function_arn]
                )
            ],
        )
        self.rule = events.Rule(
            self,
            "Delivered",
            description="A file delivered under incoming/ starts its import",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.bucket.bucket_name]},
                    "object": {"key": [{"prefix": INCOMING_PREFIX}]},
                },
            ),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    retry_attempts=4,
                    max_event_age=Duration.hours(6),
                    dead_letter_queue=self.dead_letters,
                )
            ],
        )
        self.function.configure_async_invoke(retry_attempts=2, max_event_age=Duration.hours(6))
        self.sftp: transfer.CfnServer | None = None
        if str(self.node.try_get_context(SFTP_CONTEXT) or "").lower() == "true":
            self._sftp(stage)

    def _sftp(self, stage: str) -> None:
        """A Transfer Family SFTP server (service-managed users, one per club, each with the
        `SftpUserRole` and a home of incoming/<provider>/<club id>/)."""
        logging_role = iam.Role(
            self,
            "SftpLogging",
            assumed_by=iam.ServicePrincipal("transfer.amazonaws.com"),
            inline_policies={
                "logs": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=[
                                "logs:CreateLogGroup",
                                "logs:CreateLogStream",
                                "logs:DescribeLogStreams",
                                "logs:PutLogEvents",
                            ],
                            resources=[
                                Stack.of(self).format_arn(
                                    service="logs",
                                    resource="log-group",
                                    resource_name="/aws/transfer/*",
                                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                                )
                            ],
                        )
                    ]
                )
            },
        )
        acknowledge(
            logging_role,
            f"AwsSolutions-IAM5[Resource::{nag_arn(self, 'logs', 'log-group:/aws/transfer/*')}]",
            "Transfer Family names its log group after the server id, known only once created.",
        )
        self.sftp = transfer.CfnServer(
            self,
            "Sftp",
            protocols=["SFTP"],
            identity_provider_type="SERVICE_MANAGED",
            endpoint_type="PUBLIC",
            domain="S3",
            logging_role=logging_role.role_arn,
            security_policy_name="TransferSecurityPolicy-2024-01",
            tags=[{"key": "stage", "value": stage}],
        )
        self.sftp_user_role = iam.Role(
            self,
            "SftpUserRole",
            assumed_by=iam.ServicePrincipal("transfer.amazonaws.com"),
            description="What an SFTP user of a club may do: write files under incoming/",
        )
        self.sftp_user_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{INCOMING_PREFIX}*")],
            )
        )
        self.sftp_user_role.add_to_policy(
            iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn])
        )
        acknowledge(
            self.sftp_user_role,
            self.incoming_finding,
            "Each user's session policy and home directory narrow this to its club's folder.",
        )
