"""Every sync type over HTTP against the billing sandbox, with DynamoDB in moto."""

from __future__ import annotations

from datetime import UTC

import pytest

from clubsync.domain.runs import RunStatus, SyncType
from clubsync.domain.settings import LocationSettings, Product
from clubsync.engine.full_sync import run_full_sync
from clubsync.engine.scheduled import SyncDependencies, run_scheduled_sync
from clubsync.runtime.local import Repositories, sandbox_member_source, sandbox_sources
from clubsync.sandbox import BillingSandbox, Fault, FaultKind
from tests.integration.conftest import FULL_SYNC_AT

TYPES = [t for t in SyncType if t is not SyncType.MEMBERS]


@pytest.fixture
def shop(location: LocationSettings, repos: Repositories) -> LocationSettings:
    configured = location.model_copy(
        update={
            "sync_marketing_sources": True,
            "products": (Product(name="Water Bottle", upc="012345678905"),),
        }
    )
    repos.state.put_location(configured)
    return configured


def dependencies(repos: Repositories, sandbox: BillingSandbox) -> SyncDependencies:
    return SyncDependencies(
        entities=repos.entities,
        state=repos.state,
        member_source=sandbox_member_source(sandbox.url),
        sources=sandbox_sources(sandbox.url),
        clock=lambda: FULL_SYNC_AT.astimezone(UTC),
    )


def sync(deps: SyncDependencies, sync_type: SyncType) -> object:
    return run_scheduled_sync(
        {
            "location": "springfield",
            "kind": "full",
            "scheduled_time": FULL_SYNC_AT.isoformat(),
            "sync_type": sync_type.value,
        },
        deps,
    )


@pytest.mark.parametrize("sync_type", TYPES, ids=[t.value for t in TYPES])
def test_each_type_syncs_over_http_and_its_replay_writes_nothing(
    sync_type: SyncType, shop: LocationSettings, repos: Repositories, sandbox: BillingSandbox
) -> None:
    sandbox.generate_members(shop.club_number, 40, seed=3)
    sandbox.add_campaign(shop.club_number, "c1", "Referral", "PON")
    deps = dependencies(repos, sandbox)
    for prerequisite in (SyncType.MEMBERS, SyncType.EMPLOYEES):
        if prerequisite is not sync_type:
            sync(deps, prerequisite)
    first = sync(deps, sync_type)
    assert first.status is RunStatus.SUCCEEDED  # type: ignore[attr-defined]
    assert first.counts.fetched > 0  # type: ignore[attr-defined]
    assert first.counts.created > 0  # type: ignore[attr-defined]
    table = repos.entities.table
    written = table.usage.items_written
    replay = sync(deps, sync_type)
    assert replay.counts.created == replay.counts.updated == 0  # type: ignore[attr-defined]
    assert table.usage.items_written == written


def test_recurring_services_range_over_180_days_is_silently_rejected(
    shop: LocationSettings, sandbox: BillingSandbox
) -> None:
    import httpx

    answer = httpx.get(
        f"{sandbox.url}/{shop.club_number}/members/recurringservices",
        params={"saleTimestampRange": "2026-01-01,2026-11-20"},
        headers={"app_id": "sandbox", "app_key": "sandbox", "Accept": "application/json"},
    ).json()
    assert answer["recurringServices"] == []
    assert "cannot exceed 180 days" in answer["status"]["message"]


def test_pos_transactions_come_nested_under_clubs(
    shop: LocationSettings, sandbox: BillingSandbox
) -> None:
    import httpx

    sandbox.generate_members(shop.club_number, 30, seed=3)
    answer = httpx.get(
        f"{sandbox.url}/{shop.club_number}/clubs/transactions/pos",
        headers={"app_id": "sandbox", "app_key": "sandbox", "Accept": "application/json"},
    ).json()
    (club,) = answer["clubs"]
    members = {m["memberId"] for m in sandbox.members(shop.club_number)}
    assert club["transactions"]
    assert {t["memberId"] for t in club["transactions"]} <= members


def test_full_sync_over_http_tolerates_one_failing_type(
    shop: LocationSettings, repos: Repositories, sandbox: BillingSandbox
) -> None:
    sandbox.generate_members(shop.club_number, 40, seed=3)
    # Every attempt of the POS sync is refused (5 retries x 2 attempts).
    sandbox.inject_fault(Fault(kind=FaultKind.SERVER_ERROR, resource="transactions", count=10))
    summary = run_full_sync("springfield", FULL_SYNC_AT, dependencies(repos, sandbox))
    statuses = {result.sync_type: result.status for result in summary.results}
    assert statuses.pop(SyncType.POS) == "failed"
    assert set(statuses.values()) == {"succeeded"}
    assert repos.state.run_summaries("springfield")[0]["status"] == "partly failed"
