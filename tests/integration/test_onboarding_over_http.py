"""`clubsync locations onboard`'s work over HTTP: the billing sandbox on 127.0.0.1, DynamoDB
in moto. Only active members arrive, employees too, the club's own prospects are imported,
the marker is stored; a location whose zone is not the club's is refused with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clubsync.domain.people import PersonKind
from clubsync.domain.settings import LocationSettings
from clubsync.features.onboarding import AlreadyIntegrated, ZoneMismatch, onboard_location
from clubsync.runtime.local import Repositories, sandbox_connection
from clubsync.sandbox import BillingSandbox
from clubsync.store.entities import location_pk
from tests.integration.conftest import FULL_SYNC_AT


def _clock() -> datetime:
    return FULL_SYNC_AT.astimezone(UTC)


def test_onboard_brings_active_members_employees_and_billing_prospects(
    location: LocationSettings, repos: Repositories, sandbox: BillingSandbox
) -> None:
    records = sandbox.generate_members(location.club_number, 60, seed=3, prospects=8)
    active = {
        r["memberId"] for r in records if str(r["personal"].get("isActive")).lower() == "true"
    }
    inactive = {r["memberId"] for r in records} - active
    assert active and inactive
    billing_prospects = sandbox.prospect_records(location.club_number)
    assert billing_prospects

    connection = sandbox_connection(sandbox.url, location)
    report = onboard_location(location, connection, repos.entities, repos.state, clock=_clock)
    connection.close()

    people = repos.entities.people(location.location_id)
    members = {p.billing_member_id for p in people if p.kind is PersonKind.MEMBER}
    assert members and members <= active
    assert not members & inactive
    assert report.employees is not None and report.employees.counts.created > 0
    assert report.prospects is not None
    assert report.prospects["created"] + report.prospects["matched"] == len(billing_prospects)
    imported = [p for p in people if p.kind is PersonKind.PROSPECT]
    assert len(imported) == report.prospects["created"] > 0
    assert {p.billing_member_id for p in imported} <= {r["prospectId"] for r in billing_prospects}

    marker = repos.state.integration(location.location_id)
    assert marker is not None and marker["provider"] == "abc"
    assert report.members is not None
    assert marker["members"]["run_id"] == report.members.run_id
    with pytest.raises(AlreadyIntegrated):
        onboard_location(
            location, sandbox_connection(sandbox.url, location), repos.entities, repos.state
        )


def test_a_zone_other_than_the_clubs_is_refused_with_nothing_written(
    location: LocationSettings, repos: Repositories, sandbox: BillingSandbox
) -> None:
    sandbox.generate_members(location.club_number, 20, seed=1, prospects=3)
    wrong = location.model_copy(update={"time_zone": "America/New_York"})
    repos.state.put_location(wrong)
    before = list(repos.state.table.query(location_pk(location.location_id), ""))
    connection = sandbox_connection(sandbox.url, wrong)
    with pytest.raises(ZoneMismatch) as refused:
        onboard_location(wrong, connection, repos.entities, repos.state)
    connection.close()
    assert "America/Chicago" in str(refused.value) and "\n" not in str(refused.value)
    assert repos.entities.people(location.location_id) == []
    assert list(repos.state.table.query(location_pk(location.location_id), "")) == before == []
    assert repos.state.integration(location.location_id) is None


def test_the_command_onboards_once_and_refuses_a_mismatch_in_one_line(
    location: LocationSettings, repos: Repositories, sandbox: BillingSandbox
) -> None:
    from typer.testing import CliRunner

    from clubsync.cli.main import app

    sandbox.generate_members(location.club_number, 20, seed=2, prospects=3)
    runner = CliRunner()
    base = ["locations", "onboard", location.location_id, "--sandbox", "--abc-base-url"]
    dry = runner.invoke(app, [*base, sandbox.url, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert repos.state.integration(location.location_id) is None
    done = runner.invoke(app, [*base, sandbox.url])
    assert done.exit_code == 0, done.output
    assert "integrated onto abc" in done.output
    again = runner.invoke(app, [*base, sandbox.url])
    assert again.exit_code == 1 and "already integrated" in again.output

    repos.state.put_location(
        location.model_copy(update={"location_id": "elsewhere", "time_zone": "Europe/Paris"})
    )
    refused = runner.invoke(
        app, ["locations", "onboard", "elsewhere", "--sandbox", "--abc-base-url", sandbox.url]
    )
    assert refused.exit_code == 1
    assert "Europe/Paris" in refused.output and "Traceback" not in refused.output
    assert repos.entities.people("elsewhere") == []
