"""The Club Hub webhook and weekly duplicate report Lambdas, and `clubsync duplicates`, on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from clubsync.cli.duplicates import duplicates_app
from clubsync.domain.settings import LocationSettings
from clubsync.providers.clubhub.webhook import signed_headers
from clubsync.runtime.local import LOCAL_REGION, Repositories
from clubsync.runtime.local_streams import LocalLambdaContext, load_function
from tests.integration.metrics_helpers import emitted_metrics

SECRET = "clubhub-secret-for-tests"  # a test value, not a credential


@pytest.fixture
def location() -> LocationSettings:
    """A Club Hub location (the webhook serves Club Hub's locations only)."""
    return LocationSettings(
        location_id="springfield",
        provider="clubhub",
        account={"club_id": "0451"},
        time_zone="America/Chicago",
    )


@pytest.fixture
def webhook(repos: Repositories, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    boto3.client("secretsmanager", region_name=LOCAL_REGION).create_secret(
        Name="clubsync-dev/clubhub-webhook", SecretString=SECRET
    )
    monkeypatch.setenv("CLUBSYNC_CLUBHUB_SECRET_NAME", "clubsync-dev/clubhub-webhook")
    # What the stack sets on the function (infra/clubsync_infra/runtime.py).
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ClubSync")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "clubsync-clubhub-webhook")
    module = load_function("clubhub_webhook")
    module.reset()
    yield module
    module.reset()


def live_ids(repos: Repositories) -> list[str]:
    """Agreement ids in analytics and reports (replaced pending ones are kept archived)."""
    return [a.system_id for a in repos.entities.agreements("springfield") if not a.archived]


def url_event(
    body: dict[str, Any], secret: str = SECRET, sent: datetime | None = None
) -> dict[str, Any]:
    """`body` as Club Hub sends it (signed at `sent`, default now); header names lower-case,
    as function URLs pass them."""
    raw = json.dumps(body).encode()
    headers = signed_headers(secret.encode(), raw, sent or datetime.now(UTC))
    return {
        "version": "2.0",
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {"http": {"method": "POST", "path": "/"}},
        "body": raw.decode(),
        "isBase64Encoded": False,
    }


def delivery(delivery_id: str, account: str, membership: str, pending: bool) -> dict[str, Any]:
    return {
        "delivery_id": delivery_id,
        "event": "membership.updated",
        "club_id": "0451",
        "occurred_at": datetime.now(UTC).isoformat(),
        "member": {
            "member_id": account,
            "first_name": "Mary",
            "last_name": "Member",
            "email": "mary@example.org",
        },
        "membership": {"membership_id": membership, "pending": pending, "sale_date": "2022-01-01"},
    }


def test_the_article_timeline_through_the_lambda_and_the_report(
    webhook: ModuleType, repos: Repositories, monkeypatch: pytest.MonkeyPatch
) -> None:
    for cycle in range(3):
        for account, membership, pending in (("A", "123", False), ("B", "456", True)):
            event = url_event(delivery(f"{account}{cycle}", account, membership, pending))
            response = webhook.lambda_handler(event, LocalLambdaContext())
            assert response["statusCode"] == 200
    assert live_ids(repos) == ["123"]

    bad = url_event(delivery("x", "A", "999", False), secret="wrong")
    assert webhook.lambda_handler(bad, LocalLambdaContext())["statusCode"] == 401
    assert live_ids(repos) == ["123"]

    weekly = load_function("duplicates_report")
    weekly.reset()
    assert weekly.lambda_handler({}, LocalLambdaContext())["groups"] == {"springfield": 0}
    weekly.reset()

    shown = CliRunner().invoke(duplicates_app, ["report", "--location", "springfield", "--json"])
    assert shown.exit_code == 0, shown.output
    findings = json.loads(shown.output)["billing_findings"]
    assert {tuple(f["accounts"]) for f in findings} == {("A", "B")}


def test_refused_auth_is_counted_once_per_request_under_service_only(
    webhook: ModuleType, repos: Repositories, capsys: pytest.CaptureFixture[str]
) -> None:
    """Wrong secret, captured delivery replayed an hour later, no signature: each is a 401 and
    one UnauthorizedRequests count (namespace and service from the stack's variables, no
    location dimension); an authentic delivery counts nothing."""
    body = delivery("d1", "A", "123", False)
    replayed = url_event(body, sent=datetime.now(UTC) - timedelta(hours=1))
    unsigned = {**url_event(body), "headers": {}}
    for event in (url_event(body, secret="wrong"), replayed, unsigned):
        response = webhook.lambda_handler(event, LocalLambdaContext())
        assert response["statusCode"] == 401
        assert "Traceback" not in response["body"]
    assert live_ids(repos) == []
    assert emitted_metrics(capsys.readouterr().out) == 3 * [
        {
            "namespace": "ClubSync",
            "name": "UnauthorizedRequests",
            "value": 1.0,
            "dimensions": {"service": "clubsync-clubhub-webhook"},
        }
    ]
    assert webhook.lambda_handler(url_event(body), LocalLambdaContext())["statusCode"] == 200
    assert emitted_metrics(capsys.readouterr().out) == []


def test_an_expired_delivery_replayed_with_a_fresh_signature_is_not_applied(
    webhook: ModuleType, repos: Repositories
) -> None:
    """A delivery id Club Hub used two years ago is long forgotten; even freshly signed, an
    event that old is refused with the field named, and nothing is applied."""
    old = {**delivery("new-id", "A", "123", False), "occurred_at": "2024-01-03T15:00:00Z"}
    response = webhook.lambda_handler(url_event(old), LocalLambdaContext())
    assert response["statusCode"] == 422
    assert json.loads(response["body"])["fields"] == ["occurred_at"]
    assert live_ids(repos) == []


def test_the_cli_previews_resolves_and_undoes(repos: Repositories) -> None:
    from clubsync.domain.people import ContactData, Person, PersonKind

    contact = ContactData(first_name="Dana", last_name="Reyes", email="dana@example.org")
    repos.entities.save(
        [
            Person(person_id=pid, location_id="springfield", kind=kind, contact=contact)
            for pid, kind in (("m1", PersonKind.MEMBER), ("p1", PersonKind.PROSPECT))
        ]
    )
    runner = CliRunner()
    base = ["--location", "springfield", "--group", "m1+p1"]
    preview = runner.invoke(duplicates_app, ["resolve", *base, "--action", "merge", "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert "Would change" in preview.output
    assert len(repos.entities.people("springfield")) == 2

    wrong = runner.invoke(duplicates_app, ["resolve", *base, "--action", "delete"])
    assert wrong.exit_code == 1 and "Refused" in wrong.output

    done = runner.invoke(duplicates_app, ["resolve", *base, "--action", "merge"])
    assert done.exit_code == 0, done.output
    assert [p.person_id for p in repos.entities.people("springfield")] == ["m1"]
    audit_id = done.output.split("Audit id: ")[1].split()[0]

    undone = runner.invoke(
        duplicates_app, ["undo", "--location", "springfield", "--audit", audit_id]
    )
    assert undone.exit_code == 0, undone.output
    assert len(repos.entities.people("springfield")) == 2


def test_the_article_scenario_ships_and_holds(tmp_path: Any) -> None:
    """spec/clubhub-duplicated-agreements.txt as support runs it: pushes through the webhook
    code, full pulls over HTTP from the Club Hub sandbox."""
    from clubsync.cli.clubhub import clubhub_app
    from clubsync.scenario.clubhub import (
        EXAMPLES,
        load_clubhub_scenario,
        run_clubhub_scenario,
    )

    path = EXAMPLES / "clubhub-duplicated-agreements.json"
    result = run_clubhub_scenario(load_clubhub_scenario(path))
    assert result.ok, result.failures
    assert result.state["agreement_ids"] == ["123"]
    assert result.state["duplicate_agreements"] == 0
    assert result.state["billing_findings"] == [["CH-A", "CH-B"]]

    out = tmp_path / "state.json"
    ran = CliRunner().invoke(clubhub_app, ["scenario", str(path), "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    assert json.loads(out.read_text())["agreement_ids"] == ["123"]


def test_a_scenario_expecting_the_old_behaviour_fails(tmp_path: Any) -> None:
    from clubsync.cli.clubhub import clubhub_app
    from clubsync.scenario.clubhub import EXAMPLES

    data = json.loads((EXAMPLES / "clubhub-duplicated-agreements.json").read_text())
    data["expect"]["agreement_ids"] = ["123", "123", "456 (pending)"]  # what Club OS showed
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    ran = CliRunner().invoke(clubhub_app, ["scenario", str(path)])
    assert ran.exit_code == 1
    assert "FAILED" in ran.output


def test_clubhub_pull_syncs_a_location_over_http_and_a_second_pull_writes_nothing(
    repos: Repositories,
) -> None:
    from datetime import date

    from clubsync.cli.clubhub import clubhub_app
    from clubsync.providers.clubhub.wire import ClubHubMember
    from clubsync.sandbox.clubhub import ClubHubSandbox

    clubhub = ClubHubSandbox(club_id="0451")
    for account in ("CH-A", "CH-B"):  # Club Hub's duplicate active accounts of one person
        clubhub.add_account(
            ClubHubMember(
                member_id=account, first_name="Mary", last_name="Member", email="mary@example.org"
            )
        )
    clubhub.sell_pending("CH-A", "111", date(2022, 1, 1))
    clubhub.sell_pending("CH-B", "456", date(2022, 1, 1))
    clubhub.replace_pending("CH-A", "111", "123", date(2022, 1, 1))
    url = clubhub.start()
    try:
        runner = CliRunner()
        args = ["pull", "--location", "springfield", "--base-url", url]
        first = runner.invoke(clubhub_app, args)
        assert first.exit_code == 0, first.output
        assert "Pulled 2 records for springfield" in first.output
        stored = repos.entities.agreements("springfield")
        assert live_ids(repos) == ["123"]
        again = runner.invoke(clubhub_app, args)
        assert again.exit_code == 0, again.output
        outcomes = {line.strip().split(":")[0] for line in again.output.splitlines()[1:]}
        assert outcomes == {"unchanged"}
        assert repos.entities.agreements("springfield") == stored

        unknown = runner.invoke(clubhub_app, ["pull", "--location", "nowhere", "--base-url", url])
        assert unknown.exit_code == 2 and "register it first" in unknown.output
    finally:
        clubhub.stop()
