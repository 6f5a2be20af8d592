"""`clubsync followups`: follow-up schedules, the daily due list, completed contacts
(docs/followups.md)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from clubsync.domain.follow_up_schedule import (
    APPOINTMENT_STATUSES,
    MAX_STAGES,
    MEMBERSHIP_STATUSES,
    PT_STATUSES,
    Channel,
    FollowUpSchedule,
)
from clubsync.features.follow_ups import DueList, FollowUpError, FollowUps, local_today
from clubsync.runtime.aws import ENDPOINT_ENV, aws_client
from clubsync.store.entities import EntityRepository
from clubsync.store.items import DynamoItemTable
from clubsync.store.state import StateRepository
from clubsync.store.tables import ENTITIES, STATE

followups_app = typer.Typer(
    no_args_is_help=True, help="Follow-up schedules, the daily due list and contacts."
)
console = Console()

LocationOption = Annotated[str, typer.Option(help="Location id.")]
EndpointOption = Annotated[
    str | None,
    typer.Option("--endpoint-url", envvar=ENDPOINT_ENV, help="AWS endpoint (moto on 127.0.0.1)."),
]
PrefixOption = Annotated[str, typer.Option(help="Prefix of local table names.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _follow_ups(endpoint_url: str | None, table_prefix: str) -> FollowUps:
    client = aws_client("dynamodb", endpoint_url)
    return FollowUps(
        EntityRepository(DynamoItemTable(client, ENTITIES.resolved_name(table_prefix))),
        StateRepository(DynamoItemTable(client, STATE.resolved_name(table_prefix))),
    )


def _refuse(message: str) -> typer.Exit:
    console.print(f"[red]Refused:[/] {message}", soft_wrap=True)
    return typer.Exit(2)


def parse_stages_option(text: str) -> tuple[str, list[int]]:
    """'Web Lead=0,1,3' -> ('Web Lead', [0, 1, 3]); 'Appt Booked=' -> an empty row."""
    name, sep, numbers = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"--stages {text!r}: write it as 'Status=days,days,...'")
    try:
        days = [int(part) for part in numbers.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--stages {text!r}: days must be whole numbers") from None
    return name.strip(), days


def schedule_from_file(current: FollowUpSchedule, data: Any) -> FollowUpSchedule:
    """A schedule file is either `{"membership": {...}, "pt": {...}}` (what `--json` prints)
    or a flat `{"Web Lead": [0, 1, 3], ...}`; statuses it leaves out keep their row."""
    if not isinstance(data, dict):
        raise ValueError("the schedule file must hold a JSON object of status -> stages")
    if data and set(data) <= {"membership", "pt"}:
        merged = current.model_dump(mode="json")
        for section, rows in data.items():
            merged[section] = {**merged[section], **rows} if isinstance(rows, dict) else rows
        return FollowUpSchedule.parse(merged)
    return current.with_rows(data)


def _print_schedule(location_id: str, schedule: FollowUpSchedule) -> None:
    for title, statuses in (("Membership", MEMBERSHIP_STATUSES), ("PT", PT_STATUSES)):
        table = Table(title=f"{title} follow-up schedule at {location_id} (days)")
        table.add_column("status")
        for stage in range(1, MAX_STAGES + 1):
            table.add_column(str(stage), justify="right")
        table.add_column("total", justify="right")
        table.add_column("note")
        for status in statuses:
            row = schedule.row(status)
            if status in APPOINTMENT_STATUSES:
                note = "days before the appointment" if row else "no follow-up"
            elif schedule.repeats(status):
                note = f"then every {row[-1]} days"
            else:
                note = "" if row else "no follow-up"
            cells = [str(days) for days in row] + [""] * (MAX_STAGES - len(row))
            table.add_row(status.value, *cells, str(schedule.total_days(status)), note)
        console.print(table)


@followups_app.command("schedule")
def schedule_command(
    location: LocationOption,
    file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Set the schedule from this JSON file."),
    ] = None,
    stages: Annotated[
        list[str] | None,
        typer.Option(help="Set one status: 'Web Lead=0,1,3,7' (repeatable; 'X=' empties it)."),
    ] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Back to the default schedule.")] = False,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = None,
    table_prefix: PrefixOption = "",
) -> None:
    """Show the location's follow-up schedules; with --file, --stages or --reset, change them
    first (the whole change is checked; nothing is written when any part is refused)."""
    follow_ups = _follow_ups(endpoint_url, table_prefix)
    try:
        settings = follow_ups.location(location)
    except FollowUpError as error:
        raise _refuse(str(error)) from error
    schedule = settings.follow_up_schedule
    try:
        if reset:
            schedule = FollowUpSchedule()
        if file is not None:
            schedule = schedule_from_file(schedule, json.loads(file.read_text()))
        if stages:
            schedule = schedule.with_rows(dict(parse_stages_option(text) for text in stages))
    except json.JSONDecodeError as error:
        raise _refuse(f"{file}: not JSON ({error})") from error
    except ValueError as error:
        raise _refuse(f"schedule not changed: {error}") from error
    if schedule != settings.follow_up_schedule:
        follow_ups.state.put_location(settings.model_copy(update={"follow_up_schedule": schedule}))
        console.print(f"Follow-up schedule of {location} changed.")
    if as_json:
        typer.echo(json.dumps(schedule.model_dump(mode="json"), indent=2))
        return
    _print_schedule(location, schedule)


def _print_due(due: DueList) -> None:
    if not due.groups:
        console.print(f"Nothing due at {due.location_id} on {due.date.isoformat()}.")
        return
    console.print(
        f"[bold]{len(due.entries)} follow-ups due at {due.location_id} on {due.date.isoformat()}[/]"
    )
    for group in due.groups:
        who = group.follow_up_person_name or group.follow_up_person_id or "Nobody assigned"
        if group.follow_up_person_name and group.follow_up_person_id:
            who = f"{who} ({group.follow_up_person_id})"
        table = Table(title=f"{who}: {len(group.entries)} due", title_justify="left")
        for column in ("person", "status", "stage", "channel", "why"):
            table.add_column(column)
        for entry in group.entries:
            table.add_row(
                f"{entry.name}\n{entry.person_id}" if entry.name else entry.person_id,
                entry.status.value,
                str(entry.stage),
                entry.channel.value + (" (done)" if entry.done else ""),
                entry.reason,
            )
        console.print(table)


@followups_app.command("due")
def due_command(
    location: LocationOption,
    on: Annotated[
        str | None,
        typer.Option("--date", help="Club-local date YYYY-MM-DD (default: today there)."),
    ] = None,
    stored: Annotated[
        bool, typer.Option("--stored", help="Show the list the daily function stored.")
    ] = False,
    as_json: JsonOption = False,
    endpoint_url: EndpointOption = None,
    table_prefix: PrefixOption = "",
) -> None:
    """The follow-ups due on a day, per follow-up person, each with its channel and why."""
    follow_ups = _follow_ups(endpoint_url, table_prefix)
    try:
        settings = follow_ups.location(location)
        today = local_today(settings, datetime.now(UTC))
        day = date.fromisoformat(on) if on else today
    except ValueError as error:
        raise _refuse(str(error)) from error
    if stored:
        found = follow_ups.due_lists.get(location, day)
        if found is None:
            raise _refuse(f"no stored due list of {location} for {day.isoformat()}")
        due = DueList.model_validate(found)
    else:
        due = follow_ups.due_list(settings, day, today=today)
    if as_json:
        typer.echo(due.model_dump_json(indent=2))
        return
    _print_due(due)


@followups_app.command("contact")
def contact_command(
    location: LocationOption,
    person: Annotated[str, typer.Option(help="Person id (from `followups due`).")],
    on: Annotated[
        str | None, typer.Option("--date", help="Club-local date of the contact (default: today).")
    ] = None,
    channel: Annotated[
        Channel | None, typer.Option(help="How (default: the person's preferred channel).")
    ] = None,
    by: Annotated[str | None, typer.Option(help="Employee id who made the contact.")] = None,
    endpoint_url: EndpointOption = None,
    table_prefix: PrefixOption = "",
) -> None:
    """Record a completed follow-up contact: the next stage counts from it. Recording the same
    day again changes nothing."""
    follow_ups = _follow_ups(endpoint_url, table_prefix)
    try:
        day = date.fromisoformat(on) if on else None
        track, written = follow_ups.record_contact(
            location, person, datetime.now(UTC), on=day, channel=channel, by=by
        )
    except ValueError as error:
        raise _refuse(str(error)) from error
    contact = track.contact_on(day) if day else track.contacts[-1]
    assert contact is not None  # record_contact returns a track holding that day's contact
    verb = "Recorded" if written else "Already recorded"
    console.print(
        f"{verb}: {track.status.value} stage {contact.stage} by {contact.channel.value} on "
        f"{contact.on.isoformat()}."
    )
    following = track.next_due(follow_ups.location(location).follow_up_schedule)
    if following is None:
        console.print(f"No further follow-up in {track.status.value}.")
    else:
        console.print(f"Next: stage {following.stage} on {following.on.isoformat()}.")
