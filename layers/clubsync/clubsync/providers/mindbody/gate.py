"""The Mindbody webhook's gate: what its function URL refuses before anything heavy is
imported (method, size before hashing the body, then the signature). Built on the shared
public-URL helpers (features/public_url.py); Mindbody's own limit and header live here, with
its provider."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clubsync.features.public_url import (
    BodyRefused,
    Refusal,
    http_method,
    lowered_headers,
    raw_body,
)
from clubsync.providers.mindbody import signing

# A Mindbody event names a client and a few of its fields: a few kilobytes at most.
MAX_BODY_BYTES = 64 * 1024


def mindbody_refusal(event: Mapping[str, Any], key: bytes) -> Refusal | None:
    """Method, size (before hashing the body), then the signature (signing.py)."""
    if http_method(event) != "POST":
        return Refusal(405, "method", "use POST")
    try:
        body = raw_body(event, MAX_BODY_BYTES)
    except BodyRefused as refused:
        return Refusal(refused.status, "body", refused.message)
    problem = signing.signature_problem(key, body, lowered_headers(event))
    if problem is not None:
        return Refusal(401, "X-Mindbody-Signature", problem)
    return None
