"""Running clubsync on a laptop: moto on 127.0.0.1 in place of AWS, tables from the same specs
the CDK app deploys, and the ABC provider pointed at the built-in billing sandbox."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.engine.sync_types import RECORD_SYNC_TYPES
from clubsync.providers.abc.client import AbcClientConfig, AbcCredentials
from clubsync.providers.base import Connection, MemberSource, RecordSource
from clubsync.providers.registry import connect_location
from clubsync.store.entities import EntityRepository
from clubsync.store.items import DynamoItemTable
from clubsync.store.items import dynamodb_client as store_dynamodb_client
from clubsync.store.state import StateRepository
from clubsync.store.tables import ALL_TABLES, ENTITIES, STATE, create_table_request

LOCAL_REGION = "us-east-1"
SANDBOX_SECRET = {"app_id": "sandbox", "app_key": "sandbox"}
SANDBOX_CREDENTIALS = AbcCredentials.model_validate(SANDBOX_SECRET)


def use_fake_aws_credentials() -> None:
    """moto accepts anything; set dummies so boto3 never looks for real credentials."""
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_DEFAULT_REGION", LOCAL_REGION),
    ):
        os.environ[name] = value


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on 127.0.0.1 on a free port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    use_fake_aws_credentials()
    # moto's server logs every request through werkzeug; the demo's output is the summary.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its state per process, not per server: start every server empty.
    httpx.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
    try:
        yield endpoint
    finally:
        server.stop()


def dynamodb_client(endpoint_url: str | None = None) -> Any:
    return store_dynamodb_client(endpoint_url, region=LOCAL_REGION)


def create_tables(client: Any, prefix: str = "") -> None:
    """Creates the tables (idempotent) from the definitions in `store.tables`."""
    existing = set(client.list_tables()["TableNames"])
    for spec in ALL_TABLES:
        name = f"{prefix}{spec.default_name}"
        if name not in existing:
            client.create_table(**create_table_request(spec, name))
            if spec.ttl_attribute:
                client.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
                )


@dataclass
class Repositories:
    entities: EntityRepository
    state: StateRepository


def dynamo_repositories(client: Any, prefix: str = "") -> Repositories:
    return Repositories(
        entities=EntityRepository(DynamoItemTable(client, f"{prefix}{ENTITIES.default_name}")),
        state=StateRepository(DynamoItemTable(client, f"{prefix}{STATE.default_name}")),
    )


def sandbox_client_config(base_url: str) -> AbcClientConfig:
    """The sandbox answers at once: no pacing between requests, quick back-off on faults."""
    return AbcClientConfig(**sandbox_client_options(base_url)["abc"])


def sandbox_client_options(base_url: str) -> dict[str, dict[str, Any]]:
    """The client options of a local run, per provider (the billing sandbox is ABC's)."""
    return {
        "abc": {
            "base_url": base_url,
            "min_request_interval_seconds": 0,
            "backoff_base_seconds": 0.01,
            "backoff_max_seconds": 0.05,
        }
    }


def sandbox_secret(settings: LocationSettings) -> dict[str, str]:
    """The sandbox's fixed credentials stand in for every location's secret (a location
    without `billing_secret_name` connects too)."""
    return SANDBOX_SECRET


def sandbox_connection(
    base_url: str, settings: LocationSettings, opened: list[Connection] | None = None
) -> Connection:
    """The location's provider connection, pointed at the billing sandbox at `base_url`
    (through the composition root, as in Lambda). Added to `opened` when given, so the caller
    can close it."""
    connection = connect_location(
        settings,
        sandbox_secret,
        client_options=sandbox_client_options(base_url),
    )
    if opened is not None:
        opened.append(connection)
    return connection


def sandbox_member_source(base_url: str) -> Callable[[LocationSettings], MemberSource]:
    """A member source factory talking to the billing sandbox at `base_url`."""

    def factory(settings: LocationSettings) -> MemberSource:
        return sandbox_connection(base_url, settings).member_source()

    return factory


def sandbox_sources(
    base_url: str, opened: list[Any] | None = None
) -> dict[SyncType, Callable[[LocationSettings], RecordSource]]:
    """A source factory per sync type other than members, talking to the billing sandbox.
    Connections are added to `opened` when given, so the caller can close them."""

    def factory_for(sync_type: SyncType) -> Callable[[LocationSettings], RecordSource]:
        def factory(settings: LocationSettings) -> RecordSource:
            return sandbox_connection(base_url, settings, opened).record_source(sync_type)

        return factory

    return {sync_type: factory_for(sync_type) for sync_type in RECORD_SYNC_TYPES}
