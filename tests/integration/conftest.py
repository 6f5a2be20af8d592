"""Integration fixtures: moto in-process for AWS, the billing sandbox over HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from moto import mock_aws

from clubsync.domain.settings import LocationSettings
from clubsync.runtime.local import (
    Repositories,
    create_tables,
    dynamo_repositories,
    dynamodb_client,
    use_fake_aws_credentials,
)
from clubsync.sandbox import BillingSandbox

CLUB_ZONE = ZoneInfo("America/Chicago")
# 21:00 on Friday 2026-11-20 in Chicago: the nightly full sync.
FULL_SYNC_AT = datetime(2026, 11, 20, 21, 0, tzinfo=CLUB_ZONE)


@pytest.fixture
def location() -> LocationSettings:
    return LocationSettings(
        location_id="springfield", club_number="0451", time_zone="America/Chicago"
    )


@pytest.fixture
def repos(location: LocationSettings) -> Iterator[Repositories]:
    use_fake_aws_credentials()
    with mock_aws():
        client = dynamodb_client()
        create_tables(client)
        repositories = dynamo_repositories(client)
        repositories.state.put_location(location)
        yield repositories


@pytest.fixture
def sandbox(location: LocationSettings) -> Iterator[BillingSandbox]:
    with BillingSandbox(now=FULL_SYNC_AT) as billing:
        billing.add_club(location.club_number, location.time_zone)
        yield billing
