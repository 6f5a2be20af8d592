"""`clubsync duplicates`: the duplicate report and its resolutions (docs/duplicates.md)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from clubsync.features.duplicates import Action, DuplicateReport, Duplicates, ResolutionRefused
from clubsync.runtime.aws import ENDPOINT_ENV, aws_client
from clubsync.store.audit import AuditEntry
from clubsync.store.entities import EntityRepository
from clubsync.store.items import DynamoItemTable
from clubsync.store.state import StateRepository
from clubsync.store.tables import ENTITIES, STATE

duplicates_app = typer.Typer(no_args_is_help=True, help="Duplicate accounts and agreements.")
console = Console()

EndpointOption = Annotated[
    str | None, typer.Option(envvar=ENDPOINT_ENV, help="AWS endpoint (moto on 127.0.0.1).")
]
PrefixOption = Annotated[str, typer.Option(help="Prefix of local table names.")]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show every change and write nothing.")
]


def _duplicates(endpoint_url: str | None, table_prefix: str) -> Duplicates:
    client = aws_client("dynamodb", endpoint_url)
    return Duplicates(
        EntityRepository(DynamoItemTable(client, ENTITIES.resolved_name(table_prefix))),
        StateRepository(DynamoItemTable(client, STATE.resolved_name(table_prefix))),
    )


@duplicates_app.command("report")
def report(
    location: Annotated[list[str], typer.Option(help="Location id; repeat for several.")],
    across: Annotated[
        bool, typer.Option("--across", help="Also group accounts across the given locations.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    endpoint_url: EndpointOption = None,
    table_prefix: PrefixOption = "",
) -> None:
    """List groups of matching accounts, duplicated agreements and billing findings, each with
    the action the duplicates FAQ prescribes."""
    result = _duplicates(endpoint_url, table_prefix).report(location, across=across)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    _print_report(result)


def _print_report(result: DuplicateReport) -> None:
    if not (result.groups or result.agreement_groups or result.billing_findings):
        console.print(f"No duplicates at {', '.join(result.locations)}.")
        return
    if result.groups:
        table = Table(title="Matching accounts")
        for column in ("group", "action", "accounts (type: agreements @ location)", "why"):
            table.add_column(column)
        for group in result.groups:
            accounts = "\n".join(
                f"{a.person_id} ({a.kind.value}: {', '.join(a.agreements) or 'no agreement'}"
                f" @ {a.location_id})"
                for a in group.accounts
            )
            table.add_row(group.group_id, group.action.value, accounts, group.reason)
        console.print(table)
    if result.agreement_groups:
        table = Table(title="Duplicated agreements")
        for column in ("group", "action", "keep", "archive"):
            table.add_column(column)
        for group in result.agreement_groups:
            table.add_row(
                group.group_id, group.action.value, group.keep or "", "\n".join(group.remove)
            )
        console.print(table)
    if result.billing_findings:
        table = Table(title="Fix in billing")
        for column in ("provider", "reason", "billing accounts", "membership", "count"):
            table.add_column(column)
        for finding in result.billing_findings:
            table.add_row(
                finding.provider,
                finding.reason,
                ", ".join(finding.accounts),
                finding.membership_id or "",
                str(finding.count),
            )
        console.print(table)


def _print_entry(entry: AuditEntry, dry_run: bool) -> None:
    verb = "Would change" if dry_run else "Changed"
    console.print(f"{verb} {len(entry.changes)} item(s) ({entry.action}, group {entry.group_id}):")
    for change in entry.changes:
        what = "create" if change.before is None else "delete" if change.after is None else "update"
        console.print(f"  {what} {change.key[1]}")
    if not dry_run:
        console.print(f"Audit id: [bold]{entry.audit_id}[/] (undo with `duplicates undo`).")


@duplicates_app.command("resolve")
def resolve(
    location: Annotated[str, typer.Option(help="Location id.")],
    group: Annotated[str, typer.Option(help="Group id from the report.")],
    action: Annotated[Action, typer.Option(help="The action the report prescribes.")],
    dry_run: DryRunOption = False,
    endpoint_url: EndpointOption = None,
    table_prefix: PrefixOption = "",
) -> None:
    """Apply the prescribed action to one group: merge, delete (soft) or archive."""
    try:
        entry = _duplicates(endpoint_url, table_prefix).resolve(
            location, group, action, dry_run=dry_run
        )
    except ResolutionRefused as refused:
        console.print(f"[red]Refused:[/] {refused}")
        raise typer.Exit(1) from refused
    _print_entry(entry, dry_run)


@duplicates_app.command("undo")
def undo(
    location: Annotated[str, typer.Option(help="Location id.")],
    audit: Annotated[str, typer.Option(help="Audit id printed by `resolve`.")],
    dry_run: DryRunOption = False,
    endpoint_url: EndpointOption = None,
    table_prefix: PrefixOption = "",
) -> None:
    """Revert a resolution from its audit entry, if nobody changed those items since."""
    try:
        entry = _duplicates(endpoint_url, table_prefix).undo(location, audit, dry_run=dry_run)
    except ResolutionRefused as refused:
        console.print(f"[red]Refused:[/] {refused}")
        raise typer.Exit(1) from refused
    _print_entry(entry, dry_run)


@duplicates_app.command("audit")
def audit(
    location: Annotated[str, typer.Option(help="Location id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print entries as JSON.")] = False,
    endpoint_url: EndpointOption = None,
    table_prefix: PrefixOption = "",
) -> None:
    """The audit trail of resolutions at a location, oldest first."""
    entries = _duplicates(endpoint_url, table_prefix).audit.entries(location)
    if as_json:
        typer.echo(json.dumps([e.model_dump(mode="json") for e in entries], indent=2))
        return
    for entry in entries:
        undone = f" (undone {entry.undone_at:%Y-%m-%d %H:%M})" if entry.undone_at else ""
        console.print(
            f"{entry.at:%Y-%m-%d %H:%M} {entry.audit_id} {entry.action} {entry.group_id}: "
            f"{len(entry.changes)} item(s){undone}"
        )
