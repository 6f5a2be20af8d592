"""Provider-neutral windows: what the resource jobs ask for, how ABC's sources turn it into
request parameters, and how a checkpoint's saved query loads back (old shape included)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from clubsync.domain.activity import BillingCheckIn
from clubsync.domain.runs import SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.domain.windows import Sweep, Window
from clubsync.providers.abc.sources import abc_record_source
from clubsync.providers.base import SourceError
from clubsync.resources.checkins import CheckInJob
from clubsync.resources.employees import EmployeeJob
from clubsync.resources.events import EventJob
from clubsync.resources.pos import PosJob
from clubsync.resources.record_job import RecordJob
from clubsync.resources.service_agreements import ServiceAgreementJob
from clubsync.store.entities import EntityRepository
from tests.unit.sync_type_helpers import NOW

JOBS: dict[SyncType, type[RecordJob]] = {
    SyncType.CHECKINS: CheckInJob,
    SyncType.EVENTS: EventJob,
    SyncType.POS: PosJob,
    SyncType.SERVICE_AGREEMENTS: ServiceAgreementJob,
    SyncType.EMPLOYEES: EmployeeJob,
}

# What ABC is asked for at 21:00 on 2026-11-21 in Chicago (the first sync of the location):
# each range in club-local time, as before windows existed.
EXPECTED_ABC_PARAMS: dict[SyncType, list[dict[str, str]]] = {
    SyncType.CHECKINS: [{"checkInTimestampRange": "2026-11-21 00:00:00,"}],
    SyncType.EVENTS: [{"eventDateRange": "2026-10-01 00:00:00,2026-12-31 23:59:59"}],
    SyncType.POS: [{"transactionTimestampRange": "2026-10-22 00:00:00,"}],
    SyncType.SERVICE_AGREEMENTS: [
        {"saleTimestampRange": "2026-10-22 00:00:00,"},
        {"lastModifiedTimestampRange": "2026-10-22 00:00:00,"},
    ],
    SyncType.EMPLOYEES: [{}],
}


def job_of(
    sync_type: SyncType, settings: LocationSettings, entities: EntityRepository
) -> RecordJob:
    source = abc_record_source(sync_type, None, settings)
    return JOBS[sync_type](settings=settings, source=source, entities=entities)


@pytest.mark.parametrize("sync_type", sorted(JOBS))
def test_jobs_ask_for_windows_that_abc_turns_into_its_range_parameters(
    sync_type: SyncType, settings: LocationSettings, entities: EntityRepository
) -> None:
    job = job_of(sync_type, settings, entities)
    windows = job.queries(SyncKind.FULL, now=NOW, last_success=None)
    assert all(isinstance(w, Window) and w.zone == settings.time_zone for w in windows)
    source = abc_record_source(sync_type, None, settings)
    params = [source.params(w) for w in windows if isinstance(w, Window)]
    assert params == EXPECTED_ABC_PARAMS[sync_type]


@pytest.mark.parametrize("sync_type", sorted(JOBS))
def test_a_saved_window_loads_back_equal(
    sync_type: SyncType, settings: LocationSettings, entities: EntityRepository
) -> None:
    job = job_of(sync_type, settings, entities)
    for window in job.queries(SyncKind.PARTIAL, now=NOW, last_success=NOW):
        assert job.load_query(window.model_dump(mode="json")) == window


def test_a_checkpoint_of_the_old_range_query_shape_loads_as_a_window(
    settings: LocationSettings, entities: EntityRepository
) -> None:
    job = job_of(SyncType.SERVICE_AGREEMENTS, settings, entities)
    sold = job.load_query(
        {
            "name": "sold-last-30-days",
            "range_param": "saleTimestampRange",
            "start": "2026-10-22T05:00:00Z",
            "end": None,
        }
    )
    modified = job.load_query(
        {"name": "modified-since-last-sync", "range_param": "lastModifiedTimestampRange"}
    )
    everything = job_of(SyncType.EMPLOYEES, settings, entities).load_query(
        {"name": "all-employees", "range_param": None, "start": None, "end": None}
    )
    assert sold == Window(
        name="sold-last-30-days",
        sweep=Sweep.OCCURRED,
        start=datetime(2026, 10, 22, 5, 0, tzinfo=UTC),
        zone=settings.time_zone,
    )
    assert isinstance(modified, Window) and modified.sweep is Sweep.MODIFIED
    assert everything == Window.everything("all-employees", settings.time_zone)


def test_a_window_is_utc_and_refuses_naive_bounds() -> None:
    local = datetime(2026, 11, 21, 0, 0).astimezone(UTC)
    assert Window(name="w", start=local, zone="America/Chicago").start == local
    with pytest.raises(ValidationError):
        Window(name="w", start=datetime(2026, 11, 21), zone="America/Chicago")
    with pytest.raises(ValidationError):
        Window(name="w", zone="Mars/Olympus")


def test_abc_refuses_a_sweep_the_resource_has_no_range_for(settings: LocationSettings) -> None:
    source = abc_record_source(SyncType.CHECKINS, None, settings)
    window = Window(name="w", sweep=Sweep.MODIFIED, start=NOW, zone=settings.time_zone)
    with pytest.raises(SourceError, match="modified"):
        source.params(window)


def test_abc_check_ins_translate_into_the_canonical_record(settings: LocationSettings) -> None:
    source = abc_record_source(SyncType.CHECKINS, None, settings)
    checkin = source.translate(
        {
            "checkInId": "c1",
            "checkInTimestamp": "2026-11-21 08:30:00",
            "member": {"memberId": "m1", "homeClub": "0451"},
        }
    )
    assert checkin == BillingCheckIn(
        checkin_id="c1",
        billing_member_id="m1",
        system_club_id="0451",
        checked_in_at=datetime(2026, 11, 21, 14, 30, tzinfo=UTC),
        local_day=date(2026, 11, 21),
    )
