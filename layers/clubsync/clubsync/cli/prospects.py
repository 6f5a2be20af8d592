"""`clubsync prospects`: add a prospect, see push outcomes, redrive, reintegrate.

Talks to the deployed tables (or moto with --endpoint-url) and, for pushes, to the location's
billing club (credentials from the location's Secrets Manager secret, or the sandbox's)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from clubsync.domain.settings import LocationSettings
from clubsync.features.prospect_intake import IntakeInvalid, ProspectIntake, parse_form
from clubsync.features.prospect_push import ProspectPusher
from clubsync.features.prospect_reintegration import redrive as redrive_prospects
from clubsync.features.prospect_reintegration import reintegrate as reintegrate_prospects
from clubsync.features.prospect_stream import PusherFactory
from clubsync.providers.abc.client import DEFAULT_BASE_URL
from clubsync.providers.base import Connection
from clubsync.providers.registry import SecretReader, connect_location, named_secret
from clubsync.runtime.aws import aws_client
from clubsync.runtime.local import sandbox_secret
from clubsync.store.entities import EntityRepository
from clubsync.store.items import DynamoItemTable
from clubsync.store.prospects import ProspectStore
from clubsync.store.state import StateRepository
from clubsync.store.tables import ENTITIES, STATE

prospects_app = typer.Typer(no_args_is_help=True, help="Prospects pushed to billing.")
console = Console()

EndpointUrl = Annotated[
    str | None,
    typer.Option(envvar="CLUBSYNC_AWS_ENDPOINT_URL", help="DynamoDB endpoint (moto, local)."),
]
TablePrefix = Annotated[str, typer.Option(help="Prefix of local table names.")]
Location = Annotated[str, typer.Option(help="Location id.")]
AbcBaseUrl = Annotated[
    str, typer.Option(envvar="CLUBSYNC_ABC_BASE_URL", help="ABC API base URL (or the sandbox's).")
]
Sandbox = Annotated[
    bool, typer.Option(help="Use the billing sandbox's credentials instead of Secrets Manager.")
]


def _tables(endpoint_url: str | None, prefix: str) -> tuple[DynamoItemTable, DynamoItemTable]:
    client = aws_client("dynamodb", endpoint_url)
    return (
        DynamoItemTable(client, ENTITIES.resolved_name(prefix)),
        DynamoItemTable(client, STATE.resolved_name(prefix)),
    )


def _secrets(sandbox: bool, endpoint_url: str | None) -> SecretReader:
    if sandbox:
        return sandbox_secret

    def read(name: str) -> Any:
        # The same endpoint as the tables: a local run reads moto's secrets, not the account's.
        secrets = aws_client("secretsmanager", endpoint_url)
        return json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])

    return named_secret(read)


def _connector(
    base_url: str, sandbox: bool, endpoint_url: str | None
) -> Callable[[LocationSettings], Connection]:
    secrets = _secrets(sandbox, endpoint_url)

    def connect(settings: LocationSettings) -> Connection:
        return connect_location(settings, secrets, client_options={"abc": {"base_url": base_url}})

    return connect


def _factory(
    endpoint_url: str | None, prefix: str, base_url: str, sandbox: bool
) -> tuple[PusherFactory, ProspectStore, StateRepository]:
    entities, state_table = _tables(endpoint_url, prefix)
    store = ProspectStore(entities, state_table)
    state = StateRepository(state_table)
    factory = PusherFactory(
        state,
        store,
        connect=_connector(base_url, sandbox, endpoint_url),
    )
    return factory, store, state


@prospects_app.command()
def add(
    location: Location,
    first_name: Annotated[str | None, typer.Option()] = None,
    last_name: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    mobile_phone: Annotated[str | None, typer.Option()] = None,
    notes: Annotated[str | None, typer.Option()] = None,
    file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="A JSON form (same fields as the API)."),
    ] = None,
    endpoint_url: EndpointUrl = None,
    table_prefix: TablePrefix = "",
) -> None:
    """Add a prospect as staff would; the stream pushes it to billing."""
    data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8")) if file else {}
    given = {
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "mobile_phone": mobile_phone,
        "notes": notes,
    }
    data.update({name: value for name, value in given.items() if value is not None})
    data["location_id"] = location
    entities, state_table = _tables(endpoint_url, table_prefix)
    intake = ProspectIntake(EntityRepository(entities), StateRepository(state_table))
    try:
        result = intake.add(parse_form(data))
    except IntakeInvalid as error:
        for problem in error.errors:
            console.print(f"[red]{problem.field}[/]: {problem.message}")
        raise typer.Exit(2) from error
    console.print(f"{result.outcome.value}: prospect {result.person_id} at {result.location_id}")
    for warning in result.billing_problems:
        console.print(f"[yellow]billing:[/] {warning}")


@prospects_app.command("push-status")
def push_status(
    location: Location, endpoint_url: EndpointUrl = None, table_prefix: TablePrefix = ""
) -> None:
    """Where each prospect of a location stands with billing; problems first."""
    entities, state_table = _tables(endpoint_url, table_prefix)
    prospects = ProspectStore(entities, state_table).prospects(location)
    counts = Counter(p.push.state.value if p.push else "never" for p in prospects)
    console.print(", ".join(f"{state}: {n}" for state, n in sorted(counts.items())) or "none")
    table = Table(title=f"Prospects of {location} needing attention")
    for column in ("person id", "state", "attempts", "last attempt (UTC)", "reason / warnings"):
        table.add_column(column)
    for person in prospects:
        push = person.push
        if push is None or (push.state.value == "pushed" and not push.warnings):
            continue
        when = f"{push.last_attempt_at:%Y-%m-%d %H:%M}" if push.last_attempt_at else ""
        text = "; ".join([push.reason or "", *push.warnings]).strip("; ")
        table.add_row(person.person_id, push.state.value, str(push.attempts), when, text)
    console.print(table)


@prospects_app.command()
def redrive(
    location: Location,
    abc_base_url: AbcBaseUrl = DEFAULT_BASE_URL,
    sandbox: Sandbox = False,
    endpoint_url: EndpointUrl = None,
    table_prefix: TablePrefix = "",
) -> None:
    """Push again the location's failing (dead-lettered) and pending prospects."""
    factory, store, _ = _factory(endpoint_url, table_prefix, abc_base_url, sandbox)
    report = redrive_prospects(store, factory.pusher(location))
    console.print(dict(report.outcomes) or "nothing to redrive")
    if report.failed:
        console.print(f"[red]still failing:[/] {', '.join(report.failed)}")
        raise typer.Exit(1)


@prospects_app.command()
def reintegrate(
    location: Location,
    abc_base_url: AbcBaseUrl = DEFAULT_BASE_URL,
    sandbox: Sandbox = False,
    restart: Annotated[bool, typer.Option(help="Run again after a finished run.")] = False,
    endpoint_url: EndpointUrl = None,
    table_prefix: TablePrefix = "",
) -> None:
    """One-time push of every prospect of the location to its (new) billing provider.
    Resumes from its checkpoint when run again."""
    factory, store, state = _factory(endpoint_url, table_prefix, abc_base_url, sandbox)
    base = factory.pusher(location)

    def make(scope: str) -> ProspectPusher:
        return ProspectPusher(base.settings, store, base.target, claim_scope=scope)

    report = reintegrate_prospects(store, state, make, location, restart=restart)
    console.print(f"run {report.run_id}: {dict(report.outcomes) or 'nothing to do'}")
    if report.failed:
        console.print(f"[red]failing (redrive later):[/] {', '.join(report.failed)}")
