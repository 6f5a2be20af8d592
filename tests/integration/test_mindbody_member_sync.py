"""One member sync of a generated Mindbody studio, end to end: the Mindbody sandbox over HTTP
on 127.0.0.1, the location connected through the composition root, DynamoDB in moto."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from moto import mock_aws

from clubsync.domain.runs import RunStatus
from clubsync.domain.settings import LocationSettings
from clubsync.engine.scheduled import SyncDependencies, run_scheduled_sync
from clubsync.providers.registry import connect_location
from clubsync.runtime.local import (
    Repositories,
    create_tables,
    dynamo_repositories,
    dynamodb_client,
    use_fake_aws_credentials,
)
from clubsync.sandbox.mindbody import MindbodySandbox

pytestmark = pytest.mark.enable_socket

ZONE = ZoneInfo("America/New_York")
FULL_SYNC_AT = datetime(2026, 12, 2, 21, 0, tzinfo=ZONE)
SITE = "-99"
SECRET = {"api_key": "sandbox", "username": "sandbox", "password": "sandbox"}
LOCATION = LocationSettings(
    location_id="mb-studio",
    provider="mindbody",
    account={"site_id": SITE},
    time_zone="America/New_York",
)


@pytest.fixture
def repos() -> Iterator[Repositories]:
    use_fake_aws_credentials()
    with mock_aws():
        client = dynamodb_client()
        create_tables(client)
        repositories = dynamo_repositories(client)
        repositories.state.put_location(LOCATION)
        yield repositories


def day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def test_a_generated_studio_syncs_with_the_non_member_rule_and_counted_calls(
    repos: Repositories,
) -> None:
    with MindbodySandbox(now=FULL_SYNC_AT) as sandbox:
        sandbox.add_site(SITE, "America/New_York")
        sandbox.generate_studio(SITE, 150, seed=5)
        connection = connect_location(
            LOCATION,
            lambda _: SECRET,
            client_options={"mindbody": {"base_url": sandbox.url, "page_size": 50}},
            clock=lambda: sandbox.now,
        )
        deps = SyncDependencies(
            entities=repos.entities,
            state=repos.state,
            member_source=lambda _: connection.member_source(),
            clock=lambda: sandbox.now,
        )
        event = {
            "location": "mb-studio",
            "kind": "full",
            "scheduled_time": FULL_SYNC_AT.isoformat(),
        }
        try:
            run = run_scheduled_sync(event, deps)
        finally:
            connection.close()
        requests = sandbox.core.log.entries
        clients = {c["UniqueId"]: c for c in sandbox.clients(SITE)}
        contracts = {uid: sandbox.contracts(SITE, uid) for uid in clients}

    assert run.status is RunStatus.SUCCEEDED, run.message
    # Every call the provider made is one the sandbox answered, and the run says how many.
    assert run.billing_requests == len(requests)
    assert [r.path for r in requests].count("/public/v6/usertoken/issue") == 1
    people = {int(p.billing_member_id or 0): p for p in repos.entities.people("mb-studio")}
    today = FULL_SYNC_AT.date()
    for unique_id, person in people.items():
        client = clients[unique_id]
        starts_later = any(
            (day(c["StartDate"]) or today) > today and not c["TerminationDate"]
            for c in contracts[unique_id]
        )
        if client["IsProspect"]:
            assert person.kind.value == "prospect"
        elif client["Status"] == "Non-Member":
            # The vendor's rule: a Non-Member is a member only with a contract starting later.
            assert (person.kind.value == "member") is starts_later, unique_id
    future_members = [
        uid
        for uid, c in clients.items()
        if c["Status"] == "Non-Member" and not c["IsProspect"] and uid in people
        and people[uid].kind.value == "member"
    ]  # fmt: skip
    assert future_members, "the generated studio holds Non-Members with a future contract"
    # Contracts arrive as agreements, keyed by the sale's own Id.
    agreements = repos.entities.agreements("mb-studio")
    sale_ids = {str(c["Id"]) for found in contracts.values() for c in found}
    assert agreements and {a.system_id for a in agreements} <= sale_ids
    held = {a.person_id for a in agreements}
    assert {people[uid].person_id for uid in future_members} <= held
    # Contracts were read per client translated, never for a prospect.
    contract_calls = [r for r in requests if r.path.endswith("/client/clientcontracts")]
    prospects = {str(uid) for uid, c in clients.items() if c["IsProspect"]}
    asked = {r.query["request.uniqueClientId"] for r in contract_calls}
    assert asked and not asked & prospects
