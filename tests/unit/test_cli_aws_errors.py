"""Every AWS (and billing) error a command can meet is one line and a documented exit code
(cli/aws_errors.py, docs/operations.md "Exit codes"). No sockets: errors are built as botocore
raises them."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)
from typer.testing import CliRunner

from clubsync.cli import aws_errors
from clubsync.cli.aws_errors import (
    EXIT_AWS_RESOURCE,
    EXIT_AWS_SETUP,
    EXIT_BILLING,
    EXIT_FAILED,
    explain,
)
from clubsync.cli.main import app
from clubsync.providers.base import SourceError


def client_error(code: str, message: str = "", operation: str = "Query") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize(
    ("error", "exit_code", "says"),
    [
        (NoCredentialsError(), EXIT_AWS_SETUP, "No AWS credentials found"),
        (NoRegionError(), EXIT_AWS_SETUP, "export AWS_REGION"),
        (
            EndpointConnectionError(endpoint_url="http://127.0.0.1:5999/"),
            EXIT_AWS_SETUP,
            "Cannot reach http://127.0.0.1:5999/",
        ),
        (
            client_error("ResourceNotFoundException", "Requested resource not found"),
            EXIT_AWS_RESOURCE,
            "check --stack",
        ),
        (
            client_error("ValidationError", "Stack with id Clubsync-qa does not exist", "x"),
            EXIT_AWS_RESOURCE,
            "Stack with id Clubsync-qa does not exist",
        ),
        (client_error("AccessDeniedException", "no"), EXIT_AWS_RESOURCE, "AWS denied Query"),
        (client_error("ExpiredTokenException"), EXIT_AWS_SETUP, "refresh them"),
        (client_error("ThrottlingException"), EXIT_FAILED, "run it again"),
        (client_error("SomethingNew", "odd"), EXIT_FAILED, "AWS refused Query: SomethingNew: odd"),
        (SourceError("HTTP 503 from billing"), EXIT_BILLING, "Billing could not be read"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_each_error_is_one_line_with_its_exit_code(
    error: BaseException, exit_code: int, says: str
) -> None:
    explained = explain(error)
    assert explained is not None
    assert explained.exit_code == exit_code
    assert says in explained.line and "\n" not in explained.line


def test_a_bug_is_not_explained_away() -> None:
    assert explain(KeyError("x")) is None


def test_the_command_prints_the_line_and_exits_with_the_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing_table(*args: object, **kwargs: object) -> None:
        raise client_error("ResourceNotFoundException", "Requested resource [state] not found")

    monkeypatch.setattr("clubsync.cli.runs.StateRepository.latest_runs", missing_table)
    monkeypatch.setenv("CLUBSYNC_AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    result = CliRunner().invoke(app, ["runs", "--location", "springfield"])
    assert result.exit_code == EXIT_AWS_RESOURCE
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Requested resource [state] not found" in lines[0]


def test_the_codes_are_documented() -> None:
    from pathlib import Path

    operations = (Path(__file__).parents[2] / "docs" / "operations.md").read_text()
    table = operations[operations.index("## Exit codes") :]
    for code in (0, aws_errors.EXIT_FAILED, aws_errors.EXIT_REFUSED, EXIT_AWS_SETUP):
        assert f"| {code} |" in table
    for code in (EXIT_AWS_RESOURCE, EXIT_BILLING):
        assert f"| {code} |" in table
