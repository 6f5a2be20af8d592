"""The README's first command, small: moto server + sandbox on 127.0.0.1, three syncs."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from clubsync.cli.demo import CLUBHUB_ACCOUNTS, run_demo
from clubsync.domain.runs import RunStatus, SyncKind

pytestmark = pytest.mark.enable_socket


def test_demo_pushes_prospects_syncs_converts_quarantines_and_replays_without_changes() -> None:
    output = io.StringIO()
    result = run_demo(200, seed=11, console=Console(file=output, width=120))
    assert result.pushed == 29
    ((_, reason),) = result.rejected
    assert "contains a period" in reason
    (full_name, full), (_, partial), (_, replay) = result.runs
    assert full_name == "full"
    assert all(run.status is RunStatus.SUCCEEDED for _, run in result.runs)
    assert full.counts.created > 0 and full.counts.converted == 20  # sold at the front desk
    assert full.counts.quarantined == 2
    assert partial.counts.updated > 0 and partial.counts.created > 0
    assert replay.counts.created == replay.counts.updated == replay.counts.converted == 0
    assert result.members == full.counts.created + full.counts.converted + partial.counts.created
    assert result.agreements >= result.members
    assert len(result.quarantined) == 2
    assert "What each sync did" in output.getvalue()
    # The rest of the nightly full sync: every other sync type ran and succeeded.
    assert [r.sync_type.value for r in result.other_types] == [
        "employees",
        "events",
        "checkins",
        "pos",
        "service_agreements",
    ]
    assert all(r.status == "succeeded" for r in result.other_types)
    assert "Run summary of" in output.getvalue()
    # The next morning: the due list stored after the club's midnight, the duplicate report.
    assert "Follow-ups due on 2026-11-22:" in output.getvalue()
    assert "Duplicate report:" in output.getvalue()
    # Club Hub, the second location, through the same engine: a pull (kind full), two pushes
    # (pending, then the real membership replacing it), a redelivery answered "duplicate", and
    # a second pull that writes nothing; every run is in the state table `clubsync runs` reads.
    clubhub = result.clubhub
    assert clubhub is not None
    assert [name for name, _ in clubhub.runs] == ["pull", "push", "push", "pull again"]
    pulled, pending, real, again = (run for _, run in clubhub.runs)
    assert all(run.status is RunStatus.SUCCEEDED for _, run in clubhub.runs)
    assert pulled.kind is again.kind is SyncKind.FULL
    assert pending.kind is real.kind is SyncKind.PUSH
    assert pulled.counts.fetched == pulled.counts.created == CLUBHUB_ACCOUNTS
    assert pending.counts.fetched == pending.counts.created == 1
    assert real.counts.fetched == real.counts.updated == 1
    assert again.counts.fetched == again.counts.unchanged == CLUBHUB_ACCOUNTS + 1
    assert again.counts.created == again.counts.updated == 0
    assert clubhub.answers == ["added", "replaced_pending", "duplicate"]
    assert clubhub.buyer_agreements == ["R-9001"]  # the pending one archived, not a copy
    assert clubhub.people == CLUBHUB_ACCOUNTS + 1
    assert f"Sync runs of {clubhub.location_id}" in output.getvalue()
