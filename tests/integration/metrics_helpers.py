"""Reading what Powertools Metrics printed: CloudWatch embedded metric format (EMF) records,
one JSON object per line on stdout."""

from __future__ import annotations

import json
from typing import Any


def emitted_metrics(stdout: str) -> list[dict[str, Any]]:
    """Each metric of each EMF record in `stdout`, as {namespace, name, value, dimensions}
    (dimensions: every dimension the record declares, with its value)."""
    found: list[dict[str, Any]] = []
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        meta = record.get("_aws")
        if not meta:
            continue
        for directive in meta["CloudWatchMetrics"]:
            names = [name for dimension_set in directive["Dimensions"] for name in dimension_set]
            for metric in directive["Metrics"]:
                value = record[metric["Name"]]
                found.append(
                    {
                        "namespace": directive["Namespace"],
                        "name": metric["Name"],
                        "value": value[0] if isinstance(value, list) else value,
                        "dimensions": {name: record[name] for name in names},
                    }
                )
    return found
