"""employees sync Lambda: a Task of the nightly full sync state machine
(docs/decisions.md).

Thin on purpose: the wiring, the handler body and the run metrics live in
`clubsync.runtime.sync_lambda`, the same for every sync type.
"""

from __future__ import annotations

from typing import Any

from clubsync.domain.runs import SyncType
from clubsync.runtime.sync_lambda import sync_handler

_handler = sync_handler(SyncType.EMPLOYEES)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _handler(event, context)
