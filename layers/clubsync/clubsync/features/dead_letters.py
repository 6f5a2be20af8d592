"""The dead-letter queues: their depths (`clubsync status`) and their redrive (`clubsync dlq
redrive`, docs/operations.md "A failed night, redrive").

A redrive receives each message, sends it back to where it failed and deletes it only once that
dispatch succeeded: a message whose dispatch fails stays in the queue, visible again after its
visibility timeout. SQS's own redrive (StartMessageMoveTask) moves messages to their *source
queue*; ours were dead-lettered by Lambda and Scheduler, which have no source queue, and moto
does not implement it (docs/decisions.md).

What a message goes back to (the caller's `target_of` decides, cli/dlq.py): the sync queue
holds original sync events (Lambda's asynchronous-invoke DLQ and Scheduler's undeliverable
events both keep the event as the body; Scheduler's name their target in the TARGET_ARN
attribute, which wins). The prospect and registry queues hold no events: a stream batch's shard
coordinates, or a prospect the push gave up on; those are kept, with the command that redoes
the work from the table (docs/operations.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

# SQS hands out at most 10 messages a receive.
RECEIVE_BATCH = 10
# Long enough to dispatch a batch before the messages reappear to another reader.
VISIBILITY_SECONDS = 60


def queue_depth(sqs: Any, queue_url: str) -> int:
    answer = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(answer["Attributes"]["ApproximateNumberOfMessages"])


def queue_depths(sqs: Any, urls: Mapping[str, str | None]) -> dict[str, int | None]:
    """Each queue's depth; None for a queue whose URL was not given."""
    return {name: queue_depth(sqs, url) if url else None for name, url in urls.items()}


class Redriven(BaseModel):
    """What became of one message."""

    model_config = ConfigDict(extra="forbid")

    message_id: str
    target: str | None
    # "redriven", "would redrive" (dry run) or "kept: <why>".
    outcome: str
    body: str


class NoTarget(Exception):
    """The message has nowhere to go back to; the text says what to do instead."""


# A message's body -> where to send it (a function's name or ARN, or a state machine's ARN);
# raises NoTarget.
TargetOf = Callable[[dict[str, Any]], str]
# Sends the body to the target; raises when the target refused it.
Dispatch = Callable[[str, str], None]


def _target(message: dict[str, Any], target_of: TargetOf) -> str:
    attributes = message.get("MessageAttributes", {})
    named = attributes.get("TARGET_ARN", {}).get("StringValue")
    if named:
        return str(named)
    try:
        body = json.loads(message["Body"])
    except json.JSONDecodeError as error:
        raise NoTarget("the body is not JSON") from error
    if not isinstance(body, dict):
        raise NoTarget("the body is not a JSON object")
    return target_of(body)


def aws_dispatch(lambda_client: Any, stepfunctions: Any) -> Dispatch:
    """A state machine's ARN starts an execution (a full sync Scheduler could not start);
    anything else is a function, invoked asynchronously as Scheduler invokes it."""

    def dispatch(target: str, body: str) -> None:
        if target.startswith("arn:aws:states:"):
            stepfunctions.start_execution(stateMachineArn=target, input=body)
        else:
            lambda_client.invoke(FunctionName=target, InvocationType="Event", Payload=body.encode())

    return dispatch


def redrive(
    sqs: Any,
    dispatch: Dispatch,
    queue_url: str,
    target_of: TargetOf,
    *,
    dry_run: bool = False,
    limit: int | None = None,
) -> list[Redriven]:
    """Receives every message (up to `limit`), invokes its target asynchronously with the
    original body, deletes it once the invoke was accepted. Received messages stay hidden while
    the run goes on, so each is seen once; a kept one reappears after the visibility timeout,
    and a dry run makes every message it listed visible again at the end: it changes nothing."""
    results: list[Redriven] = []
    listed: list[str] = []
    seen: set[str] = set()
    while limit is None or len(results) < limit:
        answer = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=RECEIVE_BATCH,
            VisibilityTimeout=VISIBILITY_SECONDS,
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        fresh = [m for m in answer.get("Messages", []) if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            if limit is not None and len(results) >= limit:
                listed.append(message["ReceiptHandle"])  # received past the limit: give back
                continue
            seen.add(message["MessageId"])
            results.append(_one(sqs, dispatch, queue_url, message, target_of, dry_run))
            if dry_run:
                listed.append(message["ReceiptHandle"])
    for receipt in listed:
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
        )
    return results


def _one(
    sqs: Any,
    dispatch: Dispatch,
    queue_url: str,
    message: dict[str, Any],
    target_of: TargetOf,
    dry_run: bool,
) -> Redriven:
    def result(outcome: str, target: str | None) -> Redriven:
        return Redriven(
            message_id=message["MessageId"], target=target, outcome=outcome, body=message["Body"]
        )

    try:
        target = _target(message, target_of)
    except NoTarget as error:
        return result(f"kept: {error}", None)
    if dry_run:
        return result("would redrive", target)
    try:
        dispatch(target, message["Body"])
    except Exception as error:  # any refusal keeps the message: a later run retries it
        return result(f"kept: dispatch failed: {_reason(error)}", target)
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return result("redriven", target)


def _reason(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        details = response["Error"]
        return f"{details.get('Code', '')} {details.get('Message', '')}".strip()
    return " ".join(str(error).split()) or type(error).__name__
