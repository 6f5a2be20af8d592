"""`clubsync scenario`: replay a location's sync timeline locally (docs/scenarios.md).

Exit codes of `run`: 0 every expectation holds, 1 an expectation failed (a sync status
included), 2 the scenario file is invalid or a step cannot be applied.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from clubsync.scenario.model import Scenario
from clubsync.scenario.runner import ScenarioError, ScenarioResult, load_scenario, run_scenario

EXIT_EXPECTATION_FAILED = 1
EXIT_INVALID = 2
COUNT_COLUMNS = ("created", "converted", "updated", "unchanged", "quarantined", "ignored")

scenario_app = typer.Typer(
    help="Replay a location's sync timeline against the billing sandbox and moto.",
    no_args_is_help=True,
)
# The terminal's width, or 120 columns when the output is a file or a pipe (rich would use 80,
# too narrow for the sync table).
console = Console(highlight=False, width=shutil.get_terminal_size((120, 24)).columns)
errors = Console(stderr=True, highlight=False)


@scenario_app.callback()
def _group() -> None:
    """Replay a location's sync timeline against the billing sandbox and moto."""


FileArgument = Annotated[
    Path, typer.Argument(help="Scenario file (JSON, see docs/scenarios.md).", show_default=False)
]


def _load(file: Path) -> Scenario:
    try:
        return load_scenario(file)
    except ScenarioError as error:
        _invalid(error)


def _invalid(error: ScenarioError) -> NoReturn:
    errors.print(f"[red]Invalid scenario:[/] {escape(error.message)}", soft_wrap=True)
    for problem in error.problems:
        errors.print(f"  - {escape(problem)}", soft_wrap=True)
    raise typer.Exit(EXIT_INVALID)


@scenario_app.command("run")
def run(
    file: FileArgument,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the resulting CRM state here as JSON."),
    ] = None,
) -> None:
    """Run a scenario; print each sync step and the expectations, optionally write the result."""
    scenario = _load(file)
    console.print(
        f"Replaying [bold]{escape(scenario.name)}[/] at location {scenario.location.location_id}"
    )
    try:
        result = run_scenario(scenario)
    except ScenarioError as error:
        _invalid(error)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(result.to_json(), encoding="utf-8")
    print_result(result, console)
    if out is not None:
        console.print(f"Result written to {out}")
    if not result.ok:
        raise typer.Exit(EXIT_EXPECTATION_FAILED)


@scenario_app.command("check")
def check(file: FileArgument) -> None:
    """Validate a scenario file without running it."""
    scenario = _load(file)
    console.print(
        f"[green]OK[/] {escape(scenario.name)}: {len(scenario.steps)} steps from "
        f"{scenario.billing.start} to {scenario.steps[-1].at} ({scenario.location.time_zone})"
    )


@scenario_app.command("examples")
def examples() -> None:
    """List the scenarios shipped with clubsync and where they are."""
    folder = Path(str(resources.files("clubsync.scenario").joinpath("examples")))
    table = Table(title="Shipped scenarios", box=box.SIMPLE_HEAD)
    table.add_column("file", no_wrap=True)
    table.add_column("description")
    for path in sorted(folder.glob("*.json")):
        try:
            description = load_scenario(path).description
        except ScenarioError as error:  # pragma: no cover - shipped files are tested
            description = f"(invalid: {error.message})"
        table.add_row(Text(path.name), Text(description))
    console.print(table)
    console.print(Text(f"In {folder}; run one with: clubsync scenario run {folder}/<file>"))


def print_result(result: ScenarioResult, out: Console) -> None:
    """One table row per sync step, failure messages under it, then the expectations."""
    syncs = Table(
        title=f"Syncs of {result.location} (times local to {result.time_zone})",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for column in ("step", "at", "sync", "run", "status", *COUNT_COLUMNS):
        numeric = column in COUNT_COLUMNS
        syncs.add_column(
            column,
            justify="right" if numeric else "left",
            no_wrap=True,
            min_width=len(column) if numeric else None,
        )
    runs = {run["run_id"]: run for run in result.runs}
    messages: list[str] = []
    for step in result.steps:
        if step.action != "sync":
            continue
        counts = step.counts or {}
        status = step.status or ""
        style = "green" if status == "succeeded" else "red"
        syncs.add_row(
            str(step.index),
            step.at,
            str(runs.get(step.run or "", {}).get("kind", "")),
            step.run or "",
            Text(status, style=style),
            *(str(counts.get(name, 0)) for name in COUNT_COLUMNS),
        )
        if step.detail:
            messages.append(f"{step.run} (step {step.index}, {step.at}): {step.detail}")
    out.print(syncs)
    for message in messages:
        out.print(Text(message))
    out.print(Text("State: " + ", ".join(f"{k} {v}" for k, v in result.summary.items())))
    out.print()
    for expectation in result.expectations:
        if expectation.ok:
            line = Text("pass ", style="green")
            line.append(f"{expectation.name} = {_json(expectation.actual)}")
        else:
            line = Text("FAIL ", style="bold red")
            line.append(
                f"{expectation.name}: expected {_json(expectation.expected)}, "
                f"got {_json(expectation.actual)}"
            )
        out.print(line)
    failed = len(result.failed_expectations)
    total = len(result.expectations)
    if failed:
        out.print(Text(f"{failed} of {total} expectations failed", style="bold red"))
    else:
        out.print(Text(f"All {total} expectations hold", style="green"))


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=str)
