"""Sync state in the state table: the location registry, watermarks, leases, checkpoints,
run records and quarantined records (keys: docs/data-model.md)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from clubsync.domain.runs import RunRecord
from clubsync.domain.settings import LocationSettings
from clubsync.store.entities import location_pk
from clubsync.store.items import ConditionFailed, Item, ItemTable, Key

LOCATIONS_PK = "LOCATIONS"
RUN_RETENTION = timedelta(days=400)
# One item per location, kept for good: a location is integrated once (per provider).
INTEGRATED_SK = "INTEGRATED#"
# A billing account's daily call count (Mindbody bills calls past an allowance) is read on the
# day it counts; a month of them is kept to look back at.
CALL_COUNT_RETENTION = timedelta(days=35)
CALL_COUNT_ATTEMPTS = 10
CONTACT_LOG_PREFIX = "CONTACTLOG#"


class QuarantinedRecord(BaseModel):
    """A billing record that failed validation, kept with its reason until a valid version of
    the same record arrives."""

    model_config = ConfigDict(extra="forbid")

    location_id: str
    sync_type: str
    record_id: str
    reason: str
    payload: dict[str, Any]
    content_hash: str
    first_seen: datetime
    last_seen: datetime


class LeaseHeld(Exception):
    """Another sync of the same location and type holds the lease."""


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class StateRepository:
    def __init__(self, table: ItemTable) -> None:
        self.table = table

    # -- location registry -------------------------------------------------------------
    def put_location(self, settings: LocationSettings) -> None:
        self.table.put(
            {"pk": LOCATIONS_PK, "sk": settings.location_id, **settings.model_dump(mode="json")}
        )

    def get_location(self, location_id: str) -> LocationSettings | None:
        item = self.table.get((LOCATIONS_PK, location_id))
        return _settings(item) if item else None

    def locations(self) -> list[LocationSettings]:
        return [_settings(item) for item in self.table.query(LOCATIONS_PK)]

    def location_ids(self) -> list[str]:
        """The registered location ids, without validating every location's settings."""
        return [str(item["sk"]) for item in self.table.query(LOCATIONS_PK)]

    def delete_location(self, location_id: str) -> None:
        self.table.delete((LOCATIONS_PK, location_id))

    # -- watermarks -----------------------------------------------------------------------
    def watermark(self, location_id: str, sync_type: str) -> datetime | None:
        item = self.table.get((location_pk(location_id), f"WATERMARK#{sync_type}"))
        return datetime.fromisoformat(item["last_success"]) if item else None

    def set_watermark(self, location_id: str, sync_type: str, last_success: datetime) -> None:
        self.table.put(
            {
                "pk": location_pk(location_id),
                "sk": f"WATERMARK#{sync_type}",
                "last_success": last_success.isoformat(),
            }
        )

    def watermarks(self, location_ids: Sequence[str], sync_type: str) -> dict[str, datetime]:
        """The last successful sync of each location that has one (BatchGetItem, 100 keys a
        request: the staleness check reads 10,000 locations in 100 requests)."""
        keys = [
            (location_pk(location_id), f"WATERMARK#{sync_type}") for location_id in location_ids
        ]
        return {
            _location_of(item["pk"]): datetime.fromisoformat(item["last_success"])
            for item in self.table.batch_get(keys)
        }

    # -- staleness check: when a location without a watermark was first seen -----------------
    def first_checked(self, location_ids: Sequence[str], sync_type: str) -> dict[str, datetime]:
        keys = [
            (location_pk(location_id), f"STALECHECK#{sync_type}") for location_id in location_ids
        ]
        return {
            _location_of(item["pk"]): datetime.fromisoformat(item["first_checked"])
            for item in self.table.batch_get(keys)
        }

    def set_first_checked(self, location_id: str, sync_type: str, when: datetime) -> None:
        self.table.put(
            {
                "pk": location_pk(location_id),
                "sk": f"STALECHECK#{sync_type}",
                "first_checked": when.isoformat(),
            }
        )

    # -- leases: one writer per location and sync type ------------------------------------------
    def acquire_lease(
        self, location_id: str, sync_type: str, owner: str, now: datetime, ttl: timedelta
    ) -> None:
        """Takes or renews the lease; raises LeaseHeld if someone else holds it unexpired."""
        try:
            self.table.put_if_free(
                {
                    "pk": location_pk(location_id),
                    "sk": f"LEASE#{sync_type}",
                    "owner": owner,
                    "expires_at": _epoch(now + ttl),
                    "acquired_at": now.isoformat(),
                },
                owner=owner,
                now_epoch=_epoch(now),
            )
        except ConditionFailed as error:
            raise LeaseHeld(
                f"another {sync_type} sync of location {location_id} is running"
            ) from error

    def release_lease(self, location_id: str, sync_type: str, owner: str) -> None:
        # A lease taken over after expiry belongs to the new owner, who releases it.
        with contextlib.suppress(ConditionFailed):
            self.table.delete((location_pk(location_id), f"LEASE#{sync_type}"), only_if_owner=owner)

    # -- initial integration (features/onboarding.py) -----------------------------------------
    def integration(self, location_id: str) -> dict[str, Any] | None:
        """The location's integration marker (when, onto which provider, what it brought in),
        or None when it was never onboarded."""
        item = self.table.get((location_pk(location_id), INTEGRATED_SK))
        return item["integration"] if item else None

    def put_integration(self, location_id: str, marker: dict[str, Any]) -> None:
        self.table.put({"pk": location_pk(location_id), "sk": INTEGRATED_SK, "integration": marker})

    # -- billing call budgets (providers/base.py, CallLedger) -------------------------------
    def calls_on(self, account_key: str, day: str) -> int:
        """Calls counted against a billing account (`mindbody#<site id>`) on a UTC day."""
        item = self.table.get((_calls_pk(account_key), day))
        return int(item["calls"]) if item else 0

    def add_calls(self, account_key: str, day: str, calls: int) -> None:
        """Adds calls to the account's day, safe against a concurrent sync of the same account
        (a conditional put on the count read, retried)."""
        if calls <= 0:
            return
        key = (_calls_pk(account_key), day)
        for _ in range(CALL_COUNT_ATTEMPTS):
            item = self.table.get(key)
            current = int(item["calls"]) if item else None
            try:
                self.table.put_expecting(
                    {
                        "pk": key[0],
                        "sk": day,
                        "calls": (current or 0) + calls,
                        "expires_at": _epoch(datetime.fromisoformat(day) + CALL_COUNT_RETENTION),
                    },
                    {"calls": current},
                )
                return
            except ConditionFailed:
                continue
        raise ConditionFailed(f"the call count of {account_key} on {day} kept changing")

    # -- follow-up contacts recorded in billing (features/follow_up_push.py) ----------------
    def contact_log_push(self, location_id: str, key: str) -> dict[str, Any] | None:
        """What became of a follow-up contact's push: {"state": "sending"|"sent", ...}."""
        item = self.table.get((location_pk(location_id), f"{CONTACT_LOG_PREFIX}{key}"))
        return item["push"] if item else None

    def put_contact_log_push(self, location_id: str, key: str, push: dict[str, Any]) -> None:
        self.table.put(
            {"pk": location_pk(location_id), "sk": f"{CONTACT_LOG_PREFIX}{key}", "push": push}
        )

    # -- checkpoints ---------------------------------------------------------------------
    def checkpoint(self, location_id: str, sync_type: str) -> dict[str, Any] | None:
        item = self.table.get(_checkpoint_key(location_id, sync_type))
        return item["checkpoint"] if item else None

    def save_checkpoint(self, location_id: str, sync_type: str, checkpoint: dict[str, Any]) -> None:
        pk, sk = _checkpoint_key(location_id, sync_type)
        self.table.put({"pk": pk, "sk": sk, "checkpoint": checkpoint})

    def clear_checkpoint(self, location_id: str, sync_type: str) -> None:
        self.table.delete(_checkpoint_key(location_id, sync_type))

    # -- delivered files (providers/feed/importer.py) ----------------------------------------
    def feed_file(self, scope: str, file_hash: str) -> dict[str, Any] | None:
        """The ledger entry of a delivered file (by its content hash) in `scope` (provider and
        club), or None when that content was never delivered there."""
        item = self.table.get((f"FEED#{scope}", f"FILE#{file_hash}"))
        return item["entry"] if item else None

    def put_feed_file(self, scope: str, file_hash: str, entry: dict[str, Any]) -> None:
        self.table.put({"pk": f"FEED#{scope}", "sk": f"FILE#{file_hash}", "entry": entry})

    # -- run records -----------------------------------------------------------------------
    def put_run(self, run: RunRecord) -> None:
        self.table.put(
            {
                "pk": location_pk(run.location_id),
                "sk": f"RUN#{run.sync_type}#{run.started_at.isoformat()}#{run.run_id}",
                "expires_at": _epoch(run.started_at + RUN_RETENTION),
                **run.model_dump(mode="json"),
            }
        )

    def runs(self, location_id: str, sync_type: str = "") -> list[RunRecord]:
        prefix = f"RUN#{sync_type}#" if sync_type else "RUN#"
        return [
            RunRecord.model_validate(_without_keys(item, RunRecord.model_fields))
            for item in self.table.query(location_pk(location_id), prefix)
        ]

    def latest_runs(self, location_id: str, sync_type: str, limit: int) -> list[RunRecord]:
        """The newest `limit` runs of one sync type, newest first (one Query, read backwards:
        the sort key orders a type's runs by start time)."""
        return [
            RunRecord.model_validate(_without_keys(item, RunRecord.model_fields))
            for item in self.table.query_last(location_pk(location_id), f"RUN#{sync_type}#", limit)
        ]

    # -- full sync summaries (one per location and club-local day) ---------------------------
    def put_run_summary(self, location_id: str, local_date: str, summary: dict[str, Any]) -> None:
        self.table.put(
            {
                "pk": location_pk(location_id),
                "sk": f"RUNSUMMARY#{local_date}",
                "expires_at": _epoch(datetime.fromisoformat(local_date) + RUN_RETENTION),
                "summary": summary,
            }
        )

    def run_summaries(self, location_id: str) -> list[dict[str, Any]]:
        return [
            item["summary"] for item in self.table.query(location_pk(location_id), "RUNSUMMARY#")
        ]

    # -- quarantine ------------------------------------------------------------------------
    def quarantine_index(self, location_id: str, sync_type: str) -> dict[str, str]:
        """record id -> content hash of what is quarantined, read once per sync."""
        return {
            item["record_id"]: item["content_hash"]
            for item in self.table.query(
                location_pk(location_id),
                f"QUARANTINE#{sync_type}#",
                projection=("record_id", "content_hash"),
            )
        }

    def quarantined(self, location_id: str, sync_type: str = "") -> list[QuarantinedRecord]:
        prefix = f"QUARANTINE#{sync_type}#" if sync_type else "QUARANTINE#"
        return [
            QuarantinedRecord.model_validate(_without_keys(item, QuarantinedRecord.model_fields))
            for item in self.table.query(location_pk(location_id), prefix)
        ]

    def save_quarantine(
        self, records: Sequence[QuarantinedRecord], released: Sequence[tuple[str, str, str]] = ()
    ) -> None:
        """Stores new or changed quarantined records and deletes (location, type, id) entries
        whose record has since arrived valid."""
        self.table.batch_write(
            [
                {
                    "pk": location_pk(record.location_id),
                    "sk": f"QUARANTINE#{record.sync_type}#{record.record_id}",
                    **record.model_dump(mode="json"),
                }
                for record in records
            ],
            [
                (location_pk(location_id), f"QUARANTINE#{sync_type}#{record_id}")
                for location_id, sync_type, record_id in released
            ],
        )


def _calls_pk(account_key: str) -> str:
    return f"CALLS#{account_key}"


def _checkpoint_key(location_id: str, sync_type: str) -> Key:
    return (location_pk(location_id), f"CHECKPOINT#{sync_type}")


def _location_of(pk: str) -> str:
    return pk.removeprefix(location_pk(""))


def _without_keys(item: Item, fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name in fields}


def _settings(item: Item) -> LocationSettings:
    return LocationSettings.model_validate(_without_keys(item, LocationSettings.model_fields))
