"""The sandbox's MoSo extracts: the layouts it writes are the shipped maps' (written twice on
purpose, the sandbox never imports what it fakes), every version imports through the file
path, and each fault it offers is refused or quarantined as issue 14 says."""

from __future__ import annotations

from datetime import datetime

import pytest

from clubsync.domain.settings import LocationSettings
from clubsync.providers.feed.importer import ImportStatus
from clubsync.providers.feed.mapping import FileKind
from clubsync.providers.feed.reader import FeedFileError
from clubsync.providers.feeds import club_feed, import_delivery
from clubsync.providers.moso.provider import EXTRACT_VERSIONS, moso_map
from clubsync.sandbox.moso import FAULTS, LAYOUTS, moso_extracts
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository

NOW_LOCAL = datetime(2026, 11, 20, 5, 0)
CLUB = "club7"


@pytest.mark.parametrize("version", EXTRACT_VERSIONS)
def test_the_sandbox_writes_the_layout_of_the_shipped_map(version: str) -> None:
    layout, feed_map = LAYOUTS[version], moso_map(version)  # type: ignore[arg-type]
    assert layout.member_columns == feed_map.files[FileKind.MEMBERS].columns
    assert layout.employee_columns == feed_map.files[FileKind.EMPLOYEES].columns
    assert layout.ignored_member_columns == feed_map.files[FileKind.MEMBERS].ignore_columns
    assert layout.encoding == feed_map.encoding
    assert layout.date_format in feed_map.date_formats
    assert layout.datetime_format in feed_map.datetime_formats
    values = feed_map.values
    assert values.membership_type[layout.member_value] == "member"
    assert values.member_status[layout.active_value] == "active"
    assert values.member_status[layout.inactive_value] == "inactive"
    assert values.agreement_status[layout.agreement_inactive] == "inactive"
    assert values.employee_status[layout.employee_inactive] == "inactive"


def _club(version: str) -> tuple[EntityRepository, StateRepository]:
    entities = EntityRepository(MemoryItemTable("entities"))
    state = StateRepository(MemoryItemTable("state"))
    for location_id, code in (("north", "N"), ("south", "S")):
        state.put_location(
            LocationSettings(
                location_id=location_id,
                provider="moso",
                account={"club_id": CLUB, "location_code": code, "extract_version": version},
                time_zone="America/New_York",
            )
        )
    return entities, state


def _files(version: str, *faults: str) -> dict[str, bytes]:
    return moso_extracts(
        version,
        club_id=CLUB,
        locations=["N", "S"],
        members_per_location=30,
        now_local=NOW_LOCAL,
        faults=faults,
    )


@pytest.mark.parametrize("version", EXTRACT_VERSIONS)
def test_every_version_imports_members_and_employees_for_every_location(version: str) -> None:
    entities, state = _club(version)
    club = club_feed(state.locations(), "moso", CLUB)
    for name, data in _files(version).items():
        done = import_delivery(data, name, club, entities, state)
        assert done.status is ImportStatus.IMPORTED, name
        assert done.counts()["quarantined"] == 0, name
    assert len(entities.people("north")) == 30
    assert len(entities.people("south")) == 30


@pytest.mark.parametrize("version", EXTRACT_VERSIONS)
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("renamed_column", "header does not match map"),
        ("wrong_encoding", r"text \(byte \d+ cannot be read\)"),
        ("truncated", "truncated"),
        ("duplicate_row", "duplicate member_id"),
    ],
)
def test_a_bad_delivery_imports_nothing(version: str, fault: str, message: str) -> None:
    entities, state = _club(version)
    club = club_feed(state.locations(), "moso", CLUB)
    name, data = next((n, d) for n, d in _files(version, fault).items() if "ember" in n)
    with pytest.raises(FeedFileError, match=message):
        import_delivery(data, name, club, entities, state)
    assert entities.people("north") == [] and entities.people("south") == []


def test_a_bad_date_quarantines_its_row() -> None:
    entities, state = _club("2.x")
    club = club_feed(state.locations(), "moso", CLUB)
    name, data = next((n, d) for n, d in _files("2.x", "bad_date").items() if "Members" in n)
    done = import_delivery(data, name, club, entities, state)
    assert done.counts()["quarantined"] == 1
    [held] = state.quarantined("north") + state.quarantined("south")
    assert "column 'SignDate': not a date in %m/%d/%Y" in held.reason


def test_faults_are_named() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        _files("3.x", "gremlins")
    assert "bad_date" in FAULTS
