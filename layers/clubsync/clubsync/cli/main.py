"""The `clubsync` command."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

console = Console()
errors = Console(stderr=True, highlight=False)
# Like every refusal of the CLI: nothing ran.
EXIT_NOT_CONFIGURED = 2


class _Commands(TyperGroup):
    """The `clubsync` group: a command that needs AWS on a machine without it set up ends with
    one line saying what to set, not botocore's traceback (every subcommand runs inside this
    group's `invoke`)."""

    def invoke(self, ctx: Any) -> Any:
        from botocore.exceptions import NoCredentialsError

        from clubsync.runtime.aws import AwsNotConfigured

        try:
            return super().invoke(ctx)
        except AwsNotConfigured as error:
            problem = str(error)
        except NoCredentialsError:
            problem = (
                "No AWS credentials found: configure a profile (aws configure, or AWS_PROFILE) "
                "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for moto give "
                "--endpoint-url."
            )
        errors.print(f"[red]{problem}[/]", soft_wrap=True)
        raise typer.Exit(EXIT_NOT_CONFIGURED)


app = typer.Typer(
    cls=_Commands,
    help="clubsync: keeps a fitness club's CRM in sync with its billing system.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# A TCP port: typer refuses anything else with a one-line "Invalid value for '--port'".
MAX_PORT = 65535


@app.command()
def demo(
    members: Annotated[
        int, typer.Option(min=10, max=100_000, help="Members in the sandbox club.")
    ] = 3000,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 7,
) -> None:
    """Run the member sync end to end on this machine: moto + the billing sandbox."""
    from clubsync.cli.demo import run_demo

    run_demo(members, seed=seed, console=console)


@app.command()
def sandbox(
    port: Annotated[
        int, typer.Option(min=0, max=MAX_PORT, help="Port on 127.0.0.1 (0 picks a free one).")
    ] = 8099,
    club: Annotated[str, typer.Option(help="Club number to serve.")] = "0451",
    time_zone: Annotated[str, typer.Option(help="The club's IANA time zone.")] = "America/Chicago",
    members: Annotated[
        int, typer.Option(min=0, help="Generated members (ignored with --file).")
    ] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 7,
    file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="ABC-shaped JSON to serve instead."),
    ] = None,
) -> None:
    """Serve the ABC API shape on 127.0.0.1 until interrupted (docs/sandbox.md)."""
    from clubsync.sandbox import BillingSandbox

    billing = BillingSandbox(now=datetime.now(UTC))
    try:
        if file is not None:
            billing.load_file(file)
        else:
            billing.add_club(club, time_zone)
            billing.generate_members(club, members, seed=seed)
    except ValueError as error:
        console.print(f"[red]Cannot load the sandbox data:[/] {error}", soft_wrap=True)
        raise typer.Exit(2) from error
    try:
        url = billing.start(port=port)
    except OSError as error:  # taken, or below 1024 without the right to bind it
        console.print(
            f"[red]Cannot serve on 127.0.0.1:{port}:[/] {error.strerror}; choose another "
            "--port (0 picks a free one).",
            soft_wrap=True,
        )
        raise typer.Exit(2) from error
    console.print(f"Billing sandbox serving clubs {', '.join(billing.clubs)} at [bold]{url}[/]")
    console.print(
        "Credentials: app_id=sandbox app_key=sandbox. Control API: /_sandbox/. Ctrl-C stops."
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        billing.stop()


def _register_subcommands() -> None:
    from clubsync.cli import (
        clubhub,
        dlq,
        duplicates,
        feeds,
        followups,
        locations,
        prospects,
        runs,
        scenario,
        status,
    )

    app.add_typer(scenario.scenario_app, name="scenario", help="Replay a customer's sync timeline.")
    app.add_typer(locations.locations_app, name="locations", help="Register club locations.")
    app.add_typer(prospects.prospects_app, name="prospects", help="Prospects pushed to billing.")
    app.add_typer(duplicates.duplicates_app, name="duplicates", help="Duplicate accounts.")
    app.add_typer(clubhub.clubhub_app, name="clubhub", help="Club Hub: replay pushes and pulls.")
    app.add_typer(followups.followups_app, name="followups", help="Follow-ups due and schedules.")
    app.add_typer(feeds.feeds_app, name="feeds", help="Delivered files: import one, check a map.")
    app.add_typer(dlq.dlq_app, name="dlq", help="Dead-letter queues: redrive failed events.")
    app.command(name="runs")(runs.show_runs)
    app.command(name="status")(status.show_status)


_register_subcommands()
