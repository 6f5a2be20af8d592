"""`clubsync locations`: register, change and remove club locations (the registry in the
state table); their schedules follow.

Deployed, the registry function reconciles schedules from the state table's stream, so
`apply` only writes the registry. Against moto (`--endpoint-url`), or with `--reconcile`, the
command reconciles the schedules itself. A location file is checked whole before anything is
written: one bad location refuses the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from clubsync.cli.stack import SCHEDULE_GROUP_ENV, SECRET_PREFIX_ENV
from clubsync.domain.settings import (
    DEFAULT_PROVIDER,
    LocationSettings,
    locations_sharing_a_club,
)
from clubsync.features.scheduling import (
    CHECKINS_TARGET_ENV,
    FULL_SYNC_TARGET_ENV,
    ReconcileReport,
    desired_schedules,
    reconcile,
    unsafe_local_hours,
)
from clubsync.providers.abc.client import DEFAULT_BASE_URL
from clubsync.providers.base import ProviderRefused
from clubsync.providers.registry import (
    SecretReader,
    account_problems,
    connect_location,
    named_secret,
)
from clubsync.runtime.aws import aws_client, endpoint_url
from clubsync.store.entities import EntityRepository
from clubsync.store.items import DynamoItemTable
from clubsync.store.state import StateRepository
from clubsync.store.tables import ENTITIES, STATE

locations_app = typer.Typer(
    no_args_is_help=True,
    help="Register club locations; their sync schedules follow.",
    pretty_exceptions_show_locals=False,
)
console = Console()

DEFAULT_SECRET_PREFIX = "clubsync/"
# The group local runs (moto) create on first use; deployed, the stack's output names it.
LOCAL_SCHEDULE_GROUP = "clubsync-dev"
# Stand-in ARNs for moto: Scheduler stores them, nothing is invoked locally.
LOCAL_ACCOUNT_ARN = "arn:aws:{service}:us-east-1:123456789012:{resource}"


class LocationFileError(ValueError):
    """The file cannot be applied; `problems` names each location and field at fault."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def _describe(error: ValidationError) -> list[str]:
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in problem["loc"]) or "location"
        problems.append(f"{where}: {problem['msg'].removeprefix('Value error, ')}")
    return problems


def parse_locations(
    data: Any, *, secret_prefix: str = DEFAULT_SECRET_PREFIX
) -> list[LocationSettings]:
    """Every location of a `{"locations": [...]}` document, or LocationFileError listing every
    problem of every location."""
    if not isinstance(data, dict) or not isinstance(data.get("locations"), list):
        raise LocationFileError(['file: expected an object {"locations": [ ... ]}'])
    extra = sorted(set(data) - {"locations"})
    problems = [f"file: unknown key {name!r}" for name in extra]
    parsed: list[LocationSettings] = []
    seen: dict[str, int] = {}
    for position, entry in enumerate(data["locations"]):
        label = f"locations[{position}]"
        if isinstance(entry, dict) and isinstance(entry.get("location_id"), str):
            label += f" ({entry['location_id']})"
        try:
            settings = LocationSettings.model_validate(entry)
        except ValidationError as error:
            problems += [f"{label}: {problem}" for problem in _describe(error)]
            continue
        # The account is the provider's to judge (its own model): one line per field.
        problems += [f"{label}: {problem}" for problem in account_problems(settings)]
        if settings.location_id in seen:
            problems.append(
                f"{label}: location_id {settings.location_id!r} already used by "
                f"locations[{seen[settings.location_id]}]"
            )
        seen.setdefault(settings.location_id, position)
        if settings.billing_secret_name and not settings.billing_secret_name.startswith(
            secret_prefix
        ):
            problems.append(
                f"{label}: billing_secret_name: must start with {secret_prefix!r} (the sync "
                "function may read only those secrets)"
            )
        parsed.append(settings)
    by_id = {settings.location_id: settings for settings in parsed}
    for (provider, _), location_ids in locations_sharing_a_club(parsed).items():
        named = " and ".join(f"locations[{seen[i]}] ({i})" for i in location_ids)
        problems.append(
            f"{by_id[location_ids[0]].account_label} ({provider}) is given to {named}: each "
            "location is its own club in billing, with its own account"
        )
    if problems:
        raise LocationFileError(problems)
    return parsed


def registry_clashes(
    registered: Sequence[LocationSettings],
    locations: Sequence[LocationSettings],
    *,
    prune: bool = False,
) -> list[str]:
    """Why `locations` cannot join the registry: a club number a registered location the file
    does not list (and `prune` does not remove) already has."""
    listed = {settings.location_id for settings in locations}
    kept = [] if prune else [s for s in registered if s.location_id not in listed]
    kept_ids = {settings.location_id for settings in kept}
    problems = []
    by_id = {settings.location_id: settings for settings in [*locations, *kept]}
    for (provider, _), location_ids in locations_sharing_a_club([*locations, *kept]).items():
        new = [i for i in location_ids if i not in kept_ids]
        old = [i for i in location_ids if i in kept_ids]
        problems.append(
            f"{by_id[location_ids[0]].account_label} ({provider}) of "
            f"{', '.join(map(repr, new))} is already registered to "
            f"{', '.join(map(repr, old))}: change one account, or remove the other location "
            "(`clubsync locations remove`)"
        )
    return problems


def load_locations_file(
    path: Path, *, secret_prefix: str = DEFAULT_SECRET_PREFIX
) -> list[LocationSettings]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise LocationFileError(
            [
                f"{path.name}: not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
                f"{error.start}); save the file as UTF-8"
            ]
        ) from error
    except OSError as error:
        raise LocationFileError([f"{path.name}: cannot be read ({error.strerror})"]) from error
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise LocationFileError([f"{path.name}: YAML needs PyYAML; use JSON"]) from error
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise LocationFileError([f"{path.name}: not valid YAML ({error})"]) from error
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise LocationFileError(
                [f"{path.name}: not valid JSON ({error.msg} at line {error.lineno})"]
            ) from error
    return parse_locations(data, secret_prefix=secret_prefix)


@dataclass
class ApplyReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def touched(self) -> set[str]:
        return {*self.added, *self.changed, *self.removed}


def apply_locations(
    state: StateRepository, locations: Sequence[LocationSettings], *, prune: bool = False
) -> ApplyReport:
    """Writes new and changed locations (an unchanged one is not rewritten, so the stream
    stays quiet); with `prune`, removes registered locations the file does not list."""
    current = {settings.location_id: settings for settings in state.locations()}
    report = ApplyReport()
    for settings in locations:
        before = current.get(settings.location_id)
        if before == settings:
            report.unchanged.append(settings.location_id)
            continue
        state.put_location(settings)
        (report.changed if before else report.added).append(settings.location_id)
    if prune:
        for location_id in sorted(current.keys() - {s.location_id for s in locations}):
            state.delete_location(location_id)
            report.removed.append(location_id)
    return report


@dataclass(frozen=True)
class ScheduleTarget:
    group: str
    target_arn: str
    role_arn: str
    dlq_arn: str
    # None: the environment's (clubsync.features.scheduling), as the registry function reads them.
    full_sync_arn: str | None = None
    checkins_arn: str | None = None


def reconcile_locations(
    scheduler: Any, state: StateRepository, target: ScheduleTarget, only: set[str] | None
) -> ReconcileReport:
    """Schedules of `only` those locations (None: every location, and strays are deleted)
    made to match the registry."""
    registered = state.locations()
    if only is not None:
        registered = [settings for settings in registered if settings.location_id in only]
    desired = [
        spec
        for settings in registered
        for spec in desired_schedules(
            settings,
            target_arn=target.target_arn,
            role_arn=target.role_arn,
            dlq_arn=target.dlq_arn,
            group=target.group,
            full_sync_arn=target.full_sync_arn,
            checkins_arn=target.checkins_arn,
        )
    ]
    return reconcile(scheduler, target.group, desired, only_locations=only)


# -- the commands -------------------------------------------------------------------------
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        envvar="CLUBSYNC_AWS_ENDPOINT_URL",
        help="AWS endpoint for every client (moto's server, for local runs).",
    ),
]
PrefixOption = Annotated[str, typer.Option(help="Prefix of local table names.")]
GroupOption = Annotated[
    str | None,
    typer.Option(
        envvar=SCHEDULE_GROUP_ENV,
        help=f"Scheduler group (stack output ScheduleGroup; locally {LOCAL_SCHEDULE_GROUP}).",
    ),
]
TargetOption = Annotated[
    str | None,
    typer.Option(envvar="CLUBSYNC_SYNC_FUNCTION_ARN", help="Sync function ARN (stack output)."),
]
RoleOption = Annotated[
    str | None,
    typer.Option(envvar="CLUBSYNC_SCHEDULER_ROLE_ARN", help="Scheduler role ARN (stack output)."),
]
DlqOption = Annotated[
    str | None,
    typer.Option(
        envvar="CLUBSYNC_SCHEDULE_DLQ_ARN", help="Sync dead-letter queue ARN (stack output)."
    ),
]
FullSyncOption = Annotated[
    str | None,
    typer.Option(
        envvar=FULL_SYNC_TARGET_ENV,
        help="Full sync state machine ARN (stack output FullSyncStateMachineArn); without it "
        "the 21:00 schedule invokes the member sync.",
    ),
]
CheckinsOption = Annotated[
    str | None,
    typer.Option(
        envvar=CHECKINS_TARGET_ENV,
        help="Check-in sync function ARN (stack output CheckinsSyncFunctionArn) for the "
        "partial syncs; without it partial syncs run members only.",
    ),
]
ReconcileOption = Annotated[
    bool | None,
    typer.Option(
        "--reconcile/--no-reconcile",
        help="Reconcile schedules here (default: only against a local endpoint; deployed, "
        "the registry function does it).",
    ),
]


def _state(endpoint: str | None, table_prefix: str) -> StateRepository:
    client = aws_client("dynamodb", endpoint)
    return StateRepository(DynamoItemTable(client, STATE.resolved_name(table_prefix)))


def _target(
    endpoint: str | None,
    group: str | None,
    target: str | None,
    role: str | None,
    dlq: str | None,
    full_sync: str | None = None,
    checkins: str | None = None,
) -> ScheduleTarget:
    if endpoint_url(endpoint):
        local = LOCAL_ACCOUNT_ARN
        target = target or local.format(service="lambda", resource="function:clubsync-members")
        role = role or local.format(service="iam", resource="role/clubsync-scheduler")
        dlq = dlq or local.format(service="sqs", resource="clubsync-sync-dlq")
        group = group or LOCAL_SCHEDULE_GROUP
    needed = [
        ("--group", group),
        ("--target-arn", target),
        ("--role-arn", role),
        ("--dlq-arn", dlq),
    ]
    if not endpoint_url(endpoint):
        # Deployed, schedules without these would point the 21:00 sync at the member sync
        # alone and drop the check-in partials: refused rather than rolled back silently.
        needed += [("--full-sync-arn", full_sync), ("--checkins-arn", checkins)]
    missing = [name for name, value in needed if not value]
    if missing:
        console.print(
            f"[red]To reconcile schedules, give {', '.join(missing)}[/] (or --stack NAME: "
            "the stack's outputs; or the CLUBSYNC_* variables in docs/operations.md).",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    assert group and target and role and dlq
    return ScheduleTarget(
        group=group,
        target_arn=target,
        role_arn=role,
        dlq_arn=dlq,
        full_sync_arn=full_sync,
        checkins_arn=checkins,
    )


def _scheduler(endpoint: str | None, group: str) -> Any:
    scheduler = aws_client("scheduler", endpoint)
    if endpoint_url(endpoint):
        # Deployed, the stack owns the group; locally, create it on first use.
        existing = {g["Name"] for g in scheduler.list_schedule_groups().get("ScheduleGroups", [])}
        if group not in existing:
            scheduler.create_schedule_group(Name=group)
    return scheduler


def _print_reconciled(report: ReconcileReport) -> None:
    console.print(f"Schedules: {report.summary()}.")
    for label, names in (
        ("created", report.created),
        ("updated", report.updated),
        ("deleted", report.deleted),
    ):
        for name in names:
            console.print(f"  {label} {name}")


def _warn_about(locations: Sequence[LocationSettings]) -> None:
    year = datetime.now(UTC).year
    for settings in locations:
        if not settings.billing_secret_name:
            console.print(
                f"[yellow]{settings.location_id}: no billing_secret_name; its syncs are refused "
                "until one is set.[/]"
            )
        unsafe = unsafe_local_hours(
            settings.time_zone, settings.effective_partial_sync_hours(), year
        )
        for why in unsafe.values():
            console.print(
                f"[yellow]{settings.location_id}: partial sync at {why} in "
                f"{settings.time_zone}; that day's sync is skipped or runs twice.[/]"
            )


@locations_app.command("apply")
def apply_command(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="JSON (or YAML) location file.")
    ],
    prune: Annotated[
        bool, typer.Option(help="Also remove registered locations the file does not list.")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Check the file; change nothing.")] = False,
    secret_prefix: Annotated[
        str,
        typer.Option(
            envvar=SECRET_PREFIX_ENV,
            help="Billing secrets must start with this (the stack's output SecretPrefix).",
        ),
    ] = DEFAULT_SECRET_PREFIX,
    reconcile_here: ReconcileOption = None,
    endpoint: EndpointOption = None,
    table_prefix: PrefixOption = "",
    group: GroupOption = None,
    target_arn: TargetOption = None,
    role_arn: RoleOption = None,
    dlq_arn: DlqOption = None,
    full_sync_arn: FullSyncOption = None,
    checkins_arn: CheckinsOption = None,
) -> None:
    """Register or change the locations in FILE (the whole file is checked first)."""
    try:
        locations = load_locations_file(file, secret_prefix=secret_prefix)
    except LocationFileError as error:
        console.print(f"[red]{file.name} refused; nothing was changed:[/]")
        for problem in error.problems:
            console.print(f"  {problem}", markup=False, soft_wrap=True)
        raise typer.Exit(2) from error
    _warn_about(locations)
    if dry_run:
        console.print(f"{file.name}: {len(locations)} locations, all valid. Nothing changed.")
        return
    do_reconcile = (
        reconcile_here if reconcile_here is not None else endpoint_url(endpoint) is not None
    )
    target = (
        _target(endpoint, group, target_arn, role_arn, dlq_arn, full_sync_arn, checkins_arn)
        if do_reconcile
        else None
    )
    state = _state(endpoint, table_prefix)
    clashes = registry_clashes(state.locations(), locations, prune=prune)
    if clashes:
        console.print(f"[red]{file.name} refused; nothing was changed:[/]")
        for problem in clashes:
            console.print(f"  {problem}", markup=False, soft_wrap=True)
        raise typer.Exit(2)
    report = apply_locations(state, locations, prune=prune)
    console.print(
        f"Registry: {len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed."
    )
    if target is not None:
        scheduler = _scheduler(endpoint, target.group)
        # Unchanged locations too: a cheap check that repairs drift.
        only = report.touched | {s.location_id for s in locations}
        _print_reconciled(reconcile_locations(scheduler, state, target, only))


@locations_app.command("list")
def list_command(
    endpoint: EndpointOption = None,
    table_prefix: PrefixOption = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print a location file.")] = False,
) -> None:
    """The registered locations."""
    locations = sorted(_state(endpoint, table_prefix).locations(), key=lambda s: s.location_id)
    if as_json:
        document = {"locations": [s.model_dump(mode="json") for s in locations]}
        typer.echo(json.dumps(document, indent=2))
        return
    if not locations:
        console.print("No locations registered.")
        return
    for settings in locations:
        hours = ",".join(f"{h:02d}" for h in settings.effective_partial_sync_hours())
        provider = "" if settings.provider == DEFAULT_PROVIDER else f" ({settings.provider})"
        console.print(
            f"{settings.location_id}  club {settings.account_key}{provider}  {settings.time_zone}  "
            f"partial {hours or '-'}{'  (upgraded)' if settings.upgraded else ''}",
            markup=False,
        )


@locations_app.command("remove")
def remove_command(
    location_id: Annotated[str, typer.Argument(help="The location to remove.")],
    reconcile_here: ReconcileOption = None,
    endpoint: EndpointOption = None,
    table_prefix: PrefixOption = "",
    group: GroupOption = None,
    target_arn: TargetOption = None,
    role_arn: RoleOption = None,
    dlq_arn: DlqOption = None,
    full_sync_arn: FullSyncOption = None,
    checkins_arn: CheckinsOption = None,
) -> None:
    """Remove a location from the registry; its schedules are deleted. Its data stays."""
    state = _state(endpoint, table_prefix)
    if state.get_location(location_id) is None:
        console.print(f"[red]No location {location_id!r} is registered.[/]")
        raise typer.Exit(1)
    do_reconcile = (
        reconcile_here if reconcile_here is not None else endpoint_url(endpoint) is not None
    )
    target = (
        _target(endpoint, group, target_arn, role_arn, dlq_arn, full_sync_arn, checkins_arn)
        if do_reconcile
        else None
    )
    state.delete_location(location_id)
    console.print(f"Removed {location_id} from the registry.")
    if target is not None:
        scheduler = _scheduler(endpoint, target.group)
        _print_reconciled(reconcile_locations(scheduler, state, target, {location_id}))


@locations_app.command("reconcile")
def reconcile_command(
    endpoint: EndpointOption = None,
    table_prefix: PrefixOption = "",
    group: GroupOption = None,
    target_arn: TargetOption = None,
    role_arn: RoleOption = None,
    dlq_arn: DlqOption = None,
    full_sync_arn: FullSyncOption = None,
    checkins_arn: CheckinsOption = None,
) -> None:
    """Make every schedule in the group match the registry (repairs drift; deletes strays)."""
    target = _target(endpoint, group, target_arn, role_arn, dlq_arn, full_sync_arn, checkins_arn)
    state = _state(endpoint, table_prefix)
    _print_reconciled(reconcile_locations(_scheduler(endpoint, target.group), state, target, None))


@locations_app.command("onboard")
def onboard_command(
    location_id: Annotated[str, typer.Argument(help="The registered location to integrate.")],
    dry_run: Annotated[
        bool, typer.Option(help="Check the marker and the zone against billing; write nothing.")
    ] = False,
    again: Annotated[
        bool, typer.Option(help="Run the integration again on an integrated location.")
    ] = False,
    sandbox: Annotated[
        bool,
        typer.Option(help="Use the billing sandbox's credentials instead of Secrets Manager."),
    ] = False,
    abc_base_url: Annotated[
        str,
        typer.Option(envvar="CLUBSYNC_ABC_BASE_URL", help="ABC API base URL (or the sandbox's)."),
    ] = DEFAULT_BASE_URL,
    endpoint: EndpointOption = None,
    table_prefix: PrefixOption = "",
) -> None:
    """Initial integration of LOCATION, once: active members, employees and the billing
    system's prospects; refused when its zone is not the billing system's."""
    from clubsync.features.onboarding import OnboardingRefused, describe, onboard_location
    from clubsync.runtime.local import sandbox_client_options, sandbox_secret

    client = aws_client("dynamodb", endpoint)
    state = StateRepository(DynamoItemTable(client, STATE.resolved_name(table_prefix)))
    entities = EntityRepository(DynamoItemTable(client, ENTITIES.resolved_name(table_prefix)))
    settings = state.get_location(location_id)
    if settings is None:
        console.print(f"[red]No location {location_id!r} is registered.[/]")
        raise typer.Exit(1)
    reader: SecretReader
    if sandbox:
        reader = sandbox_secret
        options = sandbox_client_options(abc_base_url)
    else:
        secrets = aws_client("secretsmanager", endpoint)

        def read(name: str) -> Any:
            return json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])

        reader = named_secret(read)
        options = {"abc": {"base_url": abc_base_url}}
    try:
        connection = connect_location(settings, reader, client_options=options)
    except ProviderRefused as refused:
        console.print(f"[red]{refused}[/]", markup=False, soft_wrap=True)
        raise typer.Exit(2) from refused
    try:
        report = onboard_location(
            settings, connection, entities, state, again=again, dry_run=dry_run
        )
    except OnboardingRefused as refused:
        console.print(f"{refused}", style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1) from refused
    finally:
        connection.close()
    for line in describe(report):
        console.print(f"  {line}", markup=False, soft_wrap=True)
    if dry_run:
        console.print(f"{location_id}: zone checked with {report.provider}; nothing written.")
        return
    console.print(f"{location_id}: integrated onto {report.provider}.")
