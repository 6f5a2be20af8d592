"""Lambda: imports a delivered file (S3 Object Created through EventBridge).

Thin on purpose: the event, clients and metrics are in `clubsync.runtime.feed_import`; the import
is the file-feed path's (`clubsync.providers.feeds`).
"""

from __future__ import annotations

from typing import Any

from clubsync.runtime.feed_import import import_handler

_handler = import_handler()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _handler(event, context)
