"""The Mindbody webhook Lambda on moto (DynamoDB, Secrets Manager), reading the client an
event names from a fake Mindbody served over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import boto3
import httpx
import pytest

from clubsync.domain.people import PersonKind
from clubsync.domain.runs import SyncKind, SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.providers.mindbody.webhook import signed_headers
from clubsync.runtime.local import LOCAL_REGION, Repositories
from clubsync.runtime.local_streams import LocalLambdaContext, load_function
from tests.integration.metrics_helpers import emitted_metrics
from tests.providers.mindbody.fixtures import FakeMindbody, client_record, contract_record

KEY = "subscription-key-for-tests"  # a test value, not a credential
BILLING = {"api_key": "key-generated", "username": "staff.generated", "password": "pw-generated"}


@pytest.fixture
def location() -> LocationSettings:
    return LocationSettings.model_validate(
        {
            "location_id": "studio-1",
            "provider": "mindbody",
            "account": {"site_id": "-99"},
            "time_zone": "America/New_York",
            "billing_secret_name": "clubsync/mindbody-studio-1",
        }
    )


@pytest.fixture
def mindbody() -> Iterator[tuple[FakeMindbody, str]]:
    """The fake's answers over real HTTP (what the Lambda's client sends)."""
    fake = FakeMindbody()
    fake.add_list(
        "/client/clients",
        "Clients",
        lambda params: [client_record(7)] if params.get("request.uniqueIds") == "7" else [],
    )
    fake.add_list("/client/clientcontracts", "Contracts", [contract_record(70)])

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = httpx.Request(
                self.command,
                f"http://127.0.0.1{self.path}",
                headers=dict(self.headers.items()),
                content=self.rfile.read(length),
            )
            answer = fake.handler(request)
            self.send_response(answer.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}/public/v6"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook(
    repos: Repositories, mindbody: tuple[FakeMindbody, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    secrets = boto3.client("secretsmanager", region_name=LOCAL_REGION)
    secrets.create_secret(Name="clubsync-dev/mindbody-webhook", SecretString=KEY)
    secrets.create_secret(Name="clubsync/mindbody-studio-1", SecretString=json.dumps(BILLING))
    monkeypatch.setenv("CLUBSYNC_MINDBODY_WEBHOOK_SECRET_NAME", "clubsync-dev/mindbody-webhook")
    monkeypatch.setenv("CLUBSYNC_MINDBODY_BASE_URL", mindbody[1])
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ClubSync")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "clubsync-mindbody-webhook")
    module = load_function("mindbody_webhook")
    module.reset()
    yield module
    module.reset()


def url_event(body: dict[str, Any], key: str = KEY) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    headers = signed_headers(key.encode(), raw)
    return {
        "version": "2.0",
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {"http": {"method": "POST", "path": "/"}},
        "body": raw.decode(),
        "isBase64Encoded": False,
    }


def event(message_id: str, event_id: str = "client.updated") -> dict[str, Any]:
    return {
        "messageId": message_id,
        "eventId": event_id,
        "eventSchemaVersion": 1,
        "eventInstanceOriginationDateTime": "2026-12-02T14:59:58Z",
        "eventData": {"siteId": -99, "clientId": "B7", "clientUniqueId": 7},
    }


def answer(response: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = json.loads(response["body"])
    return response["statusCode"], body


def test_a_client_event_is_read_from_mindbody_and_merged_once(
    webhook: ModuleType, repos: Repositories, mindbody: tuple[FakeMindbody, str]
) -> None:
    fake, _ = mindbody
    first = answer(webhook.lambda_handler(url_event(event("m-1")), LocalLambdaContext()))
    assert first == (200, {"status": "created", "message_id": "m-1"})
    people = {p.person_id: p for p in repos.entities.people("studio-1")}
    assert people["mindbody-7"].kind is PersonKind.MEMBER
    runs = repos.state.runs("studio-1", SyncType.MEMBERS)
    # The push run counts the calls made under the lease (the contracts); the site's daily
    # ledger counts every call: the staff token, the client, the contracts.
    assert [r.kind for r in runs] == [SyncKind.PUSH] and runs[0].billing_requests == 1
    ledger = repos.state.calls_on("mindbody#-99", datetime.now(UTC).date().isoformat())
    assert ledger == 3
    calls = len(fake.calls)
    again = answer(webhook.lambda_handler(url_event(event("m-1")), LocalLambdaContext()))
    assert again == (200, {"status": "duplicate", "message_id": "m-1"})
    assert len(fake.calls) == calls and len(repos.state.runs("studio-1", SyncType.MEMBERS)) == 1


def test_refusals_and_ignored_events_are_counted_under_service_only(
    webhook: ModuleType, repos: Repositories, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = webhook.lambda_handler(url_event(event("m-1"), key="wrong"), LocalLambdaContext())
    assert refused["statusCode"] == 401 and "Traceback" not in refused["body"]
    booking = url_event(event("m-2", "classRosterBooking.created"))
    ignored = answer(webhook.lambda_handler(booking, LocalLambdaContext()))
    assert ignored == (200, {"status": "ignored", "event": "classRosterBooking.created"})
    assert repos.entities.people("studio-1") == []
    names = [(m["name"], m["dimensions"]) for m in emitted_metrics(capsys.readouterr().out)]
    service = {"service": "clubsync-mindbody-webhook"}
    assert names == [("UnauthorizedRequests", service), ("WebhookEventsIgnored", service)]
