"""The DynamoDB tables, defined once.

The CDK app (infra/) builds its tables from these specs and local runs (demo, scenarios, tests)
create theirs from the same specs, so the two cannot drift. docs/data-model.md lists the access
patterns each key serves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GlobalIndexSpec:
    name: str
    partition_key: str
    sort_key: str
    # Attributes copied into the index besides the keys (INCLUDE projection).
    projected_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    env_var: str
    default_name: str
    partition_key: str = "pk"
    sort_key: str = "sk"
    global_indexes: tuple[GlobalIndexSpec, ...] = ()
    stream: bool = False
    ttl_attribute: str | None = None
    description: str = ""
    key_attributes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = [self.partition_key, self.sort_key]
        for index in self.global_indexes:
            names += [index.partition_key, index.sort_key]
        object.__setattr__(self, "key_attributes", tuple(dict.fromkeys(names)))

    def resolved_name(self, prefix: str = "") -> str:
        """The deployed name comes from the function's environment; local runs use a prefix."""
        return os.environ.get(self.env_var) or f"{prefix}{self.default_name}"


BILLING_ID_INDEX = GlobalIndexSpec(
    name="by-billing-id",
    partition_key="gsi1pk",
    sort_key="gsi1sk",
    projected_attributes=("person_id", "kind", "location_id"),
)

ENTITIES = TableSpec(
    logical_id="Entities",
    env_var="CLUBSYNC_ENTITIES_TABLE",
    default_name="clubsync-entities",
    global_indexes=(BILLING_ID_INDEX,),
    # Check-ins, events and POS transactions expire after the location's retention.
    ttl_attribute="expires_at",
    # The prospect push (DynamoDB Streams) needs old and new images of prospect records.
    stream=True,
    description="CRM data: people (prospects, members) and their agreements, per location.",
)

STATE = TableSpec(
    logical_id="State",
    env_var="CLUBSYNC_STATE_TABLE",
    default_name="clubsync-state",
    ttl_attribute="expires_at",
    # Registry changes (pk LOCATIONS) reach the schedule reconciler through the stream.
    stream=True,
    description="Location registry, watermarks, leases, checkpoints, run records, quarantine.",
)

ALL_TABLES: tuple[TableSpec, ...] = (ENTITIES, STATE)


def create_table_request(spec: TableSpec, table_name: str) -> dict[str, Any]:
    """Arguments for boto3 `create_table` matching what the CDK app deploys."""
    request: dict[str, Any] = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in spec.key_attributes
        ],
        "KeySchema": [
            {"AttributeName": spec.partition_key, "KeyType": "HASH"},
            {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
        ],
    }
    if spec.global_indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": list(index.projected_attributes),
                }
                if index.projected_attributes
                else {"ProjectionType": "KEYS_ONLY"},
            }
            for index in spec.global_indexes
        ]
    if spec.stream:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    return request
