"""Storage: the DynamoDB tables, built from the one definition the library uses
(clubsync.store.tables), so keys, indexes, streams and TTL cannot drift from the code."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from clubsync.store.tables import ALL_TABLES, ENTITIES, STATE, TableSpec


def _attribute(name: str) -> dynamodb.Attribute:
    # Every key attribute of the model is a string (docs/data-model.md).
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Storage(Construct):
    """The entities table (CRM data) and the state table (registry, watermarks, leases, runs)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, stage: str, production: bool
    ) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.Table] = {
            spec.logical_id: self._table(spec, stage=stage, production=production)
            for spec in ALL_TABLES
        }
        self.entities = self.tables[ENTITIES.logical_id]
        self.state = self.tables[STATE.logical_id]

    def _table(self, spec: TableSpec, *, stage: str, production: bool) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            spec.logical_id,
            # A readable name: devops set CLUBSYNC_STATE_TABLE to it for the CLI.
            table_name=f"{spec.default_name}-{stage}",
            partition_key=_attribute(spec.partition_key),
            sort_key=_attribute(spec.sort_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            # The AWS-owned-by-account key (aws/dynamodb): encrypted at rest and auditable in
            # CloudTrail without a key policy every consumer must be granted.
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=production,
            removal_policy=RemovalPolicy.RETAIN if production else RemovalPolicy.DESTROY,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if spec.stream else None,
            time_to_live_attribute=spec.ttl_attribute,
        )
        for index in spec.global_indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_attribute(index.partition_key),
                sort_key=_attribute(index.sort_key),
                projection_type=dynamodb.ProjectionType.INCLUDE
                if index.projected_attributes
                else dynamodb.ProjectionType.KEYS_ONLY,
                non_key_attributes=list(index.projected_attributes) or None,
            )
        return table
