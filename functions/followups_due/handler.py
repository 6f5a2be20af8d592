"""Lambda: the daily follow-up due lists (EventBridge Scheduler target, every hour).

Events:
- `{}` (the hourly schedule): every location whose club-local day has no stored list yet gets
  today's, so each club has its list within the hour after its midnight;
- `{"location_id": "springfield"}` (the club-local date at invocation) or with
  `"date": "2026-11-30"`: that location's list, recomputed and stored (an operator's re-run).

Each run brings the location's follow-up tracks up to date with what the syncs stored and
stores the list in the state table under `LOC#{location}` / `FOLLOWUPS_DUE#{date}` (`clubsync
followups due` shows it live). A bad event raises ValueError saying what to fix: it is not
worth retrying.
"""

# No `from __future__ import annotations`: this file is loaded by path (Lambda, tests), not
# imported as a package module, so pydantic could not resolve postponed annotations here.

import os
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clubsync.domain.settings import LOCATION_ID_PATTERN
from clubsync.features.follow_ups import DueList, FollowUps
from clubsync.runtime.sync_lambda import table_repositories
from clubsync.store.tables import ENTITIES, STATE

logger = Logger(service="followups-due")
# One location's list takes seconds; stopping with two minutes left never cuts one in half.
TIME_MARGIN_MS = 120_000


class Environment(BaseModel):
    """What the stack sets on this function."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    entities_table: str = Field(alias=ENTITIES.env_var, min_length=3)
    state_table: str = Field(alias=STATE.env_var, min_length=3)


class DueEvent(BaseModel):
    # Unknown keys are refused: a misspelt "date" must not silently list today instead.
    model_config = ConfigDict(extra="forbid", frozen=True)

    # None: every location whose day began without a stored list (the hourly schedule).
    location_id: str | None = Field(default=None, pattern=LOCATION_ID_PATTERN)
    # Aliased: a field named `date` with a default would shadow the type in its annotation.
    local_date: date | None = Field(default=None, alias="date")


def parse_event(event: Any) -> DueEvent:
    if not isinstance(event, dict):
        raise ValueError(
            'the event must be a JSON object like {"location_id": "springfield"}, '
            f"got {type(event).__name__}"
        )
    try:
        parsed = DueEvent.model_validate(event)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or 'event'}: {e['msg']}"
            for e in error.errors()
        )
        raise ValueError(
            f"bad follow-ups event ({problems}); expected {{}} (every location whose day "
            'began) or {"location_id": "<id>"} and optionally "date": "YYYY-MM-DD"'
        ) from None
    if parsed.location_id is None and parsed.local_date is not None:
        raise ValueError('a "date" needs a "location_id": {"location_id": "<id>", "date": ...}')
    return parsed


@cache
def _follow_ups() -> FollowUps:
    # Refuses a function deployed without its table names, naming the variable.
    Environment.model_validate(dict(os.environ))
    return FollowUps(*table_repositories())


def reset() -> None:
    _follow_ups.cache_clear()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = parse_event(event)
    now = datetime.now(UTC)
    if parsed.location_id is None:
        # Stop starting locations with a margin left: the rest are the next hour's.
        result = _follow_ups().store_new_day_lists(
            now, should_stop=lambda: context.get_remaining_time_in_millis() < TIME_MARGIN_MS
        )
        for due in result.stored.values():
            _log_stored(due, written=True)
        if result.pending:
            logger.warning(
                "follow-up due lists left for the next hour: out of time",
                extra={"pending_locations": result.pending},
            )
        return {
            "stored": {
                location_id: {"date": due.date.isoformat(), "due": len(due.entries)}
                for location_id, due in result.stored.items()
            },
            "pending": result.pending,
        }
    due, written = _follow_ups().store_due_list(parsed.location_id, parsed.local_date, now)
    _log_stored(due, written=written)
    per_person = {
        group.follow_up_person_id or "unassigned": len(group.entries) for group in due.groups
    }
    return {
        "location_id": due.location_id,
        "date": due.date.isoformat(),
        "due": len(due.entries),
        "per_follow_up_person": per_person,
        "written": written,
    }


def _log_stored(due: DueList, *, written: bool) -> None:
    # Ids and counts only: the list names people, the log never does.
    logger.info(
        "follow-up due list stored",
        extra={
            "location_id": due.location_id,
            "date": due.date.isoformat(),
            "due": len(due.entries),
            "written": written,
        },
    )
