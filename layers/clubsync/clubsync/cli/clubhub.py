"""`clubsync clubhub`: pull a location from Club Hub, replay a Club Hub timeline
(scenario/clubhub.py, docs/clubhub.md)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from clubsync.domain.runs import RunStatus
from clubsync.engine.sync_engine import SyncFailed
from clubsync.providers.clubhub.client import ClubHubClient
from clubsync.providers.clubhub.sync import pull as pull_location
from clubsync.runtime.aws import ENDPOINT_ENV, aws_client
from clubsync.scenario.clubhub import EXAMPLES, load_clubhub_scenario, run_clubhub_scenario
from clubsync.store.entities import EntityRepository
from clubsync.store.items import DynamoItemTable
from clubsync.store.state import StateRepository
from clubsync.store.tables import ENTITIES, STATE

clubhub_app = typer.Typer(no_args_is_help=True, help="Club Hub: replay pushes and pulls.")
console = Console()


@clubhub_app.command("scenario")
def scenario(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Scenario file.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the resulting agreements and findings as JSON.")
    ] = None,
) -> None:
    """Replay a Club Hub scenario with the real webhook code; exit 1 if an expectation fails,
    2 if the file is invalid."""
    try:
        loaded = load_clubhub_scenario(path)
    except (ValidationError, ValueError) as error:
        console.print(f"[red]Invalid scenario:[/] {error}")
        raise typer.Exit(2) from error
    result = run_clubhub_scenario(loaded)
    console.print(f"[bold]{result.name}[/]")
    for line in result.lines:
        console.print(line, highlight=False)
    if out is not None:
        out.write_text(json.dumps(result.state, indent=2))
    for failure in result.failures:
        console.print(f"[red]FAILED[/] {failure}")
    if result.failures:
        raise typer.Exit(1)
    console.print("[green]Every expectation holds.[/]")


@clubhub_app.command("examples")
def examples() -> None:
    """The shipped Club Hub scenarios."""
    for path in sorted(EXAMPLES.glob("*.json")):
        console.print(str(path))


@clubhub_app.command("pull")
def pull(
    location: Annotated[str, typer.Option(help="The registered location to sync.")],
    base_url: Annotated[str, typer.Option(help="Club Hub's API (or its sandbox) base URL.")],
    endpoint_url: Annotated[
        str | None, typer.Option(envvar=ENDPOINT_ENV, help="AWS endpoint (moto on 127.0.0.1).")
    ] = None,
    table_prefix: Annotated[str, typer.Option(help="Prefix of local table names.")] = "",
) -> None:
    """A full sync of one location from Club Hub: every account and membership, merged as a
    push would be (a replay writes nothing), as an engine run (lease, watermark, run record in
    `clubsync runs`, bad records quarantined). Prints how many records had each outcome."""
    client = aws_client("dynamodb", endpoint_url)
    entities = EntityRepository(DynamoItemTable(client, ENTITIES.resolved_name(table_prefix)))
    state = StateRepository(DynamoItemTable(client, STATE.resolved_name(table_prefix)))
    settings = state.get_location(location)
    if settings is None:
        console.print(f"[red]Unknown location {location!r}:[/] register it first.")
        raise typer.Exit(2)
    try:
        with ClubHubClient(base_url) as clubhub:
            pulled = pull_location(settings, entities, state, clubhub)
    except SyncFailed as failed:
        console.print(
            f"[red]Club Hub pull failed (run {failed.run.run_id}):[/] {failed.run.message}"
        )
        raise typer.Exit(1) from failed
    run = pulled.run
    if run.status is RunStatus.SKIPPED_LOCKED:
        console.print(f"[yellow]Not pulled:[/] {run.message}")
        raise typer.Exit(1)
    counts = Counter(pulled.outcomes)
    if run.counts.quarantined:
        counts["quarantined"] = run.counts.quarantined
    # One line before the outcomes: scripts read the outcome lines after it.
    console.print(
        f"Pulled {run.counts.fetched} records for {location} (run {run.run_id}, "
        f"{run.status.value}):",
        highlight=False,
        soft_wrap=True,
    )
    for outcome, count in sorted(counts.items()):
        console.print(f"  {outcome}: {count}")
