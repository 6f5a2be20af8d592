"""What the two public function URLs (prospect intake, Club Hub webhook) share: reading the
request, answering it, and refusing it cheaply.

Both URLs are open to the internet (auth NONE: a form provider or Club Hub cannot sign AWS
requests) and run on a small reserved concurrency, so an unauthenticated flood competes with
real waivers and deliveries for it (docs/decisions.md, "The public function URLs under a
flood"). This module imports only the standard library: a handler authenticates a request with
it before it imports the library's models, repositories or any client, and a refusal costs a
header lookup and one HMAC.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The CloudWatch metric both handlers emit once per refused-auth request (dimension `service`
# only; the alarm on it is in infra/clubsync_infra/observability.py).
UNAUTHORIZED_METRIC = "UnauthorizedRequests"
# Bodies are flat objects (a form) or two levels deep (a Club Hub delivery); anything deeper is
# not ours, and refusing it early keeps json and pydantic far from Python's recursion limit.
MAX_JSON_DEPTH = 16

# The prospect forms authenticate with this header (a shared secret, docs/prospects.md).
INTAKE_SECRET_HEADER = "x-clubsync-intake-secret"
# A form is a few hundred bytes (notes at most 4000 characters); function URLs would take 6 MB.
INTAKE_MAX_BODY_BYTES = 64 * 1024


class BodyRefused(Exception):
    """A body refused before it is read as a model: `status` and a message a person can act
    on (never the body's content: it may be personal data)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Refusal:
    """A request answered before the library is involved. `field` names what to fix (a header,
    `method`, `body`)."""

    status: int
    field: str
    message: str

    @property
    def unauthorized(self) -> bool:
        """Counted as UnauthorizedRequests (a missing, wrong or stale secret or signature)."""
        return self.status == 401


def lowered_headers(event: Mapping[str, Any]) -> dict[str, str]:
    """Function URL events (payload 2.0) already lower-case header names; API Gateway proxy
    events and tests may not."""
    headers = event.get("headers") or {}
    return {str(name).lower(): str(value) for name, value in headers.items()}


def http_method(event: Mapping[str, Any]) -> str:
    method = event.get("httpMethod") or event.get("requestContext", {}).get("http", {}).get(
        "method", "POST"
    )
    return str(method).upper()


def raw_body(event: Mapping[str, Any], max_bytes: int) -> bytes:
    """The bytes the caller sent (base64 decoded when the event says so), refused with 413
    over `max_bytes` before decoding, so an oversized body costs nothing to refuse."""
    raw = event.get("body") or ""
    text = str(raw)
    encoded = bool(event.get("isBase64Encoded"))
    # base64 is 4 characters per 3 bytes: bound the text before decoding it.
    if len(text) > (max_bytes * 4 // 3 + 4 if encoded else max_bytes):
        raise BodyRefused(413, f"body is larger than {max_bytes} bytes")
    if not encoded:
        body = text.encode("utf-8", errors="surrogatepass")
    else:
        try:
            body = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise BodyRefused(400, "body is not valid base64") from None
    if len(body) > max_bytes:
        raise BodyRefused(413, f"body is larger than {max_bytes} bytes")
    return body


def json_depth(value: Any) -> int:
    """How deeply objects and arrays nest in a parsed JSON value (a scalar is 0). Iterative:
    the point is to measure what recursion could not."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def load_json_object(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """The body as a JSON object, or BodyRefused(400) saying what is wrong with it: not UTF-8,
    not JSON, not an object, or nested deeper than `max_depth` (json raises RecursionError
    past about a thousand levels, which would otherwise end the invocation with a bare 502)."""
    nested = f"body nests objects or arrays deeper than {max_depth} levels"
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BodyRefused(400, "body is not UTF-8 text") from None
    except RecursionError:
        raise BodyRefused(400, nested) from None
    except ValueError:
        raise BodyRefused(400, "body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BodyRefused(400, "body is not a JSON object")
    if json_depth(data) > max_depth:
        raise BodyRefused(400, nested)
    return data


def json_response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


# -- the shared secret ------------------------------------------------------------------------
# A rotated secret is picked up within this long, without a deploy.
SHARED_SECRET_MAX_AGE_SECONDS = 300


def shared_secret(name_variable: str) -> str:
    """The secret a third party authenticates with (a form provider, a billing webhook), named
    by `name_variable`; cached five minutes, so a rotation needs no deploy. "" when the variable
    is not set: then nobody is authorized. Imports Powertools parameters (and boto3) on the
    first call only."""
    name = os.environ.get(name_variable, "")
    if not name:
        return ""
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(name, max_age=SHARED_SECRET_MAX_AGE_SECONDS)
    return value if isinstance(value, str) else ""


# -- the two gates: what each endpoint refuses before importing anything else ---------------


def secret_matches(given: str, expected: str) -> bool:
    """Constant-time comparison (the time taken does not tell how many characters matched). An
    empty configured secret authorizes nobody."""
    if not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def intake_refusal(event: Mapping[str, Any], expected_secret: str) -> Refusal | None:
    """The prospect intake's gate: the shared secret first (the cheapest check, and nothing
    else is said to a caller without it), then the method. The body is the library's."""
    given = lowered_headers(event).get(INTAKE_SECRET_HEADER, "")
    if not secret_matches(given, expected_secret):
        return Refusal(401, INTAKE_SECRET_HEADER, "missing or wrong")
    if http_method(event) != "POST":
        return Refusal(405, "method", "use POST")
    return None
