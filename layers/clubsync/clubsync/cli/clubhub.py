"""`clubsync clubhub`: replay a Club Hub timeline (scenario/clubhub.py, docs/clubhub.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from clubsync.scenario.clubhub import EXAMPLES, load_clubhub_scenario, run_clubhub_scenario

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
