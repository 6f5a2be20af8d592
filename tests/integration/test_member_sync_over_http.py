"""The member sync against the billing sandbox over HTTP and DynamoDB in moto."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from clubsync.domain.people import PersonKind
from clubsync.domain.runs import RunRecord, RunStatus, SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.engine.scheduled import SyncDependencies, run_scheduled_sync
from clubsync.resources.members import SyncFailed
from clubsync.runtime.local import Repositories, sandbox_member_source
from clubsync.sandbox import BillingSandbox, Fault, FaultKind
from tests.integration.conftest import CLUB_ZONE, FULL_SYNC_AT

pytestmark = pytest.mark.enable_socket


def sync(repos: Repositories, sandbox: BillingSandbox, kind: SyncKind, at: datetime) -> RunRecord:
    sandbox.set_clock(at)
    deps = SyncDependencies(
        entities=repos.entities,
        state=repos.state,
        member_source=sandbox_member_source(sandbox.url),
        clock=lambda: sandbox.now,
    )
    event = {"location": "springfield", "kind": kind.value, "scheduled_time": at.isoformat()}
    return run_scheduled_sync(event, deps)


def expected_full_sync_ids(sandbox: BillingSandbox, at: datetime) -> set[str]:
    since = (at - timedelta(days=90)).replace(
        hour=0, minute=0, second=0, microsecond=0, tzinfo=None
    )
    ids = set()
    for record in sandbox.members("0451"):
        personal = record["personal"]
        if (
            personal["isActive"] == "true"
            or datetime.fromisoformat(personal["lastModifiedTimestamp"]) >= since
        ):
            ids.add(record["memberId"])
    return ids


def test_full_sync_pulls_active_members_and_recently_modified_inactive_ones(
    repos: Repositories, sandbox: BillingSandbox
) -> None:
    sandbox.generate_members("0451", 300, seed=3)
    run = sync(repos, sandbox, SyncKind.FULL, FULL_SYNC_AT)
    assert run.status is RunStatus.SUCCEEDED
    expected = expected_full_sync_ids(sandbox, FULL_SYNC_AT)
    assert run.counts.fetched == len(expected)
    synced = {p.billing_member_id for p in repos.entities.people("springfield")}
    assert synced == expected
    assert run.counts.created == len(expected)
    queries = [query for method, path, query in sandbox.requests if path.endswith("/members")]
    assert queries[0]["activeStatus"] == "active" and "lastModifiedTimestampRange" not in queries[0]
    # The inactive window is written in club-local time: midnight 90 days before.
    assert queries[1]["lastModifiedTimestampRange"] == "2026-08-22 00:00:00,"


def test_an_unchanged_resync_writes_no_entity(repos: Repositories, sandbox: BillingSandbox) -> None:
    sandbox.generate_members("0451", 120, seed=4)
    sync(repos, sandbox, SyncKind.FULL, FULL_SYNC_AT)
    repos.entities.table.usage.reset()
    run = sync(repos, sandbox, SyncKind.FULL, FULL_SYNC_AT + timedelta(days=1))
    assert run.counts.unchanged == run.counts.fetched
    assert repos.entities.table.usage.items_written == 0


def member(member_id: str, modified: str, **personal: str) -> dict[str, Any]:
    return {
        "memberId": member_id,
        "personal": {
            "firstName": "Ana",
            "lastName": f"Case{member_id[-2:]}",
            "email": f"{member_id[-4:]}@example.org",
            "homeClub": "0451",
            "isActive": "true",
            "joinStatus": "Member",
            "lastModifiedTimestamp": modified,
            **personal,
        },
        "agreement": {
            "agreementNumber": member_id[-5:],
            "membershipType": "GOLD",
            "signDate": "2025-01-10",
        },
    }


def test_partial_sync_window_edges_in_club_time(
    repos: Repositories, sandbox: BillingSandbox
) -> None:
    # The last success was the previous day's 17:00 partial sync; today's first partial at 12:00
    # reaches back to 16:45 yesterday (safety margin), in club time.
    repos.state.set_watermark(
        "springfield", "members", datetime(2026, 11, 20, 17, 0, tzinfo=CLUB_ZONE)
    )
    sandbox.load_members(
        "0451",
        [
            member("a" * 30 + "01", "2026-11-20 16:44:59.999999"),  # just before the window
            member("a" * 30 + "02", "2026-11-20 16:45:00.000000"),  # exactly at the boundary
            member("a" * 30 + "12", "2026-11-20 16:45:00.000000"),  # same instant, too
            member("a" * 30 + "03", "2026-11-21 00:00:00.000000"),  # local midnight
            member("a" * 30 + "04", "2026-11-21 11:59:59.000000", isActive="false"),  # inactive too
        ],
    )
    run = sync(repos, sandbox, SyncKind.PARTIAL, datetime(2026, 11, 21, 12, 0, tzinfo=CLUB_ZONE))
    synced = sorted(p.billing_member_id or "" for p in repos.entities.people("springfield"))
    assert [s[-2:] for s in synced] == ["02", "03", "04", "12"]
    assert run.window_start == datetime(2026, 11, 20, 16, 45, tzinfo=CLUB_ZONE)


def test_partial_sync_on_a_dst_day_starts_at_local_midnight(
    repos: Repositories, sandbox: BillingSandbox
) -> None:
    # 2026-11-01: clocks fall back at 02:00 in Chicago; the day has 25 hours.
    repos.state.set_watermark(
        "springfield", "members", datetime(2026, 11, 1, 9, 0, tzinfo=CLUB_ZONE)
    )
    sandbox.load_members(
        "0451",
        [
            member("b" * 30 + "01", "2026-10-31 23:59:59.000000"),
            member("b" * 30 + "02", "2026-11-01 00:00:00.000000"),
            member("b" * 30 + "03", "2026-11-01 01:30:00.000000"),  # an hour that happens twice
        ],
    )
    sync(repos, sandbox, SyncKind.PARTIAL, datetime(2026, 11, 1, 12, 0, tzinfo=CLUB_ZONE))
    synced = sorted((p.billing_member_id or "")[-2:] for p in repos.entities.people("springfield"))
    assert synced == ["02", "03"]


def test_a_failed_partial_sync_is_caught_up_by_the_next(
    repos: Repositories, sandbox: BillingSandbox
) -> None:
    sandbox.load_members("0451", [member("c" * 30 + "01", "2026-11-19 10:00:00.000000")])
    sync(repos, sandbox, SyncKind.FULL, FULL_SYNC_AT)
    # Saturday 11:00: a change in billing; the 12:00 partial fails, the 17:00 partial runs.
    sandbox.set_clock(datetime(2026, 11, 21, 11, 0, tzinfo=CLUB_ZONE))
    sandbox.modify_member("0451", "c" * 30 + "01", {"personal.city": "Dayton"})
    sandbox.inject_fault(Fault(kind=FaultKind.SERVER_ERROR, count=10))
    with pytest.raises(SyncFailed, match="HTTP 500"):
        sync(repos, sandbox, SyncKind.PARTIAL, datetime(2026, 11, 21, 12, 0, tzinfo=CLUB_ZONE))
    assert repos.state.watermark("springfield", "members") == FULL_SYNC_AT
    sandbox.clear_faults()
    run = sync(repos, sandbox, SyncKind.PARTIAL, datetime(2026, 11, 21, 17, 0, tzinfo=CLUB_ZONE))
    assert run.counts.updated == 1
    (person,) = repos.entities.people("springfield")
    assert person.contact.city == "Dayton"


def test_transient_faults_are_retried(repos: Repositories, sandbox: BillingSandbox) -> None:
    sandbox.generate_members("0451", 30, seed=5)
    sandbox.inject_fault(Fault(kind=FaultKind.RATE_LIMIT, count=2))
    sandbox.inject_fault(Fault(kind=FaultKind.SERVER_ERROR, count=1))
    run = sync(repos, sandbox, SyncKind.FULL, FULL_SYNC_AT)
    assert run.status is RunStatus.SUCCEEDED
    assert run.billing_requests == 2 + 3  # two queries, three retried answers


def test_a_silent_rejection_fails_the_sync_and_keeps_the_watermark(
    repos: Repositories, sandbox: BillingSandbox
) -> None:
    sandbox.generate_members("0451", 10, seed=6)
    sandbox.inject_fault(
        Fault(kind=FaultKind.SILENT_REJECTION, message="Date range exceeds 31 days.")
    )
    with pytest.raises(SyncFailed, match="Date range exceeds 31 days"):
        sync(repos, sandbox, SyncKind.FULL, FULL_SYNC_AT)
    assert repos.state.watermark("springfield", "members") is None
    (run,) = repos.state.runs("springfield")
    assert run.status is RunStatus.FAILED and "silently rejected" in run.message
    assert run.billing_requests == 1


def test_an_unreadable_page_fails_the_sync(repos: Repositories, sandbox: BillingSandbox) -> None:
    sandbox.generate_members("0451", 10, seed=6)
    sandbox.inject_fault(Fault(kind=FaultKind.UNREADABLE_PAGE))
    with pytest.raises(SyncFailed, match="not JSON"):
        sync(repos, sandbox, SyncKind.FULL, FULL_SYNC_AT)
    assert repos.state.watermark("springfield", "members") is None


def test_a_malformed_record_is_quarantined_and_the_sync_completes(
    repos: Repositories, sandbox: BillingSandbox
) -> None:
    sandbox.generate_members("0451", 20, seed=8)
    sandbox.inject_fault(Fault(kind=FaultKind.MALFORMED_RECORD))
    run = sync(repos, sandbox, SyncKind.FULL, FULL_SYNC_AT)
    assert run.status is RunStatus.SUCCEEDED
    assert run.counts.quarantined == 1
    (quarantined,) = repos.state.quarantined("springfield")
    assert quarantined.reason
    assert all(p.kind is PersonKind.MEMBER for p in repos.entities.people("springfield"))


def test_unknown_location_and_kind_are_refused_with_a_clear_message(
    repos: Repositories, sandbox: BillingSandbox, location: LocationSettings
) -> None:
    from clubsync.engine.scheduled import InvalidEvent

    deps = SyncDependencies(
        entities=repos.entities, state=repos.state, member_source=sandbox_member_source(sandbox.url)
    )
    with pytest.raises(InvalidEvent, match="unknown location 'nowhere'"):
        run_scheduled_sync(
            {"location": "nowhere", "kind": "full", "scheduled_time": FULL_SYNC_AT.isoformat()},
            deps,
        )
    with pytest.raises(InvalidEvent, match="kind"):
        run_scheduled_sync(
            {
                "location": "springfield",
                "kind": "weekly",
                "scheduled_time": FULL_SYNC_AT.isoformat(),
            },
            deps,
        )
    with pytest.raises(InvalidEvent, match="scheduled_time"):
        run_scheduled_sync(
            {"location": "springfield", "kind": "full", "scheduled_time": "2026-11-20T21:00"}, deps
        )
