"""Each location's sync schedules in EventBridge Scheduler, reconciled from the registry.

Locations are data: the schedules are created, changed and deleted by API from the location
registry (the state table's LOCATIONS items), never by CloudFormation, so the 5,000th location
needs no deploy and no stack resource (docs/decisions.md).

`desired_schedules` is pure: a location's settings in, the schedules it should have out.
`reconcile` makes one schedule group match a desired list, touching only what differs, so a
second run changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from clubsync.domain.runs import SyncKind, SyncType
from clubsync.domain.settings import FULL_SYNC_HOUR, LocationSettings
from clubsync.engine.sync_types import (
    PARTIAL_SYNC_ORDER,
    full_sync_types,
    partial_sync_types,
    spec_of,
)

# Scheduler retries only the delivery to the target (throttling, service errors); a function's
# own failures are retried by Lambda's asynchronous invocation settings, a full sync's by the
# state machine's Retry (infra/).
RETRY_ATTEMPTS = 3
# A sync delivered more than an hour late is pointless: the next schedule catches up from the
# watermark. The event then goes to the dead-letter queue, where the alarm sees it.
MAX_EVENT_AGE_SECONDS = 3600
SCHEDULED_TIME_PLACEHOLDER = "<aws.scheduler.scheduled-time>"
# Scheduler's limit on schedule names.
MAX_NAME_LENGTH = 64
# Every location of a zone has its full sync at 21:00: with a flexible window Scheduler starts
# each one at a time of its choosing within that many minutes after 21:00, so 10,000 locations
# arrive over the window instead of in the same second (docs/operations.md, "The 21:00
# burst"). The sync still counts as 21:00's: `<aws.scheduler.scheduled-time>` is the time the
# schedule names, not the moment of delivery, and the engine's windows and the day's summary
# are computed from it. 0 turns the window off. Set per deployment (the stack's
# fullSyncWindowMinutes context -> FULL_SYNC_WINDOW_ENV on the registry function).
FULL_SYNC_WINDOW_MINUTES = 15
FULL_SYNC_WINDOW_ENV = "CLUBSYNC_FULL_SYNC_WINDOW_MINUTES"
# Scheduler's own bounds on MaximumWindowInMinutes; a window past 02:00 would also leave 21:00's
# day in a zone whose clocks change at 02:00, so 180 minutes is the most this project allows.
MAX_FULL_SYNC_WINDOW_MINUTES = 180


def full_sync_window_minutes(value: int | str | None = None) -> int:
    """The full sync's flexible window: `value`, else FULL_SYNC_WINDOW_ENV, else the default.
    A value that is not a whole number of minutes from 0 to 180 is refused in one line."""
    raw = os.environ.get(FULL_SYNC_WINDOW_ENV) if value is None else value
    if raw is None or raw == "":
        return FULL_SYNC_WINDOW_MINUTES
    try:
        minutes = int(raw)
    except ValueError:
        minutes = -1
    if not 0 <= minutes <= MAX_FULL_SYNC_WINDOW_MINUTES:
        raise ValueError(
            f"{FULL_SYNC_WINDOW_ENV} (the full sync's flexible window) must be a whole number "
            f"of minutes from 0 (off) to {MAX_FULL_SYNC_WINDOW_MINUTES}, got {raw!r}"
        )
    return minutes


@dataclass(frozen=True)
class ScheduleSpec:
    """One schedule as Scheduler should hold it."""

    name: str
    group: str
    location_id: str
    kind: SyncKind
    expression: str
    time_zone: str
    target_arn: str
    role_arn: str
    dlq_arn: str
    input: str
    retry_attempts: int = RETRY_ATTEMPTS
    max_event_age_seconds: int = MAX_EVENT_AGE_SECONDS
    description: str = ""
    # Scheduler's flexible time window; 0: delivered at the scheduled minute.
    flexible_window_minutes: int = 0

    def flexible_time_window(self) -> dict[str, Any]:
        if self.flexible_window_minutes:
            return {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": self.flexible_window_minutes}
        return {"Mode": "OFF"}

    def request(self) -> dict[str, Any]:
        """Arguments for `create_schedule` and `update_schedule` (update replaces everything)."""
        return {"Name": self.name, "GroupName": self.group, **self.comparable()}

    def comparable(self) -> dict[str, Any]:
        """The fields reconcile compares with what Scheduler holds."""
        return {
            "Description": self.description,
            "ScheduleExpression": self.expression,
            "ScheduleExpressionTimezone": self.time_zone,
            "FlexibleTimeWindow": self.flexible_time_window(),
            "State": "ENABLED",
            "Target": {
                "Arn": self.target_arn,
                "RoleArn": self.role_arn,
                "Input": self.input,
                "RetryPolicy": {
                    "MaximumRetryAttempts": self.retry_attempts,
                    "MaximumEventAgeInSeconds": self.max_event_age_seconds,
                },
                "DeadLetterConfig": {"Arn": self.dlq_arn},
            },
        }


def schedule_name(location_id: str, kind: SyncKind, sync_type: SyncType = SyncType.MEMBERS) -> str:
    """`{location}-{sync type}-{kind}`; a location id too long for Scheduler's 64 characters is
    shortened with a hash of the whole id, so names stay unique and stable. The full sync keeps
    its historical name `{location}-members-full` although it now starts every type: existing
    schedules are updated in place, never deleted and recreated."""
    suffix = f"-{sync_type.value}-{kind.value}"
    if len(location_id) + len(suffix) <= MAX_NAME_LENGTH:
        return f"{location_id}{suffix}"
    digest = hashlib.sha256(location_id.encode()).hexdigest()[:8]
    keep = MAX_NAME_LENGTH - len(suffix) - len(digest) - 1
    return f"{location_id[:keep]}-{digest}{suffix}"


# Every (kind, sync type) a location can have a schedule for: the full sync (its historical
# members name, see schedule_name) and each partial-sync type of the registry.
SCHEDULED_SYNCS: tuple[tuple[SyncKind, SyncType], ...] = (
    (SyncKind.FULL, SyncType.MEMBERS),
    *((SyncKind.PARTIAL, sync_type) for sync_type in PARTIAL_SYNC_ORDER),
)
# Where the deployed registry function (and the CLI) find the targets it is not given
# explicitly: set by the stack (infra/clubsync_infra/scheduling.py); stack outputs for the CLI.
FULL_SYNC_TARGET_ENV = "CLUBSYNC_FULL_SYNC_STATE_MACHINE_ARN"


def partial_target_env(sync_type: SyncType) -> str:
    """The variable naming the function of a partial-sync type other than members (members'
    function is `target_arn`, the registry function's CLUBSYNC_SYNC_FUNCTION_ARN)."""
    return f"CLUBSYNC_{sync_type.value.upper()}_SYNC_FUNCTION_ARN"


# The check-in one by name: `clubsync locations` (--checkins-arn) reads it.
CHECKINS_TARGET_ENV = partial_target_env(SyncType.CHECKINS)


def location_schedule_names(location_id: str) -> set[str]:
    """Every name a location's schedules can have, whatever its settings."""
    return {schedule_name(location_id, kind, sync_type) for kind, sync_type in SCHEDULED_SYNCS}


def hours_field(hours: Iterable[int]) -> str:
    """The cron hours field: a range for a run of three or more consecutive hours ('9-20'),
    a comma list otherwise ('12,17')."""
    ordered = sorted(set(hours))
    if not ordered:
        raise ValueError("at least one hour is needed")
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}-{ordered[-1]}"
    return ",".join(str(hour) for hour in ordered)


def cron_at_hours(hours: Iterable[int]) -> str:
    return f"cron(0 {hours_field(hours)} * * ? *)"


def event_input(location_id: str, kind: SyncKind, sync_type: SyncType = SyncType.MEMBERS) -> str:
    """The event the target receives (a sync function's event, or the full sync state
    machine's execution input); Scheduler fills in the scheduled time. Members events carry
    no `sync_type` (the default), so existing schedules stay unchanged."""
    event: dict[str, str] = {
        "location": location_id,
        "kind": kind.value,
        "scheduled_time": SCHEDULED_TIME_PLACEHOLDER,
    }
    if sync_type is not SyncType.MEMBERS:
        event["sync_type"] = sync_type.value
    return json.dumps(event, separators=(",", ":"))


def _from_environment(value: str | None, variable: str) -> str | None:
    if value is not None:
        return value or None
    return os.environ.get(variable) or None


def desired_schedules(
    settings: LocationSettings,
    *,
    target_arn: str,
    role_arn: str,
    dlq_arn: str,
    group: str,
    full_sync_arn: str | None = None,
    checkins_arn: str | None = None,
    partial_arns: Mapping[SyncType, str | None] | None = None,
    full_sync_window: int | None = None,
) -> list[ScheduleSpec]:
    """The sync schedules of one location, in its own time zone:

    - the full sync at 21:00: an execution of the full sync state machine (`full_sync_arn`),
      or, without one, the member sync function (`target_arn`) as before issue 5; delivered
      within `full_sync_window` minutes after 21:00 (default `full_sync_window_minutes()`);
    - the partial syncs at its partial hours (none when it has none), one per partial-sync
      type of the registry (clubsync.engine.sync_types: members and check-ins): the member
      sync (`target_arn`) and every other type's function from `partial_arns` (the check-in
      one also as `checkins_arn`); a type without a function has no schedule
      (docs/decisions.md: "partial syncs run members and check-ins").

    Only what the location's provider pulls is scheduled (its `capabilities`,
    clubsync.providers.registry): partial schedules for the partial types it offers, and no
    full sync when its full sync would run nothing. A Club Hub location gets no schedule here
    at all: its own hourly reconciliation Lambda pulls it (functions/clubhub_pull).

    Targets not given (None) are read from the environment (FULL_SYNC_TARGET_ENV,
    `partial_target_env(type)`), as the stack sets them on the registry function; an empty
    string means "none"."""
    full_sync_arn = _from_environment(full_sync_arn, FULL_SYNC_TARGET_ENV)
    window = full_sync_window_minutes(full_sync_window)
    given = {SyncType.CHECKINS: checkins_arn, **(partial_arns or {})}
    location_id = settings.location_id
    plan: list[tuple[SyncKind, SyncType, tuple[int, ...], str, str]] = []
    full_types = full_sync_types(settings)
    # Without the state machine the full sync is the member sync alone: it needs members.
    if full_types and (full_sync_arn or SyncType.MEMBERS in full_types):
        plan.append(
            (
                SyncKind.FULL,
                SyncType.MEMBERS,
                (FULL_SYNC_HOUR,),
                full_sync_arn or target_arn,
                f"clubsync full sync (every type) of {location_id}"
                if full_sync_arn
                else f"clubsync full member sync of {location_id}",
            )
        )
    # No partial hours, no partial syncs.
    partial_hours = settings.effective_partial_sync_hours()
    for sync_type in partial_sync_types(settings) if partial_hours else ():
        target = (
            target_arn
            if sync_type is SyncType.MEMBERS
            else _from_environment(given.get(sync_type), partial_target_env(sync_type))
        )
        if target is not None:
            plan.append(
                (
                    SyncKind.PARTIAL,
                    sync_type,
                    partial_hours,
                    target,
                    f"clubsync partial {spec_of(sync_type).label} sync of {location_id}",
                )
            )
    return [
        ScheduleSpec(
            name=schedule_name(location_id, kind, sync_type),
            group=group,
            location_id=location_id,
            kind=kind,
            expression=cron_at_hours(hours),
            time_zone=settings.time_zone,
            target_arn=target,
            role_arn=role_arn,
            dlq_arn=dlq_arn,
            input=event_input(location_id, kind, sync_type),
            description=description,
            # Partial syncs stay on the hour: they are small, and a location chose the hour.
            flexible_window_minutes=window if kind is SyncKind.FULL else 0,
        )
        for kind, sync_type, hours, target, description in plan
    ]


def unsafe_local_hours(time_zone: str, hours: Iterable[int], year: int) -> dict[int, str]:
    """Hours that a daylight-saving change skips or repeats in `year` in that zone, with
    why. Scheduler skips a missing local time and may run a repeated one twice: harmless for a
    partial sync (the next one catches up; merges are idempotent) but worth a warning."""
    return dict(_unsafe_local_hours(time_zone, tuple(sorted(set(hours))), year))


@lru_cache(maxsize=1024)
def _unsafe_local_hours(
    time_zone: str, hours: tuple[int, ...], year: int
) -> tuple[tuple[int, str], ...]:
    # Cached: a registry of thousands of locations uses a few dozen zones and hour sets.
    zone = ZoneInfo(time_zone)
    wanted = set(hours)
    problems: dict[int, str] = {}
    day = date(year, 1, 1)
    while day.year == year:
        for hour in wanted - problems.keys():
            local = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
            round_trip = local.astimezone(ZoneInfo("UTC")).astimezone(zone)
            if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
                problems[hour] = f"{hour:02d}:00 does not exist on {day} (clocks go forward)"
            elif local.replace(fold=1).utcoffset() != local.utcoffset():
                problems[hour] = f"{hour:02d}:00 happens twice on {day} (clocks go back)"
        day += timedelta(days=1)
    return tuple(sorted(problems.items()))


@dataclass
class ReconcileReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.deleted)} deleted, {len(self.unchanged)} unchanged"
        )


def reconcile(
    scheduler: Any,
    group: str,
    desired: list[ScheduleSpec],
    *,
    only_locations: set[str] | None = None,
) -> ReconcileReport:
    """Makes the schedules in `group` match `desired`.

    With `only_locations`, only those locations' schedules are looked at (a registry change):
    two reads per location, and a location absent from `desired` loses its schedules. Without
    it, the whole group is listed and anything not desired is deleted (a full repair): the
    group belongs to the reconciler.
    """
    wanted = {spec.name: spec for spec in desired}
    if len(wanted) != len(desired):
        raise ValueError("desired schedules must have unique names")
    if only_locations is not None:
        strays = {spec.location_id for spec in desired} - only_locations
        if strays:
            raise ValueError(f"desired schedules of locations not being reconciled: {strays}")
        candidates = set().union(*(location_schedule_names(lid) for lid in only_locations))
        existing = {name for name in candidates if _get(scheduler, group, name) is not None}
    else:
        existing = set(_list_names(scheduler, group))

    report = ReconcileReport()
    for name in sorted(wanted):
        spec = wanted[name]
        if name not in existing:
            scheduler.create_schedule(**spec.request())
            report.created.append(name)
            continue
        current = _get(scheduler, group, name)
        if current is not None and _comparable(current) == spec.comparable():
            report.unchanged.append(name)
        else:
            scheduler.update_schedule(**spec.request())
            report.updated.append(name)
    for name in sorted(existing - wanted.keys()):
        try:
            scheduler.delete_schedule(GroupName=group, Name=name)
        except Exception as error:  # already gone: what we wanted
            if _error_code(error) != "ResourceNotFoundException":
                raise
        report.deleted.append(name)
    return report


def _get(scheduler: Any, group: str, name: str) -> dict[str, Any] | None:
    try:
        answer: dict[str, Any] = scheduler.get_schedule(GroupName=group, Name=name)
    except Exception as error:
        if _error_code(error) == "ResourceNotFoundException":
            return None
        raise
    return answer


def _list_names(scheduler: Any, group: str) -> list[str]:
    names: list[str] = []
    request: dict[str, Any] = {"GroupName": group}
    while True:
        answer = scheduler.list_schedules(**request)
        names += [item["Name"] for item in answer.get("Schedules", [])]
        token = answer.get("NextToken")
        if not token:
            return names
        request["NextToken"] = token


def _comparable(schedule: dict[str, Any]) -> dict[str, Any]:
    target = schedule.get("Target", {})
    return {
        "Description": schedule.get("Description") or "",
        "ScheduleExpression": schedule.get("ScheduleExpression"),
        "ScheduleExpressionTimezone": schedule.get("ScheduleExpressionTimezone"),
        # Scheduler answers the window as it was set: Mode, and the minutes when FLEXIBLE.
        "FlexibleTimeWindow": dict(schedule.get("FlexibleTimeWindow") or {"Mode": "OFF"}),
        "State": schedule.get("State"),
        "Target": {
            "Arn": target.get("Arn"),
            "RoleArn": target.get("RoleArn"),
            "Input": target.get("Input"),
            "RetryPolicy": target.get("RetryPolicy"),
            "DeadLetterConfig": target.get("DeadLetterConfig"),
        },
    }


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
