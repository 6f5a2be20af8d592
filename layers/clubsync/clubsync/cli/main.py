"""The `clubsync` command."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from clubsync.cli.aws_errors import EXIT_AWS_RESOURCE, EXIT_AWS_SETUP, explain

console = Console()
errors = Console(stderr=True, highlight=False)
# Kept for callers and tests: the exit code of a machine without AWS set up (cli/aws_errors.py).
EXIT_NOT_CONFIGURED = EXIT_AWS_SETUP


class _Commands(TyperGroup):
    """The `clubsync` group: an AWS or billing error in any command ends with one line saying
    what is wrong and what to do and a documented exit code (cli/aws_errors.py), not botocore's
    traceback (every subcommand runs inside this group's `invoke`)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            explained = explain(error)
            if explained is None:
                raise
        # AWS messages may hold brackets: printed as text, not as rich markup.
        errors.print(f"[red]{escape(explained.line)}[/]", soft_wrap=True)
        raise typer.Exit(explained.exit_code)


app = typer.Typer(
    cls=_Commands,
    help="clubsync: keeps a fitness club's CRM in sync with its billing system.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def use_deployed_stack(
    stack: Annotated[
        str | None,
        typer.Option(
            "--stack",
            envvar="CLUBSYNC_STACK",
            help="A deployed stack (e.g. Clubsync-prod): its outputs give every command its "
            "tables, ARNs, schedule group and secret prefix; explicit options still win.",
        ),
    ] = None,
) -> None:
    if stack:
        from clubsync.cli.stack import StackNotFound, use_stack

        try:
            use_stack(stack)
        except StackNotFound as missing:
            errors.print(f"[red]{escape(str(missing))}[/]", soft_wrap=True)
            raise typer.Exit(EXIT_AWS_RESOURCE) from missing


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


class SandboxProvider(StrEnum):
    abc = "abc"
    mindbody = "mindbody"


@app.command()
def sandbox(
    port: Annotated[
        int, typer.Option(min=0, max=MAX_PORT, help="Port on 127.0.0.1 (0 picks a free one).")
    ] = 8099,
    provider: Annotated[
        SandboxProvider, typer.Option(help="Which billing API to serve.")
    ] = SandboxProvider.abc,
    club: Annotated[str, typer.Option(help="Club number to serve (abc).")] = "0451",
    site: Annotated[str, typer.Option(help="Mindbody SiteId to serve (mindbody).")] = "-99",
    time_zone: Annotated[str, typer.Option(help="The club's IANA time zone.")] = "America/Chicago",
    members: Annotated[
        int, typer.Option(min=0, help="Generated members (ignored with --file).")
    ] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the generated data.")] = 7,
    file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="ABC-shaped JSON to serve instead (abc)."),
    ] = None,
) -> None:
    """Serve a billing API (ABC by default, or Mindbody) on 127.0.0.1 until interrupted
    (docs/sandbox.md)."""
    served: Any
    try:
        if provider is SandboxProvider.mindbody:
            served, headline, how = _mindbody_sandbox(site, time_zone, members, seed, file)
        else:
            served, headline, how = _abc_sandbox(club, time_zone, members, seed, file)
    except ValueError as error:
        console.print(f"[red]Cannot load the sandbox data:[/] {error}", soft_wrap=True)
        raise typer.Exit(2) from error
    try:
        url = served.start(port=port)
    except OSError as error:  # taken, or below 1024 without the right to bind it
        console.print(
            f"[red]Cannot serve on 127.0.0.1:{port}:[/] {error.strerror}; choose another "
            "--port (0 picks a free one).",
            soft_wrap=True,
        )
        raise typer.Exit(2) from error
    console.print(f"{headline} at [bold]{url}[/]")
    console.print(how)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        served.stop()


def _abc_sandbox(
    club: str, time_zone: str, members: int, seed: int, file: Path | None
) -> tuple[Any, str, str]:
    from clubsync.sandbox import BillingSandbox

    billing = BillingSandbox(now=datetime.now(UTC))
    if file is not None:
        billing.load_file(file)
    else:
        billing.add_club(club, time_zone)
        billing.generate_members(club, members, seed=seed)
    return (
        billing,
        f"Billing sandbox serving clubs {', '.join(billing.clubs)}",
        "Credentials: app_id=sandbox app_key=sandbox. Control API: /_sandbox/. Ctrl-C stops.",
    )


def _mindbody_sandbox(
    site: str, time_zone: str, members: int, seed: int, file: Path | None
) -> tuple[Any, str, str]:
    from clubsync.sandbox.mindbody import MindbodySandbox

    if file is not None:
        raise ValueError("--file holds ABC-shaped data; the Mindbody sandbox generates its studio")
    if not site.lstrip("-").isdigit():
        raise ValueError(f"--site: a Mindbody SiteId is a whole number, not {site!r}")
    mindbody = MindbodySandbox(now=datetime.now(UTC))
    mindbody.add_site(site, time_zone)
    mindbody.generate_studio(site, members, seed=seed)
    return (
        mindbody,
        f"Mindbody sandbox serving site {site} ({members} clients)",
        f"Headers: API-Key: sandbox, SiteId: {site}; staff login sandbox/sandbox "
        "(POST /usertoken/issue). Control API: /_sandbox/. Ctrl-C stops.",
    )


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
