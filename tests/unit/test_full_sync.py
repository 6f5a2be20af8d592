"""The nightly full sync (runner, summary) and `run_scheduled_sync` dispatch by sync type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from clubsync.domain.runs import RunStatus, SyncKind, SyncType
from clubsync.domain.settings import EventKind, EventTypeMapping, LocationSettings, ProfitCenter
from clubsync.engine.full_sync import TypeResult, run_full_sync, summary_status
from clubsync.engine.scheduled import (
    InvalidEvent,
    NotOffered,
    SyncDependencies,
    run_scheduled_sync,
)
from clubsync.engine.sync_types import FULL_SYNC_ORDER, full_sync_types
from clubsync.providers.base import RecordSource
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository
from tests.conftest import abc_member
from tests.fakes import ListMemberSource, ListRecordSource
from tests.unit.sync_type_helpers import NOW, checkin, employee, event, source_for


def deps(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    sources: dict[SyncType, ListRecordSource],
) -> SyncDependencies:
    return SyncDependencies(
        entities=entities,
        state=state,
        member_source=lambda s: ListMemberSource([abc_member("m1")], s.zone),
        clock=lambda: NOW,
        sources={sync_type: _always(src) for sync_type, src in sources.items()},
    )


def _always(source: ListRecordSource) -> Callable[[LocationSettings], RecordSource]:
    return lambda settings: source


def all_sources(settings: LocationSettings) -> dict[SyncType, ListRecordSource]:
    records: dict[SyncType, list[dict[str, Any]]] = {
        SyncType.EMPLOYEES: [employee("e1")],
        SyncType.EVENTS: [event("v1")],
        SyncType.CHECKINS: [checkin("c1")],
        SyncType.POS: [],
        SyncType.SERVICE_AGREEMENTS: [],
        SyncType.MARKETING_SOURCES: [{"campaignId": "c1", "campaignName": "R"}],
    }
    return {t: source_for(t, settings, r) for t, r in records.items()}


def test_one_failing_type_does_not_stop_the_others_and_a_summary_is_stored(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    settings = settings.model_copy(update={"sync_marketing_sources": True})
    state.put_location(settings)
    sources = all_sources(settings)
    sources[SyncType.EMPLOYEES].fail_with = "ABC GET /employees failed 5 times"
    summary = run_full_sync("springfield", NOW, deps(settings, entities, state, sources))
    by_type = {result.sync_type: result for result in summary.results}
    assert list(by_type) == list(FULL_SYNC_ORDER)
    assert by_type[SyncType.EMPLOYEES].status == RunStatus.FAILED.value
    assert by_type[SyncType.EMPLOYEES].attempts == 2  # retried on its own
    others = [r for t, r in by_type.items() if t is not SyncType.EMPLOYEES]
    assert all(result.status == "succeeded" for result in others)
    # Without employees the event owner is missing: skipped, with the reason.
    assert by_type[SyncType.EVENTS].skip_reasons == {"event owner (employee) not found": 1}
    assert summary.status == "partly failed"
    assert summary.local_date == "2026-11-21"  # club-local day of 03:00 UTC
    (stored,) = state.run_summaries("springfield")
    assert stored["status"] == "partly failed"


def test_marketing_sources_only_in_the_full_sync_of_locations_with_the_option(
    settings: LocationSettings,
) -> None:
    assert SyncType.MARKETING_SOURCES not in full_sync_types(settings)
    enabled = settings.model_copy(update={"sync_marketing_sources": True})
    assert SyncType.MARKETING_SOURCES in full_sync_types(enabled)


def test_scheduled_event_dispatches_on_sync_type(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    dependencies = deps(settings, entities, state, all_sources(settings))
    event_ = {
        "location": "springfield",
        "kind": "full",
        "scheduled_time": NOW.isoformat(),
        "sync_type": "employees",
    }
    run = run_scheduled_sync(event_, dependencies)
    assert (run.sync_type, run.counts.created) == (SyncType.EMPLOYEES, 1)


def test_partial_syncs_run_only_members_and_checkins(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    dependencies = deps(settings, entities, state, all_sources(settings))
    base = {"location": "springfield", "kind": "partial", "scheduled_time": NOW.isoformat()}
    run = run_scheduled_sync({**base, "sync_type": "checkins"}, dependencies)
    assert run.kind is SyncKind.PARTIAL
    with pytest.raises(InvalidEvent, match="only in the full sync"):
        run_scheduled_sync({**base, "sync_type": "pos"}, dependencies)


def test_missing_source_is_an_invalid_event(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    dependencies = deps(settings, entities, state, {})
    event_ = {
        "location": "springfield",
        "kind": "full",
        "scheduled_time": NOW.isoformat(),
        "sync_type": "events",
    }
    with pytest.raises(InvalidEvent, match="no billing source"):
        run_scheduled_sync(event_, dependencies)


def test_settings_validation_names_the_problem(settings: LocationSettings) -> None:
    base = settings.model_dump()
    with pytest.raises(ValidationError, match="departments lists Trainer more than once"):
        LocationSettings.model_validate({**base, "departments": ["Trainer", "Trainer"]})
    mapping = EventTypeMapping(abc_event_name="PT", event_type="PT", kind=EventKind.PT)
    with pytest.raises(ValidationError, match="maps the ABC event name"):
        LocationSettings.model_validate({**base, "event_types": [mapping, mapping]})
    center = ProfitCenter(name="PT")
    with pytest.raises(ValidationError, match="profit_centers lists PT"):
        LocationSettings.model_validate({**base, "profit_centers": [center, center]})
    with pytest.raises(ValidationError, match="pt_opportunity_session_threshold"):
        LocationSettings.model_validate({**base, "pt_opportunity_session_threshold": -1})


def test_runs_summary_shows_each_type_of_the_day(
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rich.console import Console

    from clubsync.cli import runs

    monkeypatch.setattr(runs, "console", Console(width=200))

    sources = all_sources(settings)
    sources[SyncType.POS].fail_with = "ABC GET /clubs/transactions/pos failed 5 times"
    run_full_sync("springfield", NOW, deps(settings, entities, state, sources))
    with runs.console.capture() as captured:
        runs.show_summaries(state, "springfield", limit=5)
    text = captured.get()
    assert "2026-11-21: partly failed" in text
    assert "pos" in text and "failed" in text and "employees" in text


# -- provider capabilities ----------------------------------------------------------------
def _clubhub_location() -> LocationSettings:
    return LocationSettings(
        location_id="capital-city",
        provider="clubhub",
        account={"club_id": "AF-1203"},
        time_zone="America/Chicago",
    )


def _never(settings: LocationSettings) -> Any:
    raise AssertionError("a type the provider does not pull must not open a source")


def test_a_clubhub_full_sync_skips_every_type_touches_nothing_and_succeeds(
    entities: EntityRepository, state: StateRepository
) -> None:
    clubhub = _clubhub_location()
    state.put_location(clubhub)
    assert full_sync_types(clubhub) == []
    dependencies = SyncDependencies(
        entities=entities,
        state=state,
        member_source=_never,
        clock=lambda: NOW,
        sources=dict.fromkeys(FULL_SYNC_ORDER, _never),
    )
    seen: list[SyncType] = []
    summary = run_full_sync(
        "capital-city", NOW, dependencies, on_type=lambda r: seen.append(r.sync_type)
    )
    assert [r.sync_type for r in summary.results] == list(FULL_SYNC_ORDER) == seen
    assert {(r.status, r.message) for r in summary.results} == {
        ("skipped", "not offered by provider clubhub")
    }
    assert summary.status == "succeeded"
    # No run, lease or watermark of its own: the Club Hub pull keeps its member state alone.
    assert state.runs("capital-city") == []
    assert state.watermark("capital-city", SyncType.MEMBERS.value) is None


def test_a_direct_run_of_a_type_the_provider_does_not_pull_is_refused_before_any_lease(
    entities: EntityRepository, state: StateRepository
) -> None:
    state.put_location(_clubhub_location())
    dependencies = SyncDependencies(
        entities=entities, state=state, member_source=_never, clock=lambda: NOW
    )
    event_ = {"location": "capital-city", "kind": "partial", "scheduled_time": NOW.isoformat()}
    with pytest.raises(NotOffered, match="not offered by provider clubhub") as refused:
        run_scheduled_sync(event_, dependencies)
    assert isinstance(refused.value, InvalidEvent)
    assert state.runs("capital-city") == []


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["succeeded", "skipped"], "succeeded"),
        (["skipped"], "succeeded"),
        (["skipped", "failed"], "failed"),
        (["succeeded", "skipped", "failed"], "partly failed"),
        (["failed", "error"], "failed"),
    ],
)
def test_skipped_types_never_fail_a_summary(statuses: list[str], expected: str) -> None:
    results = [TypeResult(sync_type=SyncType.MEMBERS, status=status) for status in statuses]
    assert summary_status(results) == expected
