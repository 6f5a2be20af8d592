"""`clubsync feeds`: import a delivered file by hand, check a map against a sample
(docs/providers/file-feeds.md)."""

from __future__ import annotations

import json
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console

from clubsync.engine.sync_engine import SyncFailed
from clubsync.providers.base import InvalidRecord
from clubsync.providers.feed.importer import (
    FeedBusy,
    ImportStatus,
    checked_file,
    translator_of,
)
from clubsync.providers.feed.mapping import FeedMap, FileKind, MapError, load_map, shipped_map
from clubsync.providers.feed.reader import FeedFileError, rows
from clubsync.providers.feeds import DeliveryRefused, club_feed, club_of_location, import_delivery
from clubsync.runtime.aws import ENDPOINT_ENV, aws_client
from clubsync.sandbox.moso import FAULTS, moso_extracts
from clubsync.store.entities import EntityRepository
from clubsync.store.items import DynamoItemTable
from clubsync.store.state import StateRepository
from clubsync.store.tables import ENTITIES, STATE

feeds_app = typer.Typer(no_args_is_help=True, help="Delivered files: import one, check a map.")
console = Console()
errors = Console(stderr=True, highlight=False)
# Shipped maps by name: "moso-3.x" (providers/moso/maps), "template" (providers/feed/maps).
MAP_PACKAGES = ("clubsync.providers.moso", "clubsync.providers.feed")


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]{message}[/]", soft_wrap=True)
    return typer.Exit(code)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise _fail(f"{path.name}: cannot be read ({error.strerror})", 2) from None


@feeds_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="The delivered extract file.")],
    location: Annotated[
        str, typer.Option(help="A registered location of the club the file is of.")
    ],
    endpoint_url: Annotated[
        str | None, typer.Option(envvar=ENDPOINT_ENV, help="AWS endpoint (moto on 127.0.0.1).")
    ] = None,
    table_prefix: Annotated[str, typer.Option(help="Prefix of local table names.")] = "",
) -> None:
    """Imports one file as a delivery of the club LOCATION belongs to: into every location of
    the club its rows name, once (the same content again imports nothing), writing only what
    differs from the CRM. Exits 1 when the file is refused or a run fails."""
    client = aws_client("dynamodb", endpoint_url)
    entities = EntityRepository(DynamoItemTable(client, ENTITIES.resolved_name(table_prefix)))
    state = StateRepository(DynamoItemTable(client, STATE.resolved_name(table_prefix)))
    settings = state.get_location(location)
    if settings is None:
        raise _fail(f"Unknown location {location!r}: register it first.", 2)
    data = _read(file)
    try:
        provider, club_id = club_of_location(settings)
        club = club_feed(state.locations(), provider, club_id)
        done = import_delivery(data, file.name, club, entities, state)
    except (DeliveryRefused, FeedFileError, FeedBusy) as refused:
        raise _fail(f"Not imported: {refused}") from None
    except SyncFailed as failed:
        raise _fail(f"Import failed (run {failed.run.run_id}): {failed.run.message}") from None
    if done.status is ImportStatus.ALREADY_IMPORTED:
        console.print(
            f"{file.name}: already imported (content {done.file_hash[:16]}); nothing ran."
        )
        return
    console.print(
        f"{file.name} ({done.kind.value if done.kind else '?'}, content {done.file_hash[:16]}): "
        f"{done.status.value}",
        highlight=False,
        soft_wrap=True,
    )
    for run in done.runs:
        counts = run.counts
        console.print(
            f"  {run.location_id}: {run.status.value}, fetched {counts.fetched}, created "
            f"{counts.created}, updated {counts.updated}, unchanged {counts.unchanged}, "
            f"quarantined {counts.quarantined}, skipped {counts.skipped}",
            highlight=False,
        )
    for code, count in sorted(done.unrouted.items()):
        console.print(
            f"  [yellow]{count} row(s) of location code {code!r}: no registered location of "
            "the club has it (not imported)[/]"
        )
    if done.status is ImportStatus.CONTINUED:
        console.print("Paused: run the same command again to continue.")


def _map(name_or_path: str) -> FeedMap:
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return load_map(path)
    for package in MAP_PACKAGES:
        try:
            return shipped_map(package, name_or_path)
        except MapError:
            continue
    raise MapError(
        f"{name_or_path!r} is neither a map file nor a shipped map (moso-2.x, moso-2.5.x, "
        "moso-3.x, template)"
    )


@feeds_app.command("check")
def check(
    map_file: Annotated[str, typer.Argument(metavar="MAP", help="A map file, or a shipped map.")],
    file: Annotated[Path, typer.Argument(help="A sample extract file.")],
    rows_shown: Annotated[int, typer.Option("--rows", min=1, help="Records shown.")] = 3,
    time_zone: Annotated[
        str, typer.Option(help="The club's zone, for times without an offset.")
    ] = "UTC",
) -> None:
    """Validates MAP against a sample FILE: the map itself, the file's name, encoding, header
    and rows, then shows the first records as the CRM would see them and why any row would be
    quarantined. Exits 1 when the file would be refused."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(f"unknown time zone {time_zone!r}", 2) from None
    try:
        feed_map = _map(map_file)
    except MapError as error:
        raise _fail(f"Map refused: {error}", 2) from None
    data = _read(file)
    if feed_map.stand_in:
        console.print(f"[yellow]Map {feed_map.label} is a stand-in: {feed_map.stand_in}[/]")
    try:
        checked = checked_file(data, file.name, feed_map)
    except FeedFileError as refused:
        raise _fail(f"File refused: {refused}") from None
    summary = checked.summary
    per_location = ", ".join(f"{code}: {n}" for code, n in sorted(summary.by_location.items()))
    console.print(
        f"{file.name}: {checked.kind.value} file of map {feed_map.label}, {summary.rows} rows "
        f"({per_location})",
        highlight=False,
        soft_wrap=True,
    )
    translator = translator_of(checked, feed_map, zone, None)
    translate = translator.member if checked.kind is FileKind.MEMBERS else translator.employee
    shown = 0
    problems: list[str] = []
    for row in rows(checked.text, feed_map, summary):
        try:
            record = translate(row)
        except InvalidRecord as invalid:
            problems.append(invalid.reason)
            continue
        if shown < rows_shown:
            shown += 1
            console.print_json(json.dumps(record.model_dump(mode="json", exclude_none=True)))
    if problems:
        console.print(f"[yellow]{len(problems)} row(s) would be quarantined:[/]")
        for reason in islice(problems, 10):
            console.print(f"  {reason}", highlight=False)
    else:
        console.print("Every row translates.")


@feeds_app.command("sample")
def sample(
    out: Annotated[Path, typer.Argument(help="The folder to write the files in.")],
    version: Annotated[str, typer.Option(help="MoSo extract version: 2.x, 2.5.x or 3.x.")] = "3.x",
    club: Annotated[str, typer.Option(help="The club id in the file names.")] = "club7",
    locations: Annotated[
        str, typer.Option(help="Location codes the rows carry, comma-separated.")
    ] = "N,S",
    members: Annotated[int, typer.Option(min=0, help="Members per location.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the generated club.")] = 7,
    fault: Annotated[
        list[str] | None,
        typer.Option(help="Break the members file: " + ", ".join(FAULTS) + " (repeatable)."),
    ] = None,
) -> None:
    """Writes one sandbox delivery of MoSo extracts (members and employees files) from the
    same generated club as the ABC sandbox."""
    try:
        files = moso_extracts(
            version,
            club_id=club,
            locations=[code.strip() for code in locations.split(",") if code.strip()],
            members_per_location=members,
            now_local=datetime.now().replace(microsecond=0),
            seed=seed,
            faults=fault or (),
        )
    except ValueError as error:
        raise _fail(str(error), 2) from None
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
        console.print(str(out / name), highlight=False, soft_wrap=True)
