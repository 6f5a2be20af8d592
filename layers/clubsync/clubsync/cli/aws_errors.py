"""What the `clubsync` command says when AWS (or billing) says no: one line naming what is wrong
and what to do, and an exit code a script can act on (the table is in docs/operations.md,
"Exit codes"). Applied once, around every command (clubsync.cli.main), never per command.

Codes:
  0  done
  1  the work ran and failed (a sync failed, an expectation did not hold, AWS throttled)
  2  refused before anything ran: bad input, a bad file, a missing option
  3  this machine's AWS set-up: no region, no or rejected credentials, AWS not reachable
  4  an AWS resource is missing or access to it is denied (wrong stack, table or queue name)
  5  the billing system could not be reached or read
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_FAILED = 1
EXIT_REFUSED = 2
EXIT_AWS_SETUP = 3
EXIT_AWS_RESOURCE = 4
EXIT_BILLING = 5

_MISSING = frozenset(
    {
        "ResourceNotFoundException",
        "QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue",
        "StateMachineDoesNotExist",
        "ExecutionDoesNotExist",
        "NoSuchBucket",
        "NoSuchKey",
        "TableNotFoundException",
    }
)
_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
_BAD_CREDENTIALS = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)
_THROTTLED = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
    }
)


@dataclass(frozen=True)
class Explained:
    exit_code: int
    line: str


def explain(error: BaseException) -> Explained | None:
    """The line and exit code for an AWS or billing error; None for anything else (a bug,
    which keeps its traceback)."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    from clubsync.providers.base import SourceError
    from clubsync.runtime.aws import AwsNotConfigured

    if isinstance(error, AwsNotConfigured):
        return Explained(EXIT_AWS_SETUP, str(error))
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return Explained(
            EXIT_AWS_SETUP,
            "No AWS credentials found: configure a profile (aws configure, or AWS_PROFILE) or "
            "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for moto give --endpoint-url.",
        )
    if isinstance(error, NoRegionError):
        return Explained(
            EXIT_AWS_SETUP,
            "No AWS region configured: export AWS_REGION (or AWS_DEFAULT_REGION), e.g. "
            "us-east-1, or set one in your AWS profile (aws configure).",
        )
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        url = getattr(error, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
        return Explained(
            EXIT_AWS_SETUP,
            f"Cannot reach {url}: check the network, the region, or --endpoint-url "
            "(is the local moto server running?).",
        )
    if isinstance(error, ClientError):
        return _client_error(error)
    if isinstance(error, SourceError):
        return Explained(EXIT_BILLING, f"Billing could not be read: {error}")
    return None


def _client_error(error: object) -> Explained:
    response = getattr(error, "response", {}) or {}
    details = response.get("Error", {})
    code = str(details.get("Code", "Unknown"))
    message = str(details.get("Message", "")).strip().rstrip(".")
    operation = getattr(error, "operation_name", "the request")
    said = f"{operation}: {code}" + (f": {message}" if message else "")
    if code in _MISSING or (code == "ValidationError" and "does not exist" in message):
        return Explained(
            EXIT_AWS_RESOURCE,
            f"AWS has no such resource ({said}): check --stack (or CLUBSYNC_STACK), the region "
            "and the table, queue or ARN options; a fresh local moto needs its tables created.",
        )
    if code in _DENIED:
        return Explained(
            EXIT_AWS_RESOURCE,
            f"AWS denied {operation} ({code}): the credentials' IAM policy must allow it on this "
            "stack's resources; check the profile (AWS_PROFILE) and the stage.",
        )
    if code in _BAD_CREDENTIALS:
        return Explained(
            EXIT_AWS_SETUP,
            f"AWS rejected the credentials ({code}): refresh them (aws sso login, or new "
            "access keys) and check the profile and region.",
        )
    if code in _THROTTLED:
        return Explained(EXIT_FAILED, f"AWS throttled {operation} ({code}): run it again shortly.")
    return Explained(EXIT_FAILED, f"AWS refused {said}.")
