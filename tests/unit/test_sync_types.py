"""The sync-type registry is the one list: function folders, jobs, order and partial syncs all
follow it (the infra side is in tests/infra/test_stack.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clubsync.domain.runs import SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.engine.sync_types import (
    FULL_SYNC_ORDER,
    FULL_SYNC_STAGES,
    PARTIAL_SYNC_TYPES,
    RECORD_SYNC_TYPES,
    SYNC_TYPES,
    SyncTypeSpec,
    _checked,
    full_sync_types,
    record_engine,
    spec_of,
)
from clubsync.features.scheduling import SCHEDULED_SYNCS
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def test_every_sync_type_is_registered_once() -> None:
    assert [spec.sync_type for spec in SYNC_TYPES] == list(FULL_SYNC_ORDER)
    assert set(FULL_SYNC_ORDER) == set(SyncType)


def test_every_registered_type_has_its_function_folder_and_every_sync_folder_is_registered() -> (
    None
):
    folders = {path.parent.name for path in FUNCTIONS.glob("*_sync/handler.py")}
    assert folders == {spec.function_dir for spec in SYNC_TYPES}
    for spec in SYNC_TYPES:
        handler = (FUNCTIONS / spec.function_dir / "handler.py").read_text()
        # The folder's handler runs its own type.
        assert f"sync_handler(SyncType.{spec.sync_type.name})" in handler, spec.function_dir


@pytest.mark.parametrize("spec", SYNC_TYPES, ids=lambda spec: spec.name)
def test_each_type_builds_its_own_job(
    spec: SyncTypeSpec,
    settings: LocationSettings,
    entities: EntityRepository,
    state: StateRepository,
) -> None:
    engine = record_engine(
        spec.sync_type,
        settings=settings,
        source=object(),  # type: ignore[arg-type]  # building the job reads nothing
        entities=entities,
        state=state,
    )
    assert engine.job.sync_type is spec.sync_type
    assert engine.sync_type is spec.sync_type


def test_the_nightly_order_members_then_employees_then_the_rest_side_by_side() -> None:
    assert FULL_SYNC_STAGES == (
        (SyncType.MEMBERS,),
        (SyncType.EMPLOYEES,),
        (
            SyncType.EVENTS,
            SyncType.CHECKINS,
            SyncType.POS,
            SyncType.SERVICE_AGREEMENTS,
            SyncType.MARKETING_SOURCES,
        ),
    )
    assert sum(FULL_SYNC_STAGES, ()) == FULL_SYNC_ORDER
    assert FULL_SYNC_ORDER[1:] == RECORD_SYNC_TYPES


def test_partial_syncs_run_members_and_checkins_and_each_has_a_schedule() -> None:
    assert {SyncType.MEMBERS, SyncType.CHECKINS} == PARTIAL_SYNC_TYPES
    scheduled = {sync_type for kind, sync_type in SCHEDULED_SYNCS if kind is SyncKind.PARTIAL}
    assert scheduled == PARTIAL_SYNC_TYPES


def test_a_location_option_leaves_marketing_sources_out_of_its_full_sync(
    settings: LocationSettings,
) -> None:
    enabled = settings.model_copy(update={"sync_marketing_sources": True})
    assert full_sync_types(settings) == list(FULL_SYNC_ORDER[:-1])
    assert full_sync_types(enabled) == list(FULL_SYNC_ORDER)
    assert spec_of(SyncType.MARKETING_SOURCES).runs_for(settings) is False


def test_the_registry_refuses_duplicates_and_stages_out_of_order() -> None:
    members, employees = SYNC_TYPES[0], SYNC_TYPES[1]
    with pytest.raises(ValueError, match="twice"):
        _checked((members, members))
    with pytest.raises(ValueError, match="stages"):
        _checked((employees, members))
    with pytest.raises(ValueError, match="stages"):
        _checked((members, SyncTypeSpec(SyncType.EMPLOYEES, employees.job, stage=2)))


def test_reading_the_registry_imports_no_job() -> None:
    """The location registry Lambda reads the partial types through clubsync.features.scheduling:
    its cold start must not load the jobs, the engine or the store."""
    code = (
        "import sys, clubsync.features.scheduling, clubsync.engine.sync_types; "
        "print(sorted(m for m in sys.modules if m.startswith(('clubsync.engine.', "
        "'clubsync.resources', 'clubsync.store', 'clubsync.providers'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert loaded.strip() == "['clubsync.engine.sync_types']"
