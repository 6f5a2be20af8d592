"""`clubsync status`: fleet health at a glance (features/fleet_status.py), readable at 80
columns, or as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clubsync.cli.dlq import QUEUES, queue_url
from clubsync.features.dead_letters import queue_depths
from clubsync.features.fleet_status import FleetStatus, Health, fleet_status
from clubsync.runtime.aws import ENDPOINT_ENV, aws_client
from clubsync.store.items import DynamoItemTable
from clubsync.store.state import StateRepository
from clubsync.store.tables import ENTITIES, STATE

console = Console()
errors = Console(stderr=True, highlight=False)
_STYLE = {Health.FAILING: "red", Health.STALE: "yellow", Health.OK: "green"}


def show_status(
    location: Annotated[str | None, typer.Option(help="Only this location.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    pushes: Annotated[
        bool,
        typer.Option(
            help="Count pending prospect pushes (reads every person of a location: see docs)."
        ),
    ] = True,
    sync_dlq_url: Annotated[
        str | None, typer.Option(help="Sync dead-letter queue (else CLUBSYNC_SYNC_DLQ_URL).")
    ] = None,
    prospects_dlq_url: Annotated[
        str | None,
        typer.Option(help="Prospect push dead-letter queue (else CLUBSYNC_PROSPECT_DLQ_URL)."),
    ] = None,
    registry_dlq_url: Annotated[
        str | None,
        typer.Option(help="Location registry dead-letter queue (else CLUBSYNC_REGISTRY_DLQ_URL)."),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option(envvar=ENDPOINT_ENV, help="AWS endpoint (moto on 127.0.0.1)."),
    ] = None,
    table_prefix: Annotated[str, typer.Option(help="Prefix of local table names.")] = "",
) -> None:
    """Every location and sync type, worst first: last success and its age, last error,
    quarantined records, pending prospect pushes, and the dead-letter queues' depths."""
    client = aws_client("dynamodb", endpoint_url)
    state = StateRepository(DynamoItemTable(client, STATE.resolved_name(table_prefix)))
    entities = DynamoItemTable(client, ENTITIES.resolved_name(table_prefix))
    given = {"sync": sync_dlq_url, "prospects": prospects_dlq_url, "registry": registry_dlq_url}
    urls = {queue: queue_url(queue, given[queue]) for queue in QUEUES}
    depths = queue_depths(aws_client("sqs", endpoint_url), urls) if any(urls.values()) else {}
    try:
        status = fleet_status(
            state,
            entities,
            datetime.now(UTC),
            location_id=location,
            dead_letters={queue: depths.get(queue) for queue in QUEUES},
            pushes=pushes,
        )
    except LookupError as error:
        errors.print(f"[red]{error}[/]: see `clubsync locations list`.", soft_wrap=True)
        raise typer.Exit(1) from error
    if as_json:
        typer.echo(status.model_dump_json(indent=2))
        return
    print_status(status, console)


def _age(hours: float | None) -> str:
    if hours is None:
        return "never"
    return f"{hours:.1f}h" if hours < 48 else f"{hours / 24:.1f}d"


def print_status(status: FleetStatus, out: Console) -> None:
    """The report: a summary line, the queues, one row per location and type, then the last
    errors one per line (kept out of the table so it fits 80 columns)."""
    out.print(
        f"Fleet at {status.checked_at:%Y-%m-%d %H:%M} UTC: {len(status.locations)} location(s): "
        f"{status.count(Health.FAILING)} failing, {status.count(Health.STALE)} stale, "
        f"{status.count(Health.OK)} ok",
        highlight=False,
    )
    queues = ", ".join(
        f"{name} {'?' if depth is None else depth}" for name, depth in status.dead_letters.items()
    )
    out.print(f"Dead-letter queues: {queues} (?: no URL given)", highlight=False)
    if not status.locations:
        out.print("No locations registered.")
        return
    table = Table(box=None, padding=(0, 2, 0, 0), show_edge=False, header_style="bold")
    for column in ("location", "type", "state", "last success", "age"):
        table.add_column(column, no_wrap=True)
    table.add_column("quar.", justify="right", no_wrap=True)
    table.add_column("pushes", justify="right", no_wrap=True)
    for location in status.locations:
        for index, row in enumerate(location.types):
            first = index == 0
            table.add_row(
                location.location_id if first else "",
                row.sync_type,
                f"[{_STYLE[row.health]}]{row.health.value}[/]",
                f"{row.last_success:%Y-%m-%d %H:%M}" if row.last_success else "-",
                _age(row.age_hours),
                str(row.quarantined),
                str(location.pending_pushes)
                if first and location.pending_pushes is not None
                else "",
            )
        if not location.types:
            table.add_row(location.location_id, "(no pulls)", "", "", "", "", "")
    out.print(table)
    out.print(f"Stale: no success for {status.stale_after_hours:g}h.", highlight=False)
    failures = [
        f"  {location.location_id} {row.sync_type} {row.last_error_at:%Y-%m-%d %H:%M}: "
        f"{row.last_error}"
        for location in status.locations
        for row in location.types
        if row.last_error and row.last_error_at
    ]
    if failures:
        out.print("Last errors:")
        for line in failures:
            out.print(line, highlight=False)
