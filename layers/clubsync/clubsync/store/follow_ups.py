"""Follow-up tracks (entities table) and stored daily due lists (state table).

Keys (docs/data-model.md style):
- entities: `LOC#{location}` / `FOLLOWUP#{person_id}`: a `FollowUpTrack`, one per person
  followed up (status, local date entered, contacts made in it, appointment date).
- state: `LOC#{location}` / `FOLLOWUPS_DUE#{local date}`: the due list of that club-local day,
  kept `DUE_LIST_RETENTION` (TTL attribute `expires_at`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from clubsync.domain.follow_up_schedule import FollowUpTrack
from clubsync.store.entities import location_pk
from clubsync.store.items import Item, ItemTable
from clubsync.store.records import model_of, record_item

FOLLOW_UP_PREFIX = "FOLLOWUP#"
DUE_LIST_PREFIX = "FOLLOWUPS_DUE#"
DUE_LIST_RETENTION = timedelta(days=400)


def track_item(track: FollowUpTrack) -> Item:
    return record_item(
        location_pk(track.location_id), FOLLOW_UP_PREFIX, track.person_id, "follow_up", track
    )


class FollowUpRepository:
    """The tracks of the entities table. Callers hand over only the tracks that changed, so
    recomputing an unchanged club writes nothing."""

    def __init__(self, table: ItemTable) -> None:
        self.table = table

    def tracks(self, location_id: str) -> dict[str, FollowUpTrack]:
        """person id -> track, for a whole location (one query)."""
        return {
            item["sk"].removeprefix(FOLLOW_UP_PREFIX): model_of(item, FollowUpTrack)
            for item in self.table.query(location_pk(location_id), FOLLOW_UP_PREFIX)
        }

    def get(self, location_id: str, person_id: str) -> FollowUpTrack | None:
        item = self.table.get((location_pk(location_id), f"{FOLLOW_UP_PREFIX}{person_id}"))
        return model_of(item, FollowUpTrack) if item else None

    def save(
        self, tracks: Sequence[FollowUpTrack] = (), removed: Sequence[tuple[str, str]] = ()
    ) -> None:
        """Writes these tracks and deletes the (location, person) tracks no longer followed."""
        self.table.batch_write(
            [track_item(track) for track in tracks],
            [(location_pk(loc), f"{FOLLOW_UP_PREFIX}{person_id}") for loc, person_id in removed],
        )


class DueListRepository:
    """Stored due lists of the state table."""

    def __init__(self, table: ItemTable) -> None:
        self.table = table

    def get(self, location_id: str, local_date: date) -> dict[str, Any] | None:
        item = self.table.get((location_pk(location_id), f"{DUE_LIST_PREFIX}{local_date}"))
        return dict(item["due"]) if item else None

    def put(self, location_id: str, local_date: date, due: dict[str, Any]) -> bool:
        """Stores the list unless the same one is stored already; True when it wrote."""
        if self.get(location_id, local_date) == due:
            return False
        expires = datetime.combine(local_date, time(), tzinfo=UTC) + DUE_LIST_RETENTION
        self.table.put(
            {
                "pk": location_pk(location_id),
                "sk": f"{DUE_LIST_PREFIX}{local_date.isoformat()}",
                "expires_at": int(expires.timestamp()),
                "due": due,
            }
        )
        return True
