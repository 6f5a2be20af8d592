"""How a Club Hub webhook delivery is signed and checked (docs/clubhub.md, "Signature").

    X-ClubHub-Timestamp: 1641222245                      # Unix seconds when it was sent
    X-ClubHub-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

The timestamp is signed with the body (as Stripe and Slack do), so a captured delivery cannot
be sent again later with a fresh timestamp; deliveries whose timestamp is more than the
tolerance (5 minutes by default, `CLUBSYNC_CLUBHUB_TIMESTAMP_TOLERANCE_SECONDS`) from the
receiver's clock are refused. Within the tolerance a replay carries a delivery id the receiver
still remembers (30 days). A redelivery is signed again with the time it is sent.

Standard library only: the webhook handler checks a signature with this before it imports
anything else (clubsync/features/public_url.py).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from datetime import datetime

SIGNATURE_HEADER = "x-clubhub-signature"
TIMESTAMP_HEADER = "x-clubhub-timestamp"
SIGNATURE_PREFIX = "sha256="
# Clock skew plus transit Club Hub may have; a longer window is a longer replay window.
DEFAULT_TOLERANCE_SECONDS = 300
TOLERANCE_VARIABLE = "CLUBSYNC_CLUBHUB_TIMESTAMP_TOLERANCE_SECONDS"


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The X-ClubHub-Signature value for `body` sent at `timestamp` (Unix seconds)."""
    signed = str(timestamp).encode() + b"." + body
    return SIGNATURE_PREFIX + hmac.new(secret, signed, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, at: datetime) -> dict[str, str]:
    """The headers Club Hub sends with `body` at `at` (what the sandbox, the scenarios and the
    tests send)."""
    timestamp = int(at.timestamp())
    return {
        "X-ClubHub-Timestamp": str(timestamp),
        "X-ClubHub-Signature": sign(secret, body, timestamp),
    }


def tolerance_seconds(environ: Mapping[str, str] = os.environ) -> int:
    """The configured tolerance; a value that is not a positive whole number is a deploy
    mistake, so it falls back to the default rather than opening the window."""
    value = environ.get(TOLERANCE_VARIABLE, "")
    if value.isascii() and value.isdigit() and int(value) > 0:
        return int(value)
    return DEFAULT_TOLERANCE_SECONDS


def signature_problem(
    secret: bytes,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> str | None:
    """Why the delivery is not authentic (a sentence for the 401 answer), or None. `headers`
    with lower-case names. An empty secret authenticates nobody."""
    if not secret:
        return "the webhook has no secret configured: every delivery is refused"
    given = headers.get(SIGNATURE_HEADER, "").strip()
    stamp = headers.get(TIMESTAMP_HEADER, "").strip()
    if not given or not stamp:
        return "missing X-ClubHub-Signature or X-ClubHub-Timestamp header"
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        return "X-ClubHub-Timestamp is not Unix seconds"
    # compare_digest: the time taken does not tell an attacker how many characters matched.
    if not hmac.compare_digest(sign(secret, body, int(stamp)).encode(), given.encode()):
        return "invalid signature (HMAC-SHA256 of '<timestamp>.<body>' with the shared secret)"
    # Checked after the signature: only an authentic sender learns that its clock is off.
    skew = int(now.timestamp()) - int(stamp)
    if abs(skew) > tolerance:
        return (
            f"X-ClubHub-Timestamp is {abs(skew)} s {'old' if skew > 0 else 'in the future'}, "
            f"outside the {tolerance} s window: check the sender's clock and sign each "
            "redelivery with the time it is sent"
        )
    return None
