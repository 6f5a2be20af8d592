"""Club Hub scenarios: a location's Club Hub timeline, replayed with the real webhook code.

The ABC scenarios (model.py, runner.py) replay syncs against the ABC sandbox; Club Hub pushes
instead, so its timeline is a list of what happened in Club Hub (accounts opened, pending
memberships sold, pending ones replaced by real ones, memberships set inactive) and of what
Club Hub sent (pushes, redeliveries of the same deliveries, full pulls over HTTP). Every push is
signed and goes through `ClubHubWebhook.handle`, the code the Lambda runs (`SyncEngine.ingest`);
every pull is an engine run reading the Club Hub sandbox over HTTP (`providers/clubhub/sync.py`).
State is kept in memory (no AWS needed). docs/clubhub.md describes the file;
examples/clubhub-duplicated-agreements.json is the article's timeline.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from clubsync.domain.settings import LocationSettings
from clubsync.features.duplicates import Duplicates
from clubsync.providers.clubhub.client import ClubHubClient
from clubsync.providers.clubhub.memberships import is_pending
from clubsync.providers.clubhub.provider import ClubHubProvider, club_id_of
from clubsync.providers.clubhub.sync import pull
from clubsync.providers.clubhub.webhook import ClubHubWebhook, signed_headers
from clubsync.providers.clubhub.wire import ClubHubMember
from clubsync.sandbox.clubhub import ClubHubSandbox
from clubsync.scenario.model import LocalTime, parse_local
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.state import StateRepository

EXAMPLES = Path(__file__).parent / "clubhub_examples"
# The scenario signs its own pushes; not a credential.
_SCENARIO_SECRET = b"clubhub-scenario"

_Strict = ConfigDict(extra="forbid")


class SellPending(BaseModel):
    model_config = _Strict
    account: str
    membership: str
    sale_date: date


class ReplacePending(BaseModel):
    model_config = _Strict
    account: str
    pending: str
    real: str
    sale_date: date


class Deactivate(BaseModel):
    model_config = _Strict
    account: str
    membership: str


class ClubHubExpect(BaseModel):
    model_config = _Strict
    agreement_ids: list[str] | None = Field(
        default=None, description="Live agreement ids, sorted, copies repeated; pending marked."
    )
    duplicate_agreements: int | None = None
    people: int | None = None
    billing_findings: list[list[str]] | None = Field(
        default=None, description="Billing account ids of each duplicate-accounts finding."
    )


class ClubHubStep(BaseModel):
    model_config = _Strict
    at: LocalTime
    note: str | None = None
    sell_pending: SellPending | None = None
    replace_pending: ReplacePending | None = None
    deactivate: Deactivate | None = None
    push: bool = Field(default=False, description="Club Hub pushes every active membership.")
    redeliver: bool = Field(default=False, description="The last push again, same ids.")
    pull: bool = Field(default=False, description="A full sync pulls the club over HTTP.")
    expect: ClubHubExpect | None = None

    @model_validator(mode="after")
    def _one_thing(self) -> ClubHubStep:
        done = [
            self.sell_pending,
            self.replace_pending,
            self.deactivate,
            self.push or None,
            self.redeliver or None,
            self.pull or None,
        ]
        if sum(x is not None for x in done) != 1:
            raise ValueError(
                "a step does exactly one of sell_pending, replace_pending, deactivate, push, "
                "redeliver, pull"
            )
        return self


class ClubHubScenario(BaseModel):
    model_config = _Strict
    name: str
    description: str = ""
    location: LocationSettings
    accounts: list[ClubHubMember] = Field(min_length=1)
    steps: list[ClubHubStep] = Field(min_length=1)
    expect: ClubHubExpect | None = None

    @field_validator("location")
    @classmethod
    def _a_clubhub_location(cls, location: LocationSettings) -> LocationSettings:
        # The webhook serves Club Hub's locations only, so a scenario's must be one.
        if location.provider != ClubHubProvider.name:
            raise ValueError(
                f'a Club Hub scenario\'s location gives "provider": "{ClubHubProvider.name}" '
                'and "account": {"club_id": "..."}'
            )
        return location


class ClubHubScenarioResult(BaseModel):
    name: str
    lines: list[str] = Field(default_factory=list)
    failures: list[str] = Field(default_factory=list)
    state: dict[str, Any] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def load_clubhub_scenario(path: str | Path) -> ClubHubScenario:
    return ClubHubScenario.model_validate(json.loads(Path(path).read_text()))


def _observed(
    entities: EntityRepository, duplicates: Duplicates, location_id: str
) -> dict[str, Any]:
    live = [a for a in entities.agreements(location_id) if not a.archived]
    ids = sorted(f"{a.system_id}{' (pending)' if is_pending(a) else ''}" for a in live)
    copies = sum(n - 1 for n in Counter(a.system_id for a in live).values())
    findings = sorted(
        {tuple(f.accounts) for f in duplicates.report([location_id]).billing_findings}
    )
    return {
        "agreement_ids": ids,
        "duplicate_agreements": copies,
        "people": len(entities.people(location_id)),
        "billing_findings": [list(f) for f in findings],
    }


def _check(expect: ClubHubExpect, observed: dict[str, Any], where: str) -> list[str]:
    failures = []
    for name, wanted in expect.model_dump(exclude_none=True).items():
        if observed[name] != wanted:
            failures.append(f"{where}: {name} is {observed[name]!r}, expected {wanted!r}")
    return failures


def run_clubhub_scenario(scenario: ClubHubScenario) -> ClubHubScenarioResult:
    settings = scenario.location
    zone = ZoneInfo(settings.time_zone)
    entities = EntityRepository(MemoryItemTable("entities"))
    state = StateRepository(MemoryItemTable("state"))
    state.put_location(settings)
    now = {"at": datetime.now(UTC)}
    webhook = ClubHubWebhook(entities, state, _SCENARIO_SECRET, clock=lambda: now["at"])
    duplicates = Duplicates(entities, state, clock=lambda: now["at"])
    sandbox = ClubHubSandbox(club_id_of(settings))
    for account in scenario.accounts:
        sandbox.add_account(account)
    result = ClubHubScenarioResult(name=scenario.name)
    last_push: list[bytes] = []
    url = sandbox.start()
    try:
        for number, step in enumerate(scenario.steps, start=1):
            now["at"] = parse_local(step.at).replace(tzinfo=zone).astimezone(UTC)
            what = _do(step, sandbox, webhook, settings, url, last_push, now["at"])
            observed = _observed(entities, duplicates, settings.location_id)
            result.lines.append(
                f"{number:>2}. {step.at} {what}: agreements {observed['agreement_ids']}"
                + (f"  ({step.note})" if step.note else "")
            )
            if step.expect:
                result.failures += _check(step.expect, observed, f"step {number}")
    finally:
        sandbox.stop()
    final = _observed(entities, duplicates, settings.location_id)
    if scenario.expect:
        result.failures += _check(scenario.expect, final, "at the end")
    result.state = {
        **final,
        "agreements": [
            a.model_dump(mode="json") for a in entities.agreements(settings.location_id)
        ],
    }
    return result


def _do(
    step: ClubHubStep,
    sandbox: ClubHubSandbox,
    webhook: ClubHubWebhook,
    settings: LocationSettings,
    url: str,
    last_push: list[bytes],
    at: datetime,
) -> str:
    if step.sell_pending:
        s = step.sell_pending
        sandbox.sell_pending(s.account, s.membership, s.sale_date)
        return f"Club Hub sells pending {s.membership} on account {s.account}"
    if step.replace_pending:
        r = step.replace_pending
        sandbox.replace_pending(r.account, r.pending, r.real, r.sale_date)
        return f"Club Hub replaces pending {r.pending} with real {r.real} on account {r.account}"
    if step.deactivate:
        d = step.deactivate
        sandbox.deactivate(d.account, d.membership)
        return f"Club Hub sets {d.membership} of account {d.account} inactive"
    if step.pull:
        # A normal engine run (lease, watermark, run record), as the scheduled pull does.
        with ClubHubClient(url) as client:
            pulled = pull(settings, webhook.entities, webhook.state, client, clock=webhook.clock)
        return f"full pull: {', '.join(pulled.outcomes) or 'nothing'}"
    # Sent at the step's time (occurred_at and the signed timestamp): the replay does not
    # depend on today's date. A redelivery is the same bodies, signed again when re-sent.
    bodies = list(last_push) if step.redeliver else sandbox.deliveries(at)
    last_push[:] = bodies
    answers = [webhook.handle(body, signed_headers(_SCENARIO_SECRET, body, at)) for body in bodies]
    # A refusal (e.g. a redelivery of an event older than 30 days) shows as its status code.
    statuses = [str(a.body.get("status") or f"refused {a.status}") for a in answers]
    return f"{'redelivery' if step.redeliver else 'push'}: {', '.join(statuses) or 'nothing'}"
