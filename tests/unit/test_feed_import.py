"""Delivered files through the file-feed path (issue 14): a snapshot merged as differences, a
ledger that imports a content once, resumes, bad files refused whole and bad rows quarantined,
one delivery for every location of a club, the club's own values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from clubsync.domain.runs import RunStatus
from clubsync.domain.settings import LocationSettings, RecordOwner
from clubsync.providers.feed.importer import FeedImport, ImportStatus
from clubsync.providers.feed.mapping import FeedMap, FileKind
from clubsync.providers.feed.reader import FeedFileError
from clubsync.providers.feeds import (
    DeliveryKey,
    DeliveryRefused,
    club_feed,
    import_delivery,
)
from clubsync.providers.moso.provider import moso_map
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.records import EMPLOYEE_REF_PREFIX, RecordRepository
from clubsync.store.state import StateRepository
from tests.providers.feed.files import extract, member_row

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
CLUB = "club-7"


def moso_location(
    location_id: str, code: str, version: str = "3.x", **account: Any
) -> LocationSettings:
    return LocationSettings(
        location_id=location_id,
        provider="moso",
        account={"club_id": CLUB, "location_code": code, "extract_version": version, **account},
        time_zone="America/Chicago",
        # Billing's contact data wins, so a changed row shows in the CRM.
        record_owner=RecordOwner.BILLING,
    )


class Club:
    def __init__(self, *locations: LocationSettings) -> None:
        self.entity_table = MemoryItemTable("entities")
        self.entities = EntityRepository(self.entity_table)
        self.state = StateRepository(MemoryItemTable("state"))
        for settings in locations or (moso_location("north", "N"),):
            self.state.put_location(settings)

    @property
    def feed_map(self) -> FeedMap:
        return club_feed(self.state.locations(), "moso", CLUB).feed_map

    def deliver(
        self, data: bytes, name: str = "club7_members_20261120.csv", **options: Any
    ) -> FeedImport:
        club = club_feed(self.state.locations(), "moso", CLUB)
        return import_delivery(
            data, name, club, self.entities, self.state, clock=lambda: NOW, **options
        )

    def members(self, rows: list[dict[str, Any]]) -> bytes:
        return extract(self.feed_map, FileKind.MEMBERS, rows)

    def people(self, location_id: str = "north") -> dict[str, Any]:
        return {p.billing_member_id: p for p in self.entities.people(location_id)}

    @property
    def written(self) -> int:
        return self.entity_table.usage.items_written


def rows(feed_map: FeedMap, count: int, code: str = "N", first: int = 1) -> list[dict[str, Any]]:
    return [member_row(feed_map, n, code) for n in range(first, first + count)]


# -- a snapshot, merged as differences -----------------------------------------------------------
def test_a_file_creates_its_members_with_their_agreements() -> None:
    club = Club()
    done = club.deliver(club.members(rows(club.feed_map, 3)))
    assert done.status is ImportStatus.IMPORTED
    assert done.counts()["created"] == 3
    people = club.people()
    assert set(people) == {"M1", "M2", "M3"}
    assert people["M1"].is_active and people["M1"].agreement_keys


def test_the_same_file_delivered_again_imports_nothing_and_writes_nothing() -> None:
    club = Club()
    data = club.members(rows(club.feed_map, 5))
    club.deliver(data)
    club.entity_table.usage.reset()
    again = club.deliver(data, name="club7_members_copy.csv")
    assert again.status is ImportStatus.ALREADY_IMPORTED
    assert again.runs == [] and club.written == 0


def test_a_later_snapshot_writes_only_what_changed_and_keeps_missing_members() -> None:
    club = Club()
    first = rows(club.feed_map, 4)
    club.deliver(club.members(first))
    # Reordered, one changed, one gone: a different file, one difference, nothing deleted.
    later = [dict(first[2], last_name="Changed"), first[0], first[1]]
    club.entity_table.usage.reset()
    done = club.deliver(club.members(later))
    counts = done.counts()
    assert (counts["unchanged"], counts["updated"]) == (2, 1)
    people = club.people()
    assert set(people) == {"M1", "M2", "M3", "M4"}  # M4 left the file, not the CRM
    assert people["M3"].contact.last_name == "Changed"


# -- bad rows are quarantined --------------------------------------------------------------------
def test_a_bad_date_or_an_unknown_value_quarantines_the_row_with_its_reason() -> None:
    club = Club()
    good = rows(club.feed_map, 2)
    bad_date = member_row(club.feed_map, 3, "N", sign_date="2026-13-45")
    unknown = member_row(club.feed_map, 4, "N", member_status="ON_HOLD")
    done = club.deliver(club.members([*good, bad_date, unknown]))
    assert done.status is ImportStatus.IMPORTED
    assert done.counts()["quarantined"] == 2
    reasons = {q.record_id: q.reason for q in club.state.quarantined("north")}
    assert reasons["M3"] == "line 4, column 'signed_on': not a date in %Y-%m-%d"
    assert reasons["M4"].startswith("line 5, column 'member_status': value 'ON_HOLD' is not in")
    assert set(club.people()) == {"M1", "M2"}


def test_the_clubs_own_values_win_over_the_maps() -> None:
    custom = {"member_status": {"ON_HOLD": "active"}, "membership_type": {"VIP": "member"}}
    club = Club(moso_location("north", "N", values=json.dumps(custom)))
    odd = member_row(club.feed_map, 1, "N", member_status="ON_HOLD", membership_type="VIP")
    done = club.deliver(club.members([odd]))
    assert done.counts()["created"] == 1
    assert club.people()["M1"].is_active


def test_times_without_an_offset_are_read_in_the_locations_zone() -> None:
    club = Club(moso_location("north", "N"))
    row = member_row(club.feed_map, 1, "N", modified_at="2026-11-19T20:30:00")
    from clubsync.providers.feed.importer import checked_file, translator_of

    data = club.members([row])
    checked = checked_file(data, "x_members_.csv", club.feed_map)
    translator = translator_of(checked, club.feed_map, moso_location("n", "N").zone, None)
    record = next(iter(checked.summary.by_location))
    assert record == "N"
    from clubsync.providers.feed.reader import rows as file_rows

    member = translator.member(next(file_rows(checked.text, club.feed_map, checked.summary)))
    assert member.modified_at == datetime(2026, 11, 20, 2, 30, tzinfo=UTC)


# -- bad files import nothing --------------------------------------------------------------------
def _refused(club: Club, data: bytes, name: str = "club7_members_20261120.csv") -> str:
    with pytest.raises(FeedFileError) as refused:
        club.deliver(data, name=name)
    assert club.entities.people("north") == []
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_a_renamed_column_refuses_the_file_naming_both_names() -> None:
    club = Club()
    data = club.members(rows(club.feed_map, 2)).replace(b"last_name", b"surname", 1)
    assert _refused(club, data) == (
        "club7_members_20261120.csv: header does not match map moso 3.x members: missing "
        "'last_name'; not in the map 'surname' (a renamed column?)"
    )


def test_a_file_in_another_encoding_is_refused() -> None:
    club = Club()
    data = club.members([member_row(club.feed_map, 1, "N", last_name="Zoë")])
    message = _refused(club, data.decode().encode("cp1252"))
    assert "not utf-8 text" in message and "set `encoding` in map moso 3.x" in message


def test_a_truncated_file_is_refused() -> None:
    club = Club()
    data = club.members(rows(club.feed_map, 3))
    message = _refused(club, data[: len(data) - 40])
    assert "truncated: the last row (line 4)" in message


def test_duplicate_rows_refuse_the_file() -> None:
    club = Club()
    some = rows(club.feed_map, 2)
    message = _refused(club, club.members([*some, some[0]]))
    assert "1 duplicate member_id row(s): line 4 repeats line 2" in message


def test_a_row_with_a_missing_field_refuses_the_file() -> None:
    club = Club()
    data = club.members(rows(club.feed_map, 2)).replace(b",Monthly,", b",", 1)
    assert "row(s) without the header's" in _refused(club, data)


def test_a_file_name_no_map_file_matches_is_refused() -> None:
    club = Club()
    message = _refused(club, club.members(rows(club.feed_map, 1)), name="checkins.csv")
    assert message.startswith("checkins.csv: no file of map moso 3.x has this name")


def test_a_refused_file_fixed_and_delivered_again_imports() -> None:
    club = Club()
    good = club.members(rows(club.feed_map, 2))
    _refused(club, good[:-30])
    assert club.deliver(good).counts()["created"] == 2


# -- one delivery, every location of the club ---------------------------------------------------
def test_one_delivery_covers_every_location_of_the_club() -> None:
    club = Club(moso_location("north", "N"), moso_location("south", "S"))
    feed_map = club.feed_map
    data = club.members(
        [
            *rows(feed_map, 2, "N"),
            *rows(feed_map, 3, "S", first=10),
            *rows(feed_map, 1, "X", first=50),
        ]
    )
    done = club.deliver(data)
    assert [run.location_id for run in done.runs] == ["north", "south"]
    assert set(club.people("north")) == {"M1", "M2"}
    assert set(club.people("south")) == {"M10", "M11", "M12"}
    assert done.unrouted == {"X": 1}


def test_a_club_has_one_extract_version() -> None:
    club = Club(moso_location("north", "N", "2.x"), moso_location("south", "S", "3.x"))
    with pytest.raises(DeliveryRefused, match="disagree on the map"):
        club_feed(club.state.locations(), "moso", CLUB)


def test_a_delivery_key_names_provider_club_and_file() -> None:
    key = DeliveryKey.parse("incoming/moso/club-7/members.csv")
    assert (key.provider, key.club_id, key.file_name, key.scope) == (
        "moso",
        "club-7",
        "members.csv",
        "moso#club-7",
    )
    with pytest.raises(DeliveryRefused, match="is not a delivery"):
        DeliveryKey.parse("members.csv")


# -- resume ------------------------------------------------------------------------------------
def test_an_import_out_of_time_continues_from_its_file_and_row() -> None:
    club = Club(moso_location("north", "N"), moso_location("south", "S"))
    feed_map = club.feed_map
    data = club.members([*rows(feed_map, 1200, "N"), *rows(feed_map, 10, "S", first=5000)])
    pauses = iter([True])
    first = club.deliver(data, should_pause=lambda: next(pauses, False))
    assert first.status is ImportStatus.CONTINUED
    assert first.runs[-1].status is RunStatus.CONTINUED
    assert first.runs[-1].counts.fetched == 500
    second = club.deliver(data)
    assert second.status is ImportStatus.IMPORTED
    # The continuation read the rows after the first page only, then the other location.
    # Counts carry over the checkpoint: 1200, not 500 + 1200 read again.
    assert second.runs[0].counts.fetched == 1200
    assert second.runs[0].run_id == first.runs[0].run_id
    assert len(club.people("north")) == 1200 and len(club.people("south")) == 10
    assert club.deliver(data).status is ImportStatus.ALREADY_IMPORTED


class Killed(BaseException):
    """The process dying between pages: nothing of ours runs after it (no failed run record,
    the lease is not released), as with a crash or Lambda's hard timeout."""


def test_an_import_killed_between_pages_continues_from_its_last_page() -> None:
    club = Club()
    data = club.members(rows(club.feed_map, 1200))
    calls = iter([False, True])

    def die_after_the_second_page() -> bool:
        if next(calls, False):
            raise Killed
        return False

    with pytest.raises(Killed):
        club.deliver(data, should_pause=die_after_the_second_page)
    assert len(club.people()) == 1000  # two pages merged, only the first checkpointed
    dead_run = club.state.checkpoint("north", "members")
    assert dead_run is not None and dead_run["next_page"] == 2

    again = club.deliver(data)
    assert again.status is ImportStatus.IMPORTED
    run = again.runs[0]
    # The dead run's own id: its lease is taken back at once, and the rows of its checkpointed
    # page are not read again (page 2 is read again and found unchanged).
    assert run.run_id == dead_run["run_id"]
    assert (run.counts.fetched, run.counts.created, run.counts.unchanged) == (1200, 700, 500)
    assert len(club.people()) == 1200
    assert club.state.checkpoint("north", "members") is None


# -- employees -----------------------------------------------------------------------------------
def test_an_employee_file_adds_the_employees_who_made_a_sale() -> None:
    club = Club()
    feed_map = club.feed_map
    employees = [
        {"employee_id": "E1", "location": "N", "first_name": "Ann", "last_name": "Lee",
         "department": "Sales", "employee_status": "ACTIVE", "email": "ann@example.org"},
        {"employee_id": "E2", "location": "N", "first_name": "Bo", "last_name": "Ray",
         "department": "Sales;Trainer", "employee_status": "TERMINATED"},
    ]  # fmt: skip
    data = extract(feed_map, FileKind.EMPLOYEES, employees)
    done = club.deliver(data, name="club7_employees_20261120.csv")
    assert done.kind is FileKind.EMPLOYEES
    assert done.counts()["created"] == 2
    refs = RecordRepository(club.entities.table).hashes("north", EMPLOYEE_REF_PREFIX)
    assert set(refs) == {"E1", "E2"}
    club.entity_table.usage.reset()
    later = extract(feed_map, FileKind.EMPLOYEES, list(reversed(employees)))
    assert club.deliver(later, name="club7_employees_20261121.csv").counts()["unchanged"] == 2
    assert club.written == 0


def test_shipped_moso_maps_are_marked_as_stand_ins() -> None:
    for version in ("2.x", "2.5.x", "3.x"):
        feed_map = moso_map(version)  # type: ignore[arg-type]
        assert "stand-in" in feed_map.stand_in
        assert set(feed_map.files) == {FileKind.MEMBERS, FileKind.EMPLOYEES}
