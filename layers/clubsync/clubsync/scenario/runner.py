"""Replays a scenario: the billing sandbox over HTTP, moto's DynamoDB, and the real sync.

Each run starts a fresh moto server (`clubsync.runtime.local.moto_server`, on 127.0.0.1) and a fresh
billing sandbox, so nothing leaks from one replay into the next and the same file always gives
the same result. moto runs as a server rather than in-process (`mock_aws`) because:
- the sync then talks to DynamoDB exactly as it does in AWS: boto3 serialises real requests
  over HTTP, with the same paging, batch and condition-expression behaviour, so what support
  sees is what the Lambda function would have done;
- nothing is patched process-wide: `mock_aws` replaces botocore's transport for the whole
  process, which would also swallow the calls of any other boto3 client in the same process
  (a support engineer's session, a test using real AWS stubs) and is not safe to enter twice;
- it is the same setup as `clubsync demo` and the integration tests, so one path is exercised.
It costs about one second per replay to start, which is small next to a timeline.

The sandbox clock, the sync's clock (`SyncDependencies.clock`), the intake's and the prospect
push's are all the scenario clock: set to each step's time before the step runs, so sync
windows, watermarks, run times, push outcomes and billing's lastModifiedTimestamp stamps come
out as they did on the day, and the result holds no wall-clock time. Run ids are random; the
result replaces them by ordinals ("run-1", ...).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clubsync.domain.people import MembershipAgreement, Person, PersonKind
from clubsync.domain.runs import RunRecord, RunStatus, SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.engine.scheduled import SyncDependencies, run_scheduled_sync
from clubsync.features.prospect_intake import IntakeInvalid, ProspectIntake, parse_form
from clubsync.providers.base import Connection, MemberSource
from clubsync.resources.members import SyncFailed
from clubsync.runtime.local import (
    Repositories,
    create_tables,
    dynamo_repositories,
    dynamodb_client,
    moto_server,
    sandbox_connection,
)
from clubsync.runtime.local_streams import StreamPoller, local_prospect_push
from clubsync.sandbox import BillingSandbox, Fault
from clubsync.scenario.model import (
    Expectations,
    PersonCheck,
    Scenario,
    Step,
    describe_errors,
    local_to_aware,
)

SYNC_TYPE = SyncType.MEMBERS.value
SANDBOX_URL_PLACEHOLDER = "<sandbox>"
# Names of the checks of the top-level `expect` start with this; those of a step's `expect`
# with "steps[i] at <time>: ".
FINAL_PREFIX = "end: "


class ScenarioError(Exception):
    """The scenario cannot be loaded or run as written; `problems` names each field at fault."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message if not problems else f"{message}\n  " + "\n  ".join(problems))
        self.message = message
        self.problems = problems or []


# -- loading -----------------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Reads and validates a scenario file; raises ScenarioError with a readable reason."""
    file = Path(path)
    if not file.exists():
        raise ScenarioError(f"{file}: no such file")
    if not file.is_file():
        raise ScenarioError(f"{file}: not a file")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{file}: cannot be read ({error})") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioError(
            f"{file}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from error
    return parse_scenario(data, source=str(file))


def parse_scenario(data: Any, *, source: str = "scenario") -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a JSON object at the top level")
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(f"{source}: invalid scenario", validation_problems(error)) from error


def validation_problems(error: ValidationError) -> list[str]:
    """One line per problem, each starting with the field path (`steps[3].sync: ...`)."""
    problems: list[str] = []
    for problem in error.errors(include_url=False, include_input=False):
        path = _path(problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        if not path or message.startswith(path):
            problems.append(message)
        else:
            problems.append(f"{path}: {message}")
    return problems


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# -- the result ----------------------------------------------------------------------------------


class ExpectationResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    expected: Any
    actual: Any
    ok: bool


class StepOutcome(BaseModel):
    """What one step did, in the order of the file."""

    model_config = ConfigDict(extra="forbid")

    index: int
    at: str
    action: str
    note: str = ""
    detail: str = ""
    run: str | None = None
    status: str | None = None
    counts: dict[str, int] | None = None


class ScenarioResult(BaseModel):
    """The CRM state after the timeline, and how it got there. Deterministic: sorted, no
    wall-clock times, run ids replaced by ordinals."""

    model_config = ConfigDict(extra="forbid")

    scenario: str
    location: str
    time_zone: str
    steps: list[StepOutcome]
    people: list[dict[str, Any]]
    orphan_agreements: list[dict[str, Any]] = Field(
        default_factory=list, description="Agreements whose person is missing (should be none)."
    )
    quarantined: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    watermarks: dict[str, str | None]
    summary: dict[str, int]
    expectations: list[ExpectationResult]

    @property
    def ok(self) -> bool:
        return all(expectation.ok for expectation in self.expectations)

    @property
    def failed_expectations(self) -> list[ExpectationResult]:
        return [expectation for expectation in self.expectations if not expectation.ok]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


# -- the replay ----------------------------------------------------------------------------------


def run_scenario(scenario: Scenario) -> ScenarioResult:
    """Replays the timeline against a fresh sandbox and a fresh moto; returns the CRM state.

    Raises ScenarioError when a step cannot be applied (a billing change to a member that does
    not exist at that time, a record added twice). Failed expectations, and syncs that failed
    without `expect_failure` (or succeeded with it), are reported in the result, not raised."""
    with ExitStack() as stack:
        endpoint = stack.enter_context(moto_server())
        client = dynamodb_client(endpoint)
        create_tables(client)
        sandbox = BillingSandbox(now=local_to_aware(scenario.billing.start, scenario.zone))
        replay = _Replay(scenario, dynamo_repositories(client), sandbox)
        stack.enter_context(sandbox)
        stack.enter_context(replay.clients())
        # The push records the scenario's time too (`push.last_attempt_at`), not the wall clock.
        replay.poller = stack.enter_context(
            local_prospect_push(endpoint, sandbox.url, clock=replay.clock)
        )
        return replay.run()
    raise AssertionError("unreachable")  # pragma: no cover - ExitStack does not swallow


@dataclass
class _ScenarioClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class _Replay:
    scenario: Scenario
    repositories: Repositories
    sandbox: BillingSandbox
    settings: LocationSettings = field(init=False)
    clock: _ScenarioClock = field(init=False)
    outcomes: list[StepOutcome] = field(default_factory=list)
    expectations: list[ExpectationResult] = field(default_factory=list)
    run_names: dict[str, str] = field(default_factory=dict)
    run_steps: dict[str, int] = field(default_factory=dict)
    last_run: RunRecord | None = None
    # Feeds the entities stream to the real prospect_push handler after every step.
    poller: StreamPoller | None = None
    _open_clients: list[Connection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.settings = self.scenario.location
        self.clock = _ScenarioClock(self._instant(self.scenario.billing.start))

    @property
    def location_id(self) -> str:
        return self.settings.location_id

    @property
    def club(self) -> str:
        return self.settings.club_number

    def _instant(self, local: str) -> datetime:
        return local_to_aware(local, self.scenario.zone).astimezone(UTC)

    @contextmanager
    def clients(self) -> Iterator[None]:
        """Closes the HTTP clients the syncs opened."""
        try:
            yield
        finally:
            for client in self._open_clients:
                client.close()

    def _member_source(self, settings: LocationSettings) -> MemberSource:
        return sandbox_connection(self.sandbox.url, settings, self._open_clients).member_source()

    # -- set-up ----------------------------------------------------------------------------
    def run(self) -> ScenarioResult:
        self._set_up()
        if self.poller is not None:
            # The starting CRM data was pushed (or not) before the timeline begins.
            self.poller.skip_existing()
        for index, step in enumerate(self.scenario.steps):
            self.clock.now = self._instant(step.at)
            self.sandbox.set_clock(self.clock.now)
            self.outcomes.append(self._apply(index, step))
            if self.poller is not None:
                self.poller.drain()
        snapshot = self._snapshot()
        self.expectations.extend(
            _check(self.scenario.expect, snapshot, self.scenario, FINAL_PREFIX, self.last_run)
        )
        return self._result(snapshot)

    def _set_up(self) -> None:
        billing = self.scenario.billing
        self.repositories.state.put_location(self.settings)
        self.sandbox.add_club(self.club, self.settings.time_zone)
        if billing.generate is not None and billing.generate.members:
            self.sandbox.generate_members(
                self.club, billing.generate.members, seed=billing.generate.seed
            )
        for index, record in enumerate(billing.members):
            try:
                self.sandbox.add_member(self.club, record)
            except ValueError as error:
                raise ScenarioError(f"billing.members[{index}]: {error}") from error
        prospects = [
            Person(
                person_id=spec.person_id,
                location_id=self.location_id,
                kind=PersonKind.PROSPECT,
                follow_up_status=spec.follow_up_status,
                contact=spec.contact(),
                notes=spec.notes,
                marketing_source=spec.marketing_source,
                billing_member_id=spec.billing_member_id,
                created_at=self._instant(spec.created_at or billing.start),
            )
            for spec in self.scenario.crm.prospects
        ]
        if prospects:
            self.repositories.entities.save(people=prospects)

    # -- steps -----------------------------------------------------------------------------
    def _apply(self, index: int, step: Step) -> StepOutcome:
        outcome = StepOutcome(index=index, at=step.at, action=step.action, note=step.note)
        where = f"steps[{index}]"
        if step.sync is not None:
            self._sync(index, step, outcome)
        elif step.billing is not None:
            details: list[str] = []
            for j, change in enumerate(step.billing.modify):
                try:
                    self.sandbox.modify_member(self.club, change.member_id, dict(change.changes))
                except KeyError as error:
                    raise ScenarioError(
                        f"{where}.billing.modify[{j}].member_id: billing has no member "
                        f"{change.member_id!r} at {step.at}"
                    ) from error
                except ValueError as error:
                    raise ScenarioError(f"{where}.billing.modify[{j}].changes: {error}") from error
                details.append(f"modified {change.member_id} ({', '.join(sorted(change.changes))})")
            for j, record in enumerate(step.billing.add):
                try:
                    self.sandbox.add_member(self.club, record)
                except ValueError as error:
                    raise ScenarioError(f"{where}.billing.add[{j}]: {error}") from error
                details.append(f"added {record['memberId']}")
            outcome.detail = "; ".join(details)
        elif step.fault is not None:
            spec = step.fault
            self.sandbox.inject_fault(
                Fault(
                    kind=spec.kind,
                    count=spec.count,
                    delay_seconds=spec.delay_seconds,
                    message=spec.message,
                )
            )
            outcome.detail = f"fault {spec.kind.value} x{spec.count} queued"
        elif step.clear_faults is not None:
            self.sandbox.clear_faults()
            outcome.detail = "queued faults cleared"
        elif step.intake is not None:
            form = {"location_id": self.location_id, **step.intake}
            try:
                result = ProspectIntake(
                    self.repositories.entities,
                    self.repositories.state,
                    clock=self.clock,
                    # Readable, replayable ids: the prospect of step 3 is "intake-3".
                    new_id=lambda: f"intake-{index}",
                ).add(parse_form(form))
            except IntakeInvalid as error:
                raise ScenarioError(f"{where}.intake: {error}") from error
            outcome.detail = f"prospect {result.person_id} {result.outcome.value}"
        elif step.settings is not None:
            merged = {**self.settings.model_dump(), **step.settings}
            try:
                self.settings = LocationSettings.model_validate(merged)
            except ValidationError as error:  # pragma: no cover - checked when the file loads
                raise ScenarioError(f"{where}.settings: {describe_errors(error)}") from error
            self.repositories.state.put_location(self.settings)
            outcome.detail = "settings changed: " + ", ".join(sorted(step.settings))
        elif step.expect is not None:
            prefix = f"{where} at {step.at}: "
            found = _check(step.expect, self._snapshot(), self.scenario, prefix, self.last_run)
            self.expectations.extend(found)
            passed = sum(result.ok for result in found)
            outcome.detail = f"{passed} of {len(found)} expectations hold"
        return outcome

    def _sync(self, index: int, step: Step, outcome: StepOutcome) -> None:
        assert step.sync is not None
        event = {
            "location": self.location_id,
            "kind": step.sync.value,
            "scheduled_time": self.clock.now.isoformat(),
        }
        deps = SyncDependencies(
            entities=self.repositories.entities,
            state=self.repositories.state,
            member_source=self._member_source,
            clock=self.clock,
        )
        try:
            run = run_scheduled_sync(event, deps)
        except SyncFailed as failed:
            run = failed.run
        self.last_run = run
        name = f"run-{len(self.run_names) + 1}"
        self.run_names[run.run_id] = name
        self.run_steps[run.run_id] = index
        outcome.run = name
        outcome.status = run.status.value
        outcome.counts = run.counts.model_dump()
        outcome.detail = self._clean(run.message)
        if step.sync is SyncKind.FULL and self.scenario.every_sync_type:
            self._other_types(deps, outcome)
        expected = RunStatus.FAILED if step.expect_failure else RunStatus.SUCCEEDED
        self.expectations.append(
            ExpectationResult(
                name=f"steps[{index}] at {step.at}: {step.sync.value} sync status",
                expected=expected.value,
                actual=run.status.value,
                ok=run.status is expected,
            )
        )

    def _other_types(self, deps: SyncDependencies, outcome: StepOutcome) -> None:
        """The rest of the nightly full sync: every other type, each on its own."""
        from clubsync.engine.full_sync import run_one_type
        from clubsync.engine.sync_types import full_sync_types
        from clubsync.runtime.local import sandbox_sources

        deps.sources = sandbox_sources(self.sandbox.url, self._open_clients)
        done: list[str] = []
        for sync_type in full_sync_types(self.settings)[1:]:
            result = run_one_type(sync_type, self.settings, self.clock.now, deps)
            if result.run_id is not None:
                self.run_names[result.run_id] = f"run-{len(self.run_names) + 1}"
                self.run_steps[result.run_id] = outcome.index
            done.append(f"{sync_type.value} {result.status}")
        outcome.detail = "; ".join(filter(None, [outcome.detail, ", ".join(done)]))

    def _clean(self, text: str) -> str:
        """Messages may name the sandbox's URL, whose port changes from run to run."""
        url = self.sandbox.url
        return text.replace(url, SANDBOX_URL_PLACEHOLDER).replace(
            url.removesuffix("/rest"), SANDBOX_URL_PLACEHOLDER
        )

    # -- reading the state -----------------------------------------------------------------
    def _snapshot(self) -> _Snapshot:
        entities, state = self.repositories.entities, self.repositories.state
        return _Snapshot(
            people=entities.people(self.location_id),
            agreements=entities.agreements(self.location_id),
            quarantined=[
                record.model_dump(mode="json") for record in state.quarantined(self.location_id)
            ],
            runs=state.runs(self.location_id),
            watermark=state.watermark(self.location_id, SYNC_TYPE),
        )

    def _result(self, snapshot: _Snapshot) -> ScenarioResult:
        zone = self.scenario.zone
        watermark = snapshot.watermark
        return ScenarioResult(
            scenario=self.scenario.name,
            location=self.location_id,
            time_zone=self.settings.time_zone,
            steps=self.outcomes,
            people=snapshot.people_json(),
            orphan_agreements=snapshot.orphan_agreements_json(),
            quarantined=sorted(
                snapshot.quarantined, key=lambda item: (item["sync_type"], item["record_id"])
            ),
            runs=self._runs_json(snapshot.runs),
            watermarks={SYNC_TYPE: watermark.astimezone(zone).isoformat() if watermark else None},
            summary=snapshot.summary(),
            expectations=self.expectations,
        )

    def _runs_json(self, runs: list[RunRecord]) -> list[dict[str, Any]]:
        def order(run: RunRecord) -> tuple[int, str, str]:
            name = self.run_names.get(run.run_id)
            ordinal = int(name.removeprefix("run-")) if name else len(self.run_names) + 1
            return ordinal, run.started_at.isoformat(), run.run_id

        out: list[dict[str, Any]] = []
        for run in sorted(runs, key=order):
            name = self.run_names.get(run.run_id)
            if name is None:  # not started by a step (cannot happen today); keep it visible
                name = f"run-{len(self.run_names) + 1}"
                self.run_names[run.run_id] = name
            item = run.model_dump(mode="json")
            item["run_id"] = name
            item["step"] = self.run_steps.get(run.run_id)
            item["message"] = self._clean(run.message)
            item["errors"] = [self._clean(error) for error in run.errors]
            out.append(item)
        return out


# -- the state at one moment, and the checks against it -------------------------------------------


_MISSING = "<missing>"


@dataclass
class _Snapshot:
    people: list[Person]
    agreements: list[MembershipAgreement]
    quarantined: list[dict[str, Any]]
    runs: list[RunRecord]
    watermark: datetime | None

    def _agreements_by_person(self) -> dict[str, list[MembershipAgreement]]:
        by_person: dict[str, list[MembershipAgreement]] = {}
        for agreement in sorted(self.agreements, key=lambda a: a.agreement_key):
            by_person.setdefault(agreement.person_id, []).append(agreement)
        return by_person

    def people_json(self) -> list[dict[str, Any]]:
        by_person = self._agreements_by_person()
        out = []
        for person in sorted(self.people, key=lambda p: p.person_id):
            item = person.model_dump(mode="json")
            item["agreements"] = [
                agreement.model_dump(mode="json")
                for agreement in by_person.get(person.person_id, [])
            ]
            out.append(item)
        return out

    def orphan_agreements_json(self) -> list[dict[str, Any]]:
        known = {person.person_id for person in self.people}
        return [
            agreement.model_dump(mode="json")
            for agreement in sorted(self.agreements, key=lambda a: a.agreement_key)
            if agreement.person_id not in known
        ]

    def summary(self) -> dict[str, int]:
        members = [p for p in self.people if p.kind is PersonKind.MEMBER]
        copies = Counter((a.system_id, a.sign_date) for a in self.agreements)
        return {
            "people": len(self.people),
            "members": len(members),
            "prospects": sum(p.kind is PersonKind.PROSPECT for p in self.people),
            "active_members": sum(p.is_active for p in members),
            "agreements": len(self.agreements),
            "active_agreements": sum(a.is_active for a in self.agreements),
            "current_agreements": sum(a.is_current for a in self.agreements),
            # The Club Hub symptom: several copies of one agreement (same id and sign date).
            "duplicate_agreements": sum(n - 1 for n in copies.values()),
            "quarantined": len(self.quarantined),
            "runs": len(self.runs),
            "failed_runs": sum(r.status is RunStatus.FAILED for r in self.runs),
        }

    def person_views(self) -> list[dict[str, Any]]:
        """Each person as the result shows it, plus `agreement_count` and `current_agreement`."""
        views = []
        for item in self.people_json():
            current = next(
                (
                    a
                    for a in item["agreements"]
                    if a["agreement_key"] == item["current_agreement_key"]
                ),
                None,
            )
            views.append(
                {**item, "agreement_count": len(item["agreements"]), "current_agreement": current}
            )
        return views


def _check(
    expect: Expectations,
    snapshot: _Snapshot,
    scenario: Scenario,
    prefix: str,
    last_run: RunRecord | None,
) -> list[ExpectationResult]:
    results: list[ExpectationResult] = []
    summary = snapshot.summary()
    for name, expected in expect.counts().items():
        results.append(_result(prefix + name, expected, summary[name], expected == summary[name]))
    for name, expected in (expect.last_run or {}).items():
        ran: int | None = getattr(last_run.counts, name) if last_run is not None else None
        results.append(_result(f"{prefix}last_run.{name}", expected, ran, expected == ran))
    if expect.watermark is not None:
        wanted = local_to_aware(expect.watermark, scenario.zone)
        got = snapshot.watermark
        actual_text = _local_text(got, scenario) if got else None
        ok = got is not None and got == wanted
        results.append(_result(prefix + "watermark", expect.watermark, actual_text, ok))
    views = snapshot.person_views()
    for check in expect.persons:
        results.extend(_check_person(check, views, prefix))
    quarantined = {item["record_id"]: item["reason"] for item in snapshot.quarantined}
    for wanted_record in expect.quarantine:
        reason = quarantined.get(wanted_record.record_id)
        results.append(
            _result(
                f"{prefix}quarantined {wanted_record.record_id}",
                wanted_record.reason_contains or "quarantined",
                reason if reason is not None else "not quarantined",
                reason is not None and wanted_record.reason_contains in reason,
            )
        )
    return results


def _check_person(
    check: PersonCheck, views: list[dict[str, Any]], prefix: str
) -> list[ExpectationResult]:
    if check.person_id is not None:
        found = [v for v in views if v["person_id"] == check.person_id]
    else:
        found = [v for v in views if v["billing_member_id"] == check.billing_member_id]
    label = f"{prefix}{check.label}"
    if not check.exists or not found:
        return [_result(f"{label}: exists", check.exists, bool(found), check.exists == bool(found))]
    if len(found) > 1:
        ids = [v["person_id"] for v in found]
        return [_result(f"{label}: one person", 1, ids, False)]
    view = found[0]
    return [
        _result(f"{label}: {path}", expected, actual, _same_json(expected, actual))
        for path, expected in check.fields.items()
        for actual in [_resolve(view, path)]
    ]


def _resolve(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, dict):
            if part not in value:
                return _MISSING
            value = value[part]
        elif isinstance(value, list):
            try:
                value = value[int(part)]
            except (ValueError, IndexError):
                return _MISSING
        else:
            return _MISSING
    return value


def _same_json(expected: Any, actual: Any) -> bool:
    """Equality of JSON values that tells true from 1."""
    return json.dumps(expected, sort_keys=True) == json.dumps(actual, sort_keys=True)


def _result(name: str, expected: Any, actual: Any, ok: bool) -> ExpectationResult:
    return ExpectationResult(name=name, expected=expected, actual=actual, ok=ok)


def _local_text(moment: datetime, scenario: Scenario) -> str:
    local = moment.astimezone(scenario.zone).replace(tzinfo=None)
    return local.isoformat(timespec="minutes" if local.second == 0 else "seconds")
