"""Operations on a location's prospects as a whole: redrive and reintegration.

* `redrive`: pushes again the prospects whose push is failing (given up after the stream's
  retries, i.e. dead-lettered) or still pending. Safe to run any time: the create claim keeps
  each prospect to one billing record.
* `reintegrate`: a one-time push of every prospect of the location to a new billing provider
  (or club). Each prospect is created there (its old billing id is ignored), under a claim
  scope of its own run, in person-id order, with a checkpoint in the state table after each
  prospect: run it again and it resumes where it stopped, without creating anything twice.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from clubsync.domain.people import ProspectPushState
from clubsync.features.prospect_push import ProspectPusher, PushOutcome, RetryLater
from clubsync.store.prospects import ProspectStore
from clubsync.store.state import StateRepository

REINTEGRATION = "prospect_reintegration"
REDRIVEN_STATES = frozenset({ProspectPushState.FAILING, ProspectPushState.PENDING})


@dataclass
class BulkPushReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)  # person ids still failing
    finished: bool = True
    run_id: str = ""


def redrive(store: ProspectStore, pusher: ProspectPusher) -> BulkPushReport:
    report = BulkPushReport()
    for person in store.prospects(pusher.settings.location_id):
        if person.push is not None and person.push.state not in REDRIVEN_STATES:
            continue
        try:
            result = pusher.push(person.person_id, force=True)
        except RetryLater:
            report.outcomes["failing"] += 1
            report.failed.append(person.person_id)
            continue
        report.outcomes[result.outcome.value] += 1
    return report


def reintegrate(
    store: ProspectStore,
    state: StateRepository,
    make_pusher: Callable[[str], ProspectPusher],
    location_id: str,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    restart: bool = False,
) -> BulkPushReport:
    """`make_pusher(claim_scope)` builds a pusher for the new provider. Stops early (resumable)
    when `should_stop()` says so, e.g. when Lambda's remaining time runs low. A finished run
    is not repeated (it would create every prospect again) unless `restart`."""
    checkpoint = state.checkpoint(location_id, REINTEGRATION) or {}
    if checkpoint.get("finished") and not restart:
        return BulkPushReport(run_id=str(checkpoint.get("run_id", "")))
    if restart:
        checkpoint = {}
    run_id = str(checkpoint.get("run_id") or uuid.uuid4().hex)
    after = str(checkpoint.get("after") or "")
    pusher = make_pusher(f"reintegration-{run_id}")
    report = BulkPushReport(run_id=run_id)
    for person in store.prospects(location_id):
        if person.person_id <= after:
            continue
        if should_stop():
            report.finished = False
            return report
        try:
            result = pusher.push(person.person_id, force=True, fresh=True)
            report.outcomes[result.outcome.value] += 1
            if result.outcome is PushOutcome.GAVE_UP:
                report.failed.append(person.person_id)
        except RetryLater:
            # Recorded on the prospect as failing: the redrive picks it up later.
            report.outcomes["failing"] += 1
            report.failed.append(person.person_id)
        after = person.person_id
        state.save_checkpoint(location_id, REINTEGRATION, {"run_id": run_id, "after": after})
    state.save_checkpoint(
        location_id, REINTEGRATION, {"run_id": run_id, "after": after, "finished": True}
    )
    return report
