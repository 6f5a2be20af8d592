"""`clubsync demo`: a club's members flow from the billing sandbox into the CRM tables, on a
laptop, with no AWS account and no credentials (moto and the sandbox both on 127.0.0.1)."""

from __future__ import annotations

import json
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from faker import Faker
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clubsync.cli.runs import runs_report
from clubsync.domain.people import PersonKind, ProspectPushState
from clubsync.domain.runs import RunCounts, RunRecord, SyncKind
from clubsync.domain.settings import LocationSettings
from clubsync.engine.full_sync import TypeResult, run_one_type, store_run_summary
from clubsync.engine.scheduled import SyncDependencies, run_scheduled_sync
from clubsync.engine.sync_types import full_sync_types
from clubsync.features.duplicates import Duplicates
from clubsync.features.follow_ups import FollowUps
from clubsync.features.prospect_intake import ProspectIntake, parse_form
from clubsync.providers.base import Connection
from clubsync.providers.clubhub.client import ClubHubClient
from clubsync.providers.clubhub.sync import pull
from clubsync.providers.clubhub.webhook import ClubHubWebhook, signed_headers
from clubsync.providers.clubhub.wire import ClubHubMember
from clubsync.runtime.local import (
    Repositories,
    create_tables,
    dynamo_repositories,
    dynamodb_client,
    moto_server,
    sandbox_member_source,
    sandbox_sources,
)
from clubsync.runtime.local_streams import local_prospect_push
from clubsync.sandbox import BillingSandbox
from clubsync.sandbox.abc.generator import make_malformed_member
from clubsync.sandbox.clubhub import ClubHubSandbox

DEMO_LOCATION = LocationSettings(
    location_id="demo-springfield",
    name="Demo Fitness Springfield",
    account={"club_number": "0451"},
    time_zone="America/Chicago",
    ignored_membership_types=frozenset({"CORPORATE"}),
)
# The second location bills on Club Hub: no schedules, a reconciliation pull and pushes.
CLUBHUB_LOCATION = LocationSettings(
    location_id="demo-anytime-shelbyville",
    name="Demo Anytime Shelbyville",
    provider="clubhub",
    account={"club_id": "AF-1203"},
    time_zone="America/Chicago",
)
# Small: the Club Hub part shows the other path into the engine, not volume.
CLUBHUB_ACCOUNTS = 40
# The Club Hub part's day (after the ABC part's): the morning pull, then a sale at the desk.
CLUBHUB_PULL_LOCAL = datetime(2026, 11, 22, 9, 0)
# The account whose pending membership is pushed, then replaced by the real one.
CLUBHUB_BUYER = "CH-DEMO-BUYER"

# The demo's day: guests in the morning, the 21:00 full sync on a Friday, then the next day's
# 12:00 partial sync.
INTAKE_LOCAL = datetime(2026, 11, 20, 10, 0)
FULL_SYNC_LOCAL = datetime(2026, 11, 20, 21, 0)
PARTIAL_SYNC_LOCAL = datetime(2026, 11, 21, 12, 0)

COUNT_COLUMNS = (
    "fetched",
    "created",
    "converted",
    "updated",
    "unchanged",
    "ignored",
    "skipped",
    "quarantined",
)


@dataclass
class DemoResult:
    pushed: int
    rejected: list[tuple[str, str]]
    runs: list[tuple[str, RunRecord]]
    people: int
    members: int
    prospects: int
    agreements: int
    quarantined: list[tuple[str, str]]
    # The rest of the nightly full sync: every other sync type, after members.
    other_types: list[TypeResult] = field(default_factory=list)
    # The Club Hub location: its runs (pull, pushes, pull again) as `clubsync runs` lists them.
    clubhub: ClubHubDemo | None = None


@dataclass
class ClubHubDemo:
    location_id: str
    # ("pull" | "push" | "pull again", the run), in the order they ran.
    runs: list[tuple[str, RunRecord]]
    # What the webhook answered each delivery ("added", "replaced_pending", "duplicate", ...).
    answers: list[str]
    # The buyer's live agreements at the end: one, the real membership.
    buyer_agreements: list[str]
    people: int


def run_demo(members: int = 3000, *, seed: int = 7, console: Console | None = None) -> DemoResult:
    console = console or Console()
    settings = DEMO_LOCATION
    zone = settings.zone
    full_at = FULL_SYNC_LOCAL.replace(tzinfo=zone)
    partial_at = PARTIAL_SYNC_LOCAL.replace(tzinfo=zone)
    intake_at = INTAKE_LOCAL.replace(tzinfo=zone)
    rng = random.Random(seed)

    with moto_server() as endpoint, BillingSandbox(now=intake_at) as sandbox:
        console.print(
            f"[bold]moto[/] (DynamoDB) on {endpoint}; [bold]billing sandbox[/] on {sandbox.url}"
        )
        client = dynamodb_client(endpoint)
        create_tables(client)
        repos = dynamo_repositories(client)
        repos.state.put_location(settings)

        sandbox.add_club(settings.club_number, settings.time_zone)
        generated = sandbox.generate_members(settings.club_number, members, seed=seed)
        for kind in ("bad_birth_date", "bad_timestamp"):
            broken = make_malformed_member(
                rng, kind=kind, club_number=settings.club_number, now_local=FULL_SYNC_LOCAL
            )
            broken["personal"]["isActive"] = "true"  # served by the full sync's first query
            sandbox.add_member(settings.club_number, broken)
        console.print(
            f"Location [bold]{settings.location_id}[/] (club {settings.club_number}, "
            f"{settings.time_zone}); billing has {members} members plus 2 malformed records."
        )

        console.rule(f"Guests fill in the digital guest waiver, {intake_at:%a %H:%M} club time")
        sandbox.set_clock(intake_at)
        with local_prospect_push(endpoint, sandbox.url) as poller:
            intake = ProspectIntake(repos.entities, repos.state, clock=lambda: sandbox.now)
            added = [intake.add(parse_form(form)) for form in _guest_waivers(settings, rng)]
            poller.drain()
        pushed = _push_outcomes(repos, settings, [result.person_id for result in added])
        console.print(_push_line(pushed))
        for person_id, reason in pushed.rejected:
            console.print(f"  rejected {person_id}: {reason}")

        sandbox.set_clock(intake_at + timedelta(hours=4))
        sold = _sell_memberships(sandbox, settings, pushed.billing_ids[:20])
        console.print(f"At the front desk, {sold} of them buy a membership (in billing).")

        runs: list[tuple[str, RunRecord]] = []
        console.rule(f"Initial full sync, {full_at:%a %Y-%m-%d %H:%M} club time")
        sandbox.set_clock(full_at)
        runs.append(
            ("full", _sync(repos, sandbox, settings, SyncKind.FULL, full_at, console, members))
        )

        other_types = _other_types(repos, sandbox, settings, full_at, runs[0][1], console)

        sandbox.set_clock(partial_at - timedelta(hours=2))
        changed = _change_billing(sandbox, settings, generated, rng)
        console.rule(f"Partial sync, {partial_at:%a %Y-%m-%d %H:%M} club time")
        console.print(f"Meanwhile in billing: {changed}")
        sandbox.set_clock(partial_at)
        runs.append(
            (
                "partial",
                _sync(repos, sandbox, settings, SyncKind.PARTIAL, partial_at, console, None),
            )
        )

        console.rule("The same partial sync replayed")
        runs.append(
            ("replay", _sync(repos, sandbox, settings, SyncKind.PARTIAL, partial_at, console, None))
        )

        _next_morning(repos, settings, partial_at, console)

        result = _result(repos, settings, pushed, runs)
        result.other_types = other_types
        # Printed before the Club Hub part, so the ABC part reads as it always did.
        _print_summary(console, result)
        result.clubhub = _clubhub_part(repos, seed, console)
    return result


def _clubhub_part(repos: Repositories, seed: int, console: Console) -> ClubHubDemo:
    """A second location on Club Hub through the same engine: its reconciliation pull (an
    engine run of kind full), then signed webhook deliveries through `SyncEngine.ingest` (kind
    push): a pending membership sold at the desk, replaced by the real one (docs/clubhub.md,
    the duplicated-agreements article), and a redelivery."""
    settings = CLUBHUB_LOCATION
    zone = settings.zone
    club_id = str(settings.account["club_id"])
    # Generated per run: the demo needs a signing key, never a stored one.
    secret = secrets.token_bytes(32)
    clock = {"at": CLUBHUB_PULL_LOCAL.replace(tzinfo=zone).astimezone(UTC)}
    repos.state.put_location(settings)
    sandbox = ClubHubSandbox(club_id)
    _clubhub_accounts(sandbox, random.Random(seed), clock["at"].date())
    webhook = ClubHubWebhook(repos.entities, repos.state, secret, clock=lambda: clock["at"])
    url = sandbox.start()
    runs: list[tuple[str, RunRecord]] = []
    answers: list[str] = []
    try:
        console.rule(
            f"Club Hub: location {settings.location_id} (club {club_id}), "
            f"{CLUBHUB_PULL_LOCAL:%a %H:%M} club time"
        )
        console.print(
            f"[bold]Club Hub sandbox[/] on {url}: {CLUBHUB_ACCOUNTS} accounts; the "
            "reconciliation pull runs on the same engine (lease, watermark, run record)."
        )
        with ClubHubClient(url) as client:
            pulled = pull(settings, repos.entities, repos.state, client, clock=webhook.clock)
        runs.append(("pull", pulled.run))
        console.print(_counts_line(pulled.run))

        sale = clock["at"] + timedelta(hours=1)
        sandbox.add_account(
            ClubHubMember(
                member_id=CLUBHUB_BUYER,
                first_name="Mary",
                last_name="Member",
                email="mary.member@example.org",
                mobile_phone="(555) 010-0142",
            )
        )
        sandbox.sell_pending(CLUBHUB_BUYER, "P-9001", sale.astimezone(zone).date())
        console.print(
            "At the desk Mary buys a membership; Club Hub pushes its pending membership, then "
            "Anytime replaces it with the real one (new id, no link) and pushes that:"
        )
        clock["at"] = sale
        pushed = _deliver(webhook, sandbox, secret, sale)
        sandbox.replace_pending(CLUBHUB_BUYER, "P-9001", "R-9001", sale.astimezone(zone).date())
        clock["at"] = sale + timedelta(hours=1)
        replaced = _deliver(webhook, sandbox, secret, clock["at"])
        # Club Hub re-sends: same delivery id, signed again when sent.
        clock["at"] += timedelta(minutes=5)
        redelivered = [
            _answer(webhook, body, secret, clock["at"]) for body, _ in replaced.deliveries
        ]
        for label, answer in (
            ("pending P-9001", pushed.answers),
            ("real R-9001", replaced.answers),
            ("redelivery of R-9001", redelivered),
        ):
            console.print(f"  {label}: {', '.join(answer)}")
            answers += answer
        runs += [("push", run) for run in (*pushed.runs, *replaced.runs)]

        clock["at"] += timedelta(hours=1)
        with ClubHubClient(url) as client:
            again = pull(settings, repos.entities, repos.state, client, clock=webhook.clock)
        runs.append(("pull again", again.run))
        console.print(f"The next reconciliation pull: {_counts_line(again.run)}")
    finally:
        sandbox.stop()
    buyer = [
        a.agreement_number
        for a in repos.entities.agreements(settings.location_id)
        if a.entry_source == f"clubhub:{CLUBHUB_BUYER}" and not a.archived
    ]
    console.print(
        f"Mary holds {len(buyer)} live agreement ({', '.join(buyer)}): the pending one is "
        "archived, not copied (the duplicated-agreements article)."
    )
    # Exactly what `clubsync runs --location ...` prints, newest first.
    stored = sorted(
        repos.state.runs(settings.location_id), key=lambda run: run.started_at, reverse=True
    )
    console.print(runs_report(settings.location_id, stored))
    return ClubHubDemo(
        location_id=settings.location_id,
        runs=runs,
        answers=answers,
        buyer_agreements=buyer,
        people=len(repos.entities.people(settings.location_id)),
    )


def _clubhub_accounts(sandbox: ClubHubSandbox, rng: random.Random, today: date) -> None:
    """Generated members, each with a real membership (sold pending, since replaced)."""
    fake = Faker("en_US")
    fake.seed_instance(rng.getrandbits(32))
    for n in range(CLUBHUB_ACCOUNTS):
        first, last = fake.first_name(), fake.last_name()
        account = f"CH-{n:04d}"
        sandbox.add_account(
            ClubHubMember(
                member_id=account,
                first_name=first,
                last_name=last,
                email=f"{first}.{last}.{n}@example.org".lower(),
                mobile_phone=f"555-02{n:02d}",
            )
        )
        sold = today - timedelta(days=rng.randint(40, 400))
        sandbox.sell_pending(account, f"P-{n:04d}", sold)
        sandbox.replace_pending(account, f"P-{n:04d}", f"R-{n:04d}", sold)


@dataclass
class _Delivered:
    deliveries: list[tuple[bytes, dict[str, str]]]
    answers: list[str]
    runs: list[RunRecord]


def _deliver(
    webhook: ClubHubWebhook, sandbox: ClubHubSandbox, secret: bytes, at: datetime
) -> _Delivered:
    """The buyer's signed deliveries through the webhook code the Lambda runs (the sandbox
    signs every account's; the others are unchanged and would only lengthen the demo)."""
    mine = [
        (body, headers)
        for body, headers in sandbox.signed_deliveries(secret, at)
        if json.loads(body)["member"]["member_id"] == CLUBHUB_BUYER
    ]
    before = {run.run_id for run in webhook.state.runs(CLUBHUB_LOCATION.location_id)}
    answers = [_answer(webhook, body, secret, at, headers) for body, headers in mine]
    runs = [
        run for run in webhook.state.runs(CLUBHUB_LOCATION.location_id) if run.run_id not in before
    ]
    return _Delivered(mine, answers, sorted(runs, key=lambda run: run.started_at))


def _answer(
    webhook: ClubHubWebhook,
    body: bytes,
    secret: bytes,
    at: datetime,
    headers: dict[str, str] | None = None,
) -> str:
    answer = webhook.handle(body, headers or signed_headers(secret, body, at))
    return str(answer.body.get("status") or f"refused {answer.status}")


def _next_morning(
    repos: Repositories, settings: LocationSettings, after: datetime, console: Console
) -> None:
    """What staff find the next morning: the follow-ups due (stored by the hourly function
    after the club's midnight) and the duplicate report."""
    morning = (after + timedelta(days=1)).replace(hour=0, minute=5)
    console.rule(f"The next morning, {morning:%a %Y-%m-%d %H:%M} club time")
    stored = FollowUps(repos.entities, repos.state).store_new_day_lists(morning).stored
    due = stored.get(settings.location_id)
    if due is not None:
        console.print(f"Follow-ups due on {due.date}: {len(due.entries)}")
        for group in due.groups:
            channels = Counter(entry.channel.value for entry in group.entries)
            who = group.follow_up_person_name or group.follow_up_person_id or "nobody assigned"
            by_channel = ", ".join(f"{n} {channel}" for channel, n in sorted(channels.items()))
            console.print(f"  {who}: {len(group.entries)} ({by_channel})")
    report = Duplicates(repos.entities, repos.state).report([settings.location_id])
    console.print(
        f"Duplicate report: {len(report.groups)} groups of matching accounts, "
        f"{len(report.agreement_groups)} of duplicated agreements "
        f"(`clubsync duplicates report --location {settings.location_id}`)."
    )


def _sync(
    repos: Repositories,
    sandbox: BillingSandbox,
    settings: LocationSettings,
    kind: SyncKind,
    at: datetime,
    console: Console,
    expected: int | None,
) -> RunRecord:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(f"{kind.value} sync: records", total=expected)

        def on_page(counts: RunCounts) -> None:
            progress.update(task, completed=counts.fetched)

        deps = SyncDependencies(
            entities=repos.entities,
            state=repos.state,
            member_source=sandbox_member_source(sandbox.url),
            clock=lambda: sandbox.now,
            on_page=on_page,
        )
        run = run_scheduled_sync(
            {
                "location": settings.location_id,
                "kind": kind.value,
                "scheduled_time": at.isoformat(),
            },
            deps,
        )
        progress.update(task, total=run.counts.fetched, completed=run.counts.fetched)
    console.print(_counts_line(run))
    return run


def _other_types(
    repos: Repositories,
    sandbox: BillingSandbox,
    settings: LocationSettings,
    at: datetime,
    member_run: RunRecord,
    console: Console,
) -> list[TypeResult]:
    """Every other sync type of the nightly full sync, each on its own, and the day's summary
    (what Step Functions does when deployed)."""
    console.rule("The rest of the nightly full sync: every other sync type")
    opened: list[Connection] = []
    deps = SyncDependencies(
        entities=repos.entities,
        state=repos.state,
        member_source=sandbox_member_source(sandbox.url),
        clock=lambda: sandbox.now,
        sources=sandbox_sources(sandbox.url, opened),
    )
    results = []
    try:
        for sync_type in full_sync_types(settings)[1:]:
            result = run_one_type(sync_type, settings, at, deps)
            results.append(result)
            counts = result.counts
            reasons = ", ".join(f"{n} {why}" for why, n in sorted(result.skip_reasons.items()))
            console.print(
                f"{sync_type.value}: [green]{result.status}[/], "
                f"fetched {counts.get('fetched', 0)}, "
                f"created {counts.get('created', 0)}, updated {counts.get('updated', 0)}, "
                f"skipped {counts.get('skipped', 0)}" + (f" ({reasons})" if reasons else "")
            )
    finally:
        for client in opened:
            client.close()
    summary = store_run_summary(
        repos.state, settings, at, [TypeResult.of_run(member_run, 1), *results]
    )
    console.print(f"Run summary of {summary.local_date}: {summary.status}")
    return results


def _counts_line(run: RunRecord) -> str:
    counts = run.counts
    return (
        f"[green]{run.status.value}[/]: fetched {counts.fetched} in {counts.pages} pages, "
        f"created {counts.created}, converted {counts.converted}, updated {counts.updated}, "
        f"unchanged {counts.unchanged}, ignored {counts.ignored}, skipped {counts.skipped}, "
        f"quarantined {counts.quarantined}; {run.billing_requests} billing requests"
    )


def _guest_waivers(settings: LocationSettings, rng: random.Random) -> list[dict[str, Any]]:
    """Thirty guests; one writes "St. Louis" (ABC refuses a city with a period)."""
    fake = Faker("en_US")
    fake.seed_instance(rng.getrandbits(32))
    forms = []
    for n in range(30):
        first, last = fake.first_name(), fake.last_name()
        forms.append(
            {
                "location_id": settings.location_id,
                "source": "dgw",
                "first_name": first,
                "last_name": last,
                "email": f"{first}.{last}.{n}@example.org".lower(),
                "mobile_phone": f"555-01{n:02d}",
                "address_line1": fake.street_address(),
                "city": "St. Louis" if n == 7 else "Springfield",
                "state": "IL",
                "zip": "62701",
                "guest_pass_start": f"{INTAKE_LOCAL:%Y-%m-%d}",
                "guest_pass_end": f"{INTAKE_LOCAL + timedelta(days=7):%Y-%m-%d}",
            }
        )
    return forms


@dataclass
class PushOutcomes:
    billing_ids: list[str]
    rejected: list[tuple[str, str]]
    warnings: int


def _push_outcomes(
    repos: Repositories, settings: LocationSettings, person_ids: list[str]
) -> PushOutcomes:
    people = repos.entities.get_people(settings.location_id, person_ids)
    outcomes = PushOutcomes(billing_ids=[], rejected=[], warnings=0)
    for person_id in person_ids:
        push = people[person_id].push
        if push is None:
            continue
        outcomes.warnings += bool(push.warnings)
        if push.state is ProspectPushState.PUSHED and push.billing_member_id:
            outcomes.billing_ids.append(push.billing_member_id)
        elif push.state is ProspectPushState.REJECTED:
            outcomes.rejected.append((person_id, push.reason or ""))
    return outcomes


def _push_line(outcomes: PushOutcomes) -> str:
    return (
        f"Pushed to billing through the entities stream: {len(outcomes.billing_ids)} prospects; "
        f"rejected {len(outcomes.rejected)} (reason kept on the prospect)"
    )


def _sell_memberships(
    sandbox: BillingSandbox, settings: LocationSettings, billing_ids: list[str]
) -> int:
    today = f"{sandbox.local_now(settings.club_number):%Y-%m-%d}"
    for n, member_id in enumerate(billing_ids):
        sandbox.modify_member(
            settings.club_number,
            member_id,
            {
                "personal.joinStatus": "Member",
                "personal.isActive": "true",
                "personal.memberStatus": "Active",
                "agreement.agreementNumber": f"8{n:04d}",
                "agreement.membershipType": "GOLD",
                "agreement.signDate": today,
                "agreement.beginDate": today,
                "agreement.nextDueAmount": "39.99",
            },
        )
    return len(billing_ids)


def _change_billing(
    sandbox: BillingSandbox,
    settings: LocationSettings,
    generated: list[dict[str, Any]],
    rng: random.Random,
) -> str:
    club = settings.club_number
    active = [r for r in generated if r["personal"].get("isActive") == "true"]
    picks = rng.sample(active, k=min(len(active), 35))
    movers, cancels, rewrites = picks[:15], picks[15:25], picks[25:35]
    for record in movers:
        sandbox.modify_member(club, record["memberId"], {"personal.city": "Shelbyville"})
    for record in cancels:
        sandbox.modify_member(
            club,
            record["memberId"],
            {
                "personal.isActive": "false",
                "personal.memberStatus": "Cancelled",
                "personal.memberStatusReason": "Moved",
                "personal.memberStatusDate": f"{sandbox.local_now(club):%Y-%m-%d}",
            },
        )
    for n, record in enumerate(rewrites):
        sandbox.modify_member(
            club,
            record["memberId"],
            {
                "agreement.agreementNumber": f"9{n:04d}",
                "agreement.signDate": f"{sandbox.local_now(club):%Y-%m-%d}",
                "agreement.membershipType": "GOLD",
            },
        )
    new = sandbox.generate_members(club, 5, seed=rng.randint(1000, 9999))
    for record in new:  # they joined today
        today = f"{sandbox.local_now(club):%Y-%m-%d}"
        sandbox.modify_member(
            club,
            record["memberId"],
            {
                "personal.isActive": "true",
                "personal.memberStatus": "Active",
                "agreement.signDate": today,
            },
        )
    return (
        f"{len(movers)} members moved, {len(cancels)} cancelled, {len(rewrites)} signed new "
        f"agreements, {len(new)} joined"
    )


def _result(
    repos: Repositories,
    settings: LocationSettings,
    pushed: PushOutcomes,
    runs: list[tuple[str, RunRecord]],
) -> DemoResult:
    people = repos.entities.people(settings.location_id)
    return DemoResult(
        pushed=len(pushed.billing_ids),
        rejected=pushed.rejected,
        runs=runs,
        people=len(people),
        members=sum(p.kind is PersonKind.MEMBER for p in people),
        prospects=sum(p.kind is PersonKind.PROSPECT for p in people),
        agreements=len(repos.entities.agreements(settings.location_id)),
        quarantined=[
            (q.record_id, q.reason) for q in repos.state.quarantined(settings.location_id)
        ],
    )


def _print_summary(console: Console, result: DemoResult) -> None:
    table = Table(title="What each sync did", box=box.SIMPLE)
    table.add_column("sync")
    for column in COUNT_COLUMNS:
        table.add_column(column, justify="right")
    for name, run in result.runs:
        table.add_row(name, *(str(getattr(run.counts, column)) for column in COUNT_COLUMNS))
    console.print(table)
    console.print(
        f"CRM now holds [bold]{result.people}[/] people ({result.members} members, "
        f"{result.prospects} prospects) and [bold]{result.agreements}[/] agreements."
    )
    if result.quarantined:
        console.print("Quarantined billing records (kept with their reason, the sync went on):")
        for record_id, reason in result.quarantined:
            console.print(f"  {record_id}: {reason}")
