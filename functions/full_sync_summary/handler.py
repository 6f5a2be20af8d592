"""Full sync summary Lambda: the last state of the nightly full sync state machine; stores
`RUNSUMMARY#{date}` in the state table and emits the summary's status as metrics
(docs/decisions.md).

Thin on purpose: the handler body lives in `clubsync.runtime.sync_lambda`.
"""

from __future__ import annotations

from typing import Any

from clubsync.runtime.sync_lambda import summary_handler

_handler = summary_handler()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _handler(event, context)
