"""functions/prospect_intake/handler.py as Lambda runs it: a function URL event, the shared
secret from Secrets Manager (moto), the prospect stored in DynamoDB (moto)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

from clubsync.runtime.local import LOCAL_REGION, Repositories
from clubsync.runtime.local_streams import LocalLambdaContext, load_function
from tests.integration.metrics_helpers import emitted_metrics

SECRET = "intake-secret-for-tests"  # a test value, not a credential


@pytest.fixture
def intake(repos: Repositories, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    boto3.client("secretsmanager", region_name=LOCAL_REGION).create_secret(
        Name="clubsync-dev/prospect-intake", SecretString=SECRET
    )
    monkeypatch.setenv("CLUBSYNC_INTAKE_SECRET_NAME", "clubsync-dev/prospect-intake")
    # What the stack sets on the function (infra/clubsync_infra/runtime.py).
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "clubsync-prospect-intake")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ClubSync")
    module = load_function("prospect_intake")
    module.reset()
    yield module
    module.reset()


def url_event(body: dict[str, Any], secret: str | None = SECRET) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-clubsync-intake-secret"] = secret
    return {
        "version": "2.0",
        "rawPath": "/",
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": "/"}},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


FORM = {
    "location_id": "springfield",
    "source": "web_lead",
    "first_name": "Rosa",
    "last_name": "Marsh",
    "email": "rosa.marsh@example.org",
    "mobile_phone": "555-0150",
}


def test_a_web_lead_is_stored_as_a_prospect(intake: ModuleType, repos: Repositories) -> None:
    response = intake.lambda_handler(url_event(FORM), LocalLambdaContext())
    assert response["statusCode"] == 201
    person_id = json.loads(response["body"])["person_id"]
    person = repos.entities.get_people("springfield", [person_id])[person_id]
    assert person.kind.value == "prospect" and person.contact.email == "rosa.marsh@example.org"


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_a_missing_or_wrong_secret_is_401_and_stores_nothing(
    intake: ModuleType, repos: Repositories, secret: str | None
) -> None:
    response = intake.lambda_handler(url_event(FORM, secret), LocalLambdaContext())
    assert response["statusCode"] == 401
    assert repos.entities.people("springfield") == []


def test_a_bad_field_is_a_4xx_naming_the_field(intake: ModuleType, repos: Repositories) -> None:
    response = intake.lambda_handler(
        url_event({**FORM, "email": "not-an-email"}), LocalLambdaContext()
    )
    assert 400 <= response["statusCode"] < 500
    errors = json.loads(response["body"])["errors"]
    assert [error["field"] for error in errors] == ["email"]
    assert repos.entities.people("springfield") == []


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_a_refused_secret_is_counted_once_under_service_only(
    intake: ModuleType, secret: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    intake.lambda_handler(url_event(FORM, secret), LocalLambdaContext())
    assert emitted_metrics(capsys.readouterr().out) == [
        {
            "namespace": "ClubSync",
            "name": "UnauthorizedRequests",
            "value": 1.0,
            "dimensions": {"service": "clubsync-prospect-intake"},
        }
    ]
    intake.lambda_handler(url_event(FORM), LocalLambdaContext())
    assert emitted_metrics(capsys.readouterr().out) == []  # an accepted form counts nothing


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**FORM, "first_name": "Ro\u202esa"}, "first_name"),
        ({**FORM, "last_name": "Mar\x00sh"}, "last_name"),
        ({**FORM, "notes": [[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]}, "body"),
    ],
)
def test_control_characters_and_deep_nesting_are_a_400_naming_the_field(
    intake: ModuleType, repos: Repositories, body: dict[str, Any], field: str
) -> None:
    response = intake.lambda_handler(url_event(body), LocalLambdaContext())
    assert response["statusCode"] == 400
    assert [error["field"] for error in json.loads(response["body"])["errors"]] == [field]
    assert repos.entities.people("springfield") == []


def test_json_nested_past_the_recursion_limit_is_a_400_not_a_crash(intake: ModuleType) -> None:
    event = {**url_event(FORM), "body": "[" * 20_000 + "]" * 20_000}
    response = intake.lambda_handler(event, LocalLambdaContext())
    assert response["statusCode"] == 400
    assert "deeper than" in json.loads(response["body"])["errors"][0]["message"]


# A fresh interpreter: load each public handler, answer an unauthenticated request, and list
# what got imported. Without a secret name configured, nothing reaches Secrets Manager.
_PROBE = """
import importlib.util, json, sys
from types import SimpleNamespace
path = sys.argv[1]
spec = importlib.util.spec_from_file_location("handler", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
context = SimpleNamespace(function_name="f", memory_limit_in_mb=128, aws_request_id="r",
                          invoked_function_arn="arn:aws:lambda:us-east-1:0:function:f")
event = {"headers": {}, "requestContext": {"http": {"method": "POST"}}, "body": "{}"}
status = module.lambda_handler(event, context)["statusCode"]
# (Powertools itself touches botocore for its user agent; boto3 is what a client costs.)
heavy = ("pydantic", "boto3", "clubsync.runtime.sync_lambda", "clubsync.store.items",
         "clubsync.features.prospect_intake", "clubsync.providers.clubhub.webhook",
         "clubsync.providers.mindbody.webhook", "httpx")
print(json.dumps({"status": status, "imported": [m for m in heavy if m in sys.modules]}))
"""


@pytest.mark.parametrize("function", ["prospect_intake", "clubhub_webhook", "mindbody_webhook"])
def test_a_401_imports_neither_the_library_nor_pydantic_nor_boto3(function: str) -> None:
    root = Path(__file__).resolve().parents[2]
    environment = {
        key: value
        for key, value in os.environ.items()
        if key
        not in (
            "CLUBSYNC_INTAKE_SECRET_NAME",
            "CLUBSYNC_CLUBHUB_SECRET_NAME",
            "CLUBSYNC_MINDBODY_WEBHOOK_SECRET_NAME",
        )
    }
    environment.update(POWERTOOLS_METRICS_NAMESPACE="ClubSync", POWERTOOLS_TRACE_DISABLED="1")
    answer = subprocess.run(
        [sys.executable, "-c", _PROBE, str(root / "functions" / function / "handler.py")],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        cwd=root,
    )
    # The last line is the probe's; the EMF record of the refusal comes before it.
    probe = json.loads(answer.stdout.strip().splitlines()[-1])
    assert probe == {"status": 401, "imported": []}
