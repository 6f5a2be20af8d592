"""`clubsync dlq`: the dead-letter queues' depths and their redrive (features/dead_letters.py).

Where each queue and function is: an option, else an environment variable. Each value is looked
up in one function (`queue_url`, `function_name`), the one place a stack's outputs can be wired
in."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from clubsync.domain.runs import SyncType
from clubsync.features.dead_letters import NoTarget, Redriven, TargetOf, aws_dispatch, redrive
from clubsync.runtime.aws import ENDPOINT_ENV, aws_client

dlq_app = typer.Typer(no_args_is_help=True, help="Dead-letter queues: redrive failed events.")
console = Console()
errors = Console(stderr=True, highlight=False)

QUEUES = ("sync", "prospects", "registry")
# The stack's outputs SyncDeadLetterQueueUrl and ProspectDeadLetterQueueUrl.
QUEUE_URL_ENV = {
    "sync": "CLUBSYNC_SYNC_DLQ_URL",
    "prospects": "CLUBSYNC_PROSPECT_DLQ_URL",
    "registry": "CLUBSYNC_REGISTRY_DLQ_URL",
}
# Where a sync event goes back to, by sync type (CLUBSYNC_SYNC_FUNCTION_MEMBERS,
# CLUBSYNC_SYNC_FUNCTION_CHECKINS: the partial-sync functions share the queue; stack outputs
# SyncFunctionArn, CheckinsSyncFunctionArn), and a full sync event's state machine (output
# FullSyncStateMachineArn).
SYNC_FUNCTION_ENV = "CLUBSYNC_SYNC_FUNCTION_"
STATE_MACHINE_ENV = "CLUBSYNC_FULL_SYNC_STATE_MACHINE_ARN"
# What the prospect and registry queues hold instead of events, and what redoes their work.
NOT_EVENTS = {
    "prospects": "a prospect the push gave up on or a stream batch's coordinates, not an "
    "event: fix the cause, run `clubsync prospects redrive --location L`, then purge",
    "registry": "a stream batch's coordinates, not an event: fix the cause, run "
    "`clubsync locations reconcile`, then purge",
}
EXIT_REFUSED = 2


def queue_url(queue: str, given: str | None = None) -> str | None:
    """The URL of a dead-letter queue: the option given, else its environment variable."""
    return given or os.environ.get(QUEUE_URL_ENV[queue]) or None


def function_name(sync_type: str, given: dict[str, str]) -> str | None:
    """The sync function a `sync_type` event goes back to: an option given (`TYPE=NAME`, or
    `NAME` for every type), else its environment variable."""
    return (
        given.get(sync_type)
        or given.get("")
        or os.environ.get(f"{SYNC_FUNCTION_ENV}{sync_type.upper()}")
        or None
    )


def state_machine_arn(given: str | None) -> str | None:
    """The full sync state machine a `"kind": "full"` event starts an execution of."""
    return given or os.environ.get(STATE_MACHINE_ENV) or None


def _functions(values: list[str]) -> dict[str, str]:
    named: dict[str, str] = {}
    known = {sync_type.value for sync_type in SyncType}
    for value in values:
        kind, _, name = value.rpartition("=")
        if kind and kind not in known:
            errors.print(
                f"[red]--function {value}:[/] {kind!r} is no sync type; use TYPE=NAME with one "
                f"of {', '.join(sorted(known))}, or NAME alone.",
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_REFUSED)
        named[kind] = name
    return named


def _target_of(queue: str, functions: dict[str, str], state_machine: str | None) -> TargetOf:
    def target(body: dict[str, Any]) -> str:
        if queue in NOT_EVENTS:
            raise NoTarget(NOT_EVENTS[queue])
        if body.get("kind") == "full":
            if state_machine is None:
                raise NoTarget(f"a full sync: give --state-machine or set {STATE_MACHINE_ENV}")
            return state_machine
        # A members event carries no sync type (features/scheduling.py: sync_event).
        sync_type = str(body.get("sync_type", SyncType.MEMBERS.value))
        name = function_name(sync_type, functions)
        if name is None:
            raise NoTarget(
                f"a {sync_type} sync: give --function {sync_type}=NAME or set "
                f"{SYNC_FUNCTION_ENV}{sync_type.upper()}"
            )
        return name

    return target


@dlq_app.command(name="redrive")
def redrive_command(
    queue: Annotated[str, typer.Option(help="Which queue: sync, prospects or registry.")],
    queue_url_option: Annotated[
        str | None,
        typer.Option("--queue-url", help="The queue's URL (else CLUBSYNC_<QUEUE>_DLQ_URL)."),
    ] = None,
    function: Annotated[
        list[str] | None,
        typer.Option(
            help="Sync function for the sync queue's events: NAME, or TYPE=NAME per sync type "
            "(repeatable; else CLUBSYNC_SYNC_FUNCTION_<TYPE>)."
        ),
    ] = None,
    state_machine: Annotated[
        str | None,
        typer.Option(
            help=f"Full sync state machine ARN, for full sync events (else {STATE_MACHINE_ENV})."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be redriven; change nothing.")
    ] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many messages.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    endpoint_url: Annotated[
        str | None,
        typer.Option(envvar=ENDPOINT_ENV, help="AWS endpoint (moto on 127.0.0.1)."),
    ] = None,
) -> None:
    """Send each message of a dead-letter queue back to where it failed (an asynchronous
    invoke, or a state machine execution), deleting it only once that was accepted."""
    if queue not in QUEUES:
        errors.print(f"[red]--queue {queue}:[/] choose one of {', '.join(QUEUES)}.", soft_wrap=True)
        raise typer.Exit(EXIT_REFUSED)
    url = queue_url(queue, queue_url_option)
    if url is None:
        errors.print(
            f"[red]No URL for the {queue} dead-letter queue:[/] give --queue-url or set "
            f"{QUEUE_URL_ENV[queue]}.",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_REFUSED)
    results = redrive(
        aws_client("sqs", endpoint_url),
        aws_dispatch(aws_client("lambda", endpoint_url), aws_client("stepfunctions", endpoint_url)),
        url,
        _target_of(queue, _functions(function or []), state_machine_arn(state_machine)),
        dry_run=dry_run,
        limit=limit,
    )
    if as_json:
        typer.echo(json.dumps([result.model_dump() for result in results], indent=2))
    else:
        _print(queue, results, dry_run)
    if any(result.outcome.startswith("kept") for result in results):
        raise typer.Exit(1)


def _print(queue: str, results: list[Redriven], dry_run: bool) -> None:
    if not results:
        console.print(f"The {queue} dead-letter queue is empty.")
        return
    table = Table(title=f"{'Dry run: ' if dry_run else ''}{queue} dead-letter queue")
    table.add_column("message", overflow="fold")
    table.add_column("target", overflow="fold")
    table.add_column("outcome", overflow="fold")
    table.add_column("event", overflow="fold")
    for result in results:
        table.add_row(result.message_id, result.target or "-", result.outcome, result.body)
    console.print(table)
    moved = sum(1 for result in results if result.outcome == "redriven")
    kept = sum(1 for result in results if result.outcome.startswith("kept"))
    if dry_run:
        console.print(f"{len(results)} message(s) would be redriven; nothing changed.")
    else:
        console.print(f"{moved} redriven and deleted, {kept} kept in the queue.")
