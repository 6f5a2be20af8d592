"""functions/prospect_intake/handler.py as Lambda runs it: a function URL event, the shared
secret from Secrets Manager (moto), the prospect stored in DynamoDB (moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from clubsync.local import LOCAL_REGION, Repositories
from clubsync.local_streams import LocalLambdaContext, load_function

SECRET = "intake-secret-for-tests"  # a test value, not a credential


@pytest.fixture
def intake(repos: Repositories, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    boto3.client("secretsmanager", region_name=LOCAL_REGION).create_secret(
        Name="clubsync-dev/prospect-intake", SecretString=SECRET
    )
    monkeypatch.setenv("CLUBSYNC_INTAKE_SECRET_NAME", "clubsync-dev/prospect-intake")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "prospect-intake")
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
