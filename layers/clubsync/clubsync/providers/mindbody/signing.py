"""How a Mindbody webhook delivery is signed and checked (docs/providers/mindbody.md, "Webhooks").

    X-Mindbody-Signature: sha256=<base64 HMAC-SHA256(messageSignatureKey, raw body)>   [one]

The key is the subscription's `messageSignatureKey`, returned once when the subscription is
created (it is stored in Secrets Manager). Nothing but the body is signed: there is no signed
timestamp, so a captured delivery can be sent again; that is harmless here, as a delivery only
names a client and the receiver reads the client's current record from Mindbody (and a message
id it remembers writes nothing).

Standard library only: the webhook handler checks a signature with this before it imports
anything else (clubsync/features/public_url.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_HEADER = "x-mindbody-signature"
SIGNATURE_PREFIX = "sha256="


def sign(key: bytes, body: bytes) -> str:
    """The X-Mindbody-Signature value Mindbody sends with `body`."""
    digest = hmac.new(key, body, hashlib.sha256).digest()
    return SIGNATURE_PREFIX + base64.b64encode(digest).decode("ascii")


def signed_headers(key: bytes, body: bytes) -> dict[str, str]:
    """The headers Mindbody sends with `body` (what the tests and local runs send)."""
    return {"X-Mindbody-Signature": sign(key, body), "Content-Type": "application/json"}


def signature_problem(key: bytes, body: bytes, headers: Mapping[str, str]) -> str | None:
    """Why the delivery is not authentic (a sentence for the 401 answer), or None. `headers`
    with lower-case names. An empty key authenticates nobody."""
    if not key:
        return "the webhook has no signature key configured: every delivery is refused"
    given = headers.get(SIGNATURE_HEADER, "").strip()
    if not given:
        return "missing X-Mindbody-Signature header"
    # compare_digest: the time taken does not tell an attacker how many characters matched.
    if not hmac.compare_digest(sign(key, body).encode(), given.encode("utf-8", "replace")):
        return (
            "invalid signature (sha256= and the base64 HMAC-SHA256 of the body with the "
            "subscription's messageSignatureKey)"
        )
    return None
