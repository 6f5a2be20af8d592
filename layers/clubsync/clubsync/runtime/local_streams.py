"""DynamoDB Streams on a laptop: read moto's stream of a table and call a real Lambda handler
with Lambda-shaped events, the way the event source mapping does in AWS.

What it copies from Lambda: the event filter (records not matching are dropped, not
delivered), batches per shard in order, `eventSourceARN` on every record, and partial batch
responses: a batch is retried from its first failed record, up to `max_retries`, then skipped
(in AWS the on-failure destination gets it).
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.config import Config

from clubsync.features.prospect_stream import matches_filter

Handler = Callable[[dict[str, Any], Any], Any]
FUNCTIONS_DIR = Path(__file__).resolve().parents[4] / "functions"


def streams_client(endpoint_url: str | None = None, region: str = "us-east-1") -> Any:
    """A DynamoDB Streams client for moto. Recent botocore sends stream calls to account-based
    hosts (`<account>.streams-ddb...`) that moto 5.1 does not answer; the classic host works."""
    return boto3.client(
        "dynamodbstreams",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(account_id_endpoint_mode="disabled"),
    )


@dataclass
class LocalLambdaContext:
    """Enough of Lambda's context object for Powertools."""

    function_name: str = "local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:local"
    aws_request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def load_function(name: str, functions_dir: Path = FUNCTIONS_DIR) -> ModuleType:
    """Imports functions/<name>/handler.py (the Lambda's own file) as a module."""
    path = functions_dir / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"clubsync_function_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class PollStats:
    delivered: int = 0
    filtered_out: int = 0
    failed: int = 0
    skipped: int = 0
    invocations: int = 0


class StreamPoller:
    def __init__(
        self,
        dynamodb: Any,
        streams: Any,
        table_name: str,
        handler: Handler,
        *,
        filter_pattern: Mapping[str, Any] | None = None,
        batch_size: int = 100,
        max_retries: int = 3,
    ) -> None:
        self.streams = streams
        self.handler = handler
        self.filter_pattern = filter_pattern
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.stream_arn: str = dynamodb.describe_table(TableName=table_name)["Table"][
            "LatestStreamArn"
        ]
        # shard id -> (iterator type, sequence number); where the next read starts
        self._positions: dict[str, tuple[str, str | None]] = {}
        self._retries: dict[tuple[str, str], int] = {}
        self.stats = PollStats()
        self.last_event: dict[str, Any] | None = None

    def _shards(self) -> list[str]:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description["Shards"]]

    def _read(self, shard_id: str) -> list[dict[str, Any]]:
        kind, sequence = self._positions.get(shard_id, ("TRIM_HORIZON", None))
        request: dict[str, Any] = {
            "StreamArn": self.stream_arn,
            "ShardId": shard_id,
            "ShardIteratorType": kind,
        }
        if sequence is not None:
            request["SequenceNumber"] = sequence
        iterator = self.streams.get_shard_iterator(**request)["ShardIterator"]
        records: list[dict[str, Any]] = self.streams.get_records(
            ShardIterator=iterator, Limit=self.batch_size
        )["Records"]
        return records

    def poll_once(self) -> int:
        """One batch per shard; returns how many records were read."""
        read = 0
        for shard_id in self._shards():
            records = self._read(shard_id)
            if not records:
                continue
            read += len(records)
            last = records[-1]["dynamodb"]["SequenceNumber"]
            delivered = [self._lambda_shaped(r) for r in records if self._passes(r)]
            self.stats.filtered_out += len(records) - len(delivered)
            failed_at = self._invoke(delivered) if delivered else None
            if failed_at is None:
                self._positions[shard_id] = ("AFTER_SEQUENCE_NUMBER", last)
                continue
            attempts = self._retries.get((shard_id, failed_at), 0) + 1
            self._retries[(shard_id, failed_at)] = attempts
            if attempts > self.max_retries:
                self.stats.skipped += 1  # Lambda would hand it to the on-failure destination
                self._positions[shard_id] = ("AFTER_SEQUENCE_NUMBER", failed_at)
            else:
                self._positions[shard_id] = ("AT_SEQUENCE_NUMBER", failed_at)
        return read

    def drain(self, max_polls: int = 100) -> PollStats:
        """Polls until the stream has nothing new (the handler's own writes included)."""
        for _ in range(max_polls):
            if self.poll_once() == 0:
                break
        return self.stats

    def skip_existing(self) -> int:
        """Moves past every record already in the stream without delivering it (records written
        before the function was deployed, like a scenario's starting data)."""
        skipped = 0
        for _ in range(1000):
            read = 0
            for shard_id in self._shards():
                records = self._read(shard_id)
                if records:
                    read += len(records)
                    last = records[-1]["dynamodb"]["SequenceNumber"]
                    self._positions[shard_id] = ("AFTER_SEQUENCE_NUMBER", last)
            skipped += read
            if read == 0:
                break
        return skipped

    def rewind(self) -> None:
        """Read the stream again from its start (a replay)."""
        self._positions.clear()
        self._retries.clear()

    def _passes(self, record: Mapping[str, Any]) -> bool:
        return self.filter_pattern is None or matches_filter(record, self.filter_pattern)

    def _lambda_shaped(self, record: Mapping[str, Any]) -> dict[str, Any]:
        shaped = dict(record)
        shaped["eventSourceARN"] = self.stream_arn
        shaped.setdefault("eventSource", "aws:dynamodb")
        return shaped

    def _invoke(self, records: list[dict[str, Any]]) -> str | None:
        """Calls the handler; returns the first failed sequence number, or None."""
        event = {"Records": records}
        self.last_event = event
        self.stats.invocations += 1
        self.stats.delivered += len(records)
        try:
            answer = self.handler(event, LocalLambdaContext())
        except Exception:
            # A raised error fails the whole batch (as in Lambda).
            self.stats.failed += len(records)
            return str(records[0]["dynamodb"]["SequenceNumber"])
        failures = (answer or {}).get("batchItemFailures") or []
        if not failures:
            return None
        self.stats.failed += len(failures)
        return min((str(f["itemIdentifier"]) for f in failures), key=int)


@contextmanager
def local_prospect_push(
    endpoint_url: str, billing_url: str, *, clock: Callable[[], datetime] | None = None
) -> Iterator[StreamPoller]:
    """The real prospect_push handler, fed from the entities stream of moto's server at
    `endpoint_url`, pushing to the billing sandbox at `billing_url` (demo, scenarios).
    `clock`: the time the push records (a scenario's clock); the wall clock without it."""
    from clubsync.features.prospect_stream import PROSPECT_RECORD_FILTER
    from clubsync.store.items import dynamodb_client
    from clubsync.store.tables import ENTITIES

    settings = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "CLUBSYNC_ABC_BASE_URL": billing_url,
        "CLUBSYNC_SANDBOX_CREDENTIALS": "1",
        "POWERTOOLS_SERVICE_NAME": "prospect-push",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    handler = load_function("prospect_push")
    if clock is not None:
        handler.use_clock(clock)
    try:
        yield StreamPoller(
            dynamodb_client(endpoint_url, region="us-east-1"),
            streams_client(endpoint_url),
            ENTITIES.default_name,
            handler.lambda_handler,
            filter_pattern=PROSPECT_RECORD_FILTER,
        )
    finally:
        handler.reset()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
