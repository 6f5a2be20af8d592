"""Full sync summary Lambda: the last state of the nightly full sync state machine; stores
`RUNSUMMARY#{date}` in the state table (docs/decisions.md)."""

from __future__ import annotations

from typing import Any

from clubsync.lambda_runtime import summary_handler


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return summary_handler(event, context)
