"""The Club Hub webhook's gate: what its function URL refuses before anything heavy is
imported (method, size before hashing the body, then the signed timestamp and signature).
Built on the shared public-URL helpers (features/public_url.py); Club Hub's own limits and
header live here, with its provider."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from clubsync.features.public_url import (
    BodyRefused,
    Refusal,
    http_method,
    lowered_headers,
    raw_body,
)
from clubsync.providers.clubhub import signing

# A Club Hub delivery is one member and one membership.
MAX_BODY_BYTES = 256 * 1024


def clubhub_refusal(
    event: Mapping[str, Any], secret: bytes, now: datetime, tolerance: int
) -> Refusal | None:
    """The Club Hub webhook's gate: method, size (before hashing the body), then the signed
    timestamp and signature (signing.py)."""
    if http_method(event) != "POST":
        return Refusal(405, "method", "use POST")
    try:
        body = raw_body(event, MAX_BODY_BYTES)
    except BodyRefused as refused:
        return Refusal(refused.status, "body", refused.message)
    problem = signing.signature_problem(secret, body, lowered_headers(event), now, tolerance)
    if problem is not None:
        return Refusal(401, "X-ClubHub-Signature", problem)
    return None
