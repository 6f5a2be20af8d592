"""`clubsync runs`: what the syncs of a location did, newest first, from the state table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clubsync.domain.runs import RunRecord
from clubsync.runtime.aws import ENDPOINT_ENV, aws_client
from clubsync.store.items import DynamoItemTable
from clubsync.store.state import StateRepository
from clubsync.store.tables import STATE

console = Console()


def show_runs(
    location: Annotated[str, typer.Option(help="Location id.")],
    sync_type: Annotated[str, typer.Option(help="Only this sync type, e.g. members.")] = "",
    limit: Annotated[int, typer.Option(min=1, help="How many runs to show.")] = 20,
    endpoint_url: Annotated[
        str | None,
        typer.Option(envvar=ENDPOINT_ENV, help="AWS endpoint (moto on 127.0.0.1)."),
    ] = None,
    table_prefix: Annotated[str, typer.Option(help="Prefix of local table names.")] = "",
    summary: Annotated[
        bool, typer.Option("--summary", help="Show the nightly full sync summary per day.")
    ] = False,
) -> None:
    """Show the latest sync runs of a location with their counts and errors."""
    client = aws_client("dynamodb", endpoint_url)
    state = StateRepository(DynamoItemTable(client, STATE.resolved_name(table_prefix)))
    if summary:
        show_summaries(state, location, limit)
        return
    runs = sorted(state.runs(location, sync_type), key=lambda run: run.started_at, reverse=True)
    if not runs:
        console.print(f"No runs recorded for location {location!r}.")
        raise typer.Exit(1)
    console.print(runs_table(location, runs[:limit]))


def runs_table(location: str, runs: Sequence[RunRecord]) -> Table:
    """The table `clubsync runs` prints, one row per run in the order given (the demo prints
    it too, so what it shows is exactly what the command would)."""
    table = Table(title=f"Sync runs of {location}")
    for column in (
        "started (UTC)",
        "type",
        "kind",
        "status",
        "fetched",
        "created",
        "converted",
        "updated",
        "unchanged",
        "quarantined",
        "message",
    ):
        table.add_column(column)
    for run in runs:
        counts = run.counts
        table.add_row(
            f"{run.started_at:%Y-%m-%d %H:%M}",
            run.sync_type.value,
            run.kind.value,
            run.status.value,
            *(
                str(n)
                for n in (
                    counts.fetched,
                    counts.created,
                    counts.converted,
                    counts.updated,
                    counts.unchanged,
                    counts.quarantined,
                )
            ),
            run.message,
        )
    return table


def show_summaries(state: StateRepository, location: str, limit: int) -> None:
    """One table per day: how each sync type of the nightly full sync ended."""
    summaries = sorted(state.run_summaries(location), key=lambda s: s["local_date"], reverse=True)
    if not summaries:
        console.print(f"No full sync summaries recorded for location {location!r}.")
        raise typer.Exit(1)
    for summary in summaries[:limit]:
        table = Table(
            title=f"Full sync of {location} on {summary['local_date']}: {summary['status']}"
        )
        for column in (
            "type",
            "status",
            "attempts",
            "fetched",
            "created",
            "updated",
            "skipped",
            "quarantined",
            "message",
        ):
            table.add_column(column)
        for result in summary["results"]:
            counts = result.get("counts", {})
            table.add_row(
                result["sync_type"],
                result["status"],
                str(result.get("attempts", 1)),
                *(
                    str(counts.get(name, 0))
                    for name in ("fetched", "created", "updated", "skipped", "quarantined")
                ),
                result.get("message", ""),
            )
        console.print(table)
