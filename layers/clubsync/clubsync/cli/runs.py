"""`clubsync runs`: what the syncs of a location did, newest first, from the state table."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from clubsync.domain.runs import RunRecord, RunStatus, SyncType
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the latest sync runs of a location with their counts and errors."""
    types = [sync_type] if sync_type else [known.value for known in SyncType]
    if sync_type and sync_type not in {known.value for known in SyncType}:
        console.print(
            f"[red]--sync-type {sync_type}:[/] choose one of "
            f"{', '.join(known.value for known in SyncType)}.",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    client = aws_client("dynamodb", endpoint_url)
    state = StateRepository(DynamoItemTable(client, STATE.resolved_name(table_prefix)))
    if summary:
        show_summaries(state, location, limit, as_json)
        return
    runs = latest_runs(state, location, types, limit)
    if as_json:
        typer.echo(json.dumps([run.model_dump(mode="json") for run in runs], indent=2))
        return
    if not runs:
        console.print(f"No runs recorded for location {location!r}.")
        raise typer.Exit(1)
    console.print(runs_report(location, runs))


def latest_runs(
    state: StateRepository, location: str, sync_types: Sequence[str], limit: int
) -> list[RunRecord]:
    """The newest `limit` runs over `sync_types`, newest first: one backward Query of at most
    `limit` runs per type, whatever the location's history holds."""
    runs = [run for name in sync_types for run in state.latest_runs(location, name, limit)]
    return sorted(runs, key=lambda run: run.started_at, reverse=True)[:limit]


# The report reads at 80 columns: long lines wrap under their indent.
WIDTH = 80
COUNTED = ("fetched", "created", "converted", "updated", "unchanged", "quarantined")


def skip_line(run: RunRecord) -> str:
    """Skipped and ignored records with their reasons; what no reason covers is shown as
    "no reason given", so the reasons add up to the count."""
    left_out = run.counts.skipped + run.counts.ignored
    if not left_out and not run.skip_reasons:
        return ""
    reasons = sorted(run.skip_reasons.items(), key=lambda reason: (-reason[1], reason[0]))
    unexplained = left_out - sum(run.skip_reasons.values())
    if unexplained > 0:
        reasons.append(("no reason given", unexplained))
    parts = ", ".join(f"{why} {count}" for why, count in reasons)
    return f"skipped {run.counts.skipped}, ignored {run.counts.ignored}" + (
        f": {parts}" if parts else ""
    )


def run_lines(run: RunRecord) -> list[str]:
    """One run in lines of at most 80 columns (a long message or reason list wraps)."""
    finished = (
        f", {(run.finished_at - run.started_at).total_seconds():.0f}s" if run.finished_at else ""
    )
    counts = ", ".join(f"{name} {getattr(run.counts, name)}" for name in COUNTED)
    lines = [
        f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC  {run.sync_type.value} {run.kind.value}  "
        f"{run.status.value}{finished}",
        f"  run {run.run_id}  requests {run.billing_requests}",
        f"  {counts}",
    ]
    for text in (skip_line(run), run.message):
        lines += textwrap.wrap(
            text, WIDTH, initial_indent="  ", subsequent_indent="    ", break_long_words=False
        )
    return lines


def runs_report(location: str, runs: Sequence[RunRecord]) -> Group:
    """What `clubsync runs` prints, one block per run in the order given (the demo prints it
    too, so what it shows is exactly what the command would)."""
    blocks: list[Text] = [Text(f"Sync runs of {location}, newest first", style="bold")]
    for run in runs:
        style = {RunStatus.FAILED: "red", RunStatus.SKIPPED_LOCKED: "yellow"}.get(run.status, "")
        head, *rest = run_lines(run)
        blocks.append(Text(head, style=style))
        blocks.extend(Text(line) for line in rest)
    return Group(*blocks)


def show_summaries(
    state: StateRepository, location: str, limit: int, as_json: bool = False
) -> None:
    """One table per day: how each sync type of the nightly full sync ended."""
    summaries = sorted(state.run_summaries(location), key=lambda s: s["local_date"], reverse=True)
    if as_json:
        typer.echo(json.dumps(summaries[:limit], indent=2))
        return
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
