"""Member sync Lambda: a Task of the nightly full sync state machine, and the target of
EventBridge Scheduler's partial member syncs (docs/decisions.md).

Thin on purpose: the wiring, the handler body, the run metrics and who continues a paused run
(the state machine, or this function invoking itself for a partial sync) live in
`clubsync.runtime.sync_lambda`, the same for every sync type.

Imports are kept cheap (bench/handler_import.py): the library, boto3, httpx and the Powertools
parameters utility load on the first invocation, which is also what lets tests start moto
before any client exists.
"""

from __future__ import annotations

from typing import Any

from clubsync.domain.runs import SyncType
from clubsync.runtime.sync_lambda import sync_handler

_handler = sync_handler(SyncType.MEMBERS)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _handler(event, context)
