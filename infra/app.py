"""The clubsync CDK app: `npx cdk synth` / `npx cdk deploy` from the repository root.

Context (cdk.json, or -c key=value):
  stage            dev | prod   prod turns on deletion protection and retains data on delete
  secretPrefix     name prefix of the billing secrets the sync may read (default
                   clubsync/<stage>/: dev cannot read prod's)
  syncConcurrency  reserved concurrency of the member sync function (default 100)
  fullSyncWindowMinutes  Scheduler's flexible window of the 21:00 full syncs (default 15; 0 off)
  intakeConcurrency  reserved concurrency of the prospect intake URL (default 10)
  clubhubTimestampToleranceSeconds  Club Hub signed-timestamp window (default 300)
  abcBaseUrl       billing API base URL (default: ABC's production URL)
  clubhubBaseUrl   Club Hub API base URL of the reconciliation pull (unset: no Club Hub pull)
  alarmEmail       an address subscribed to the alarm topic (optional)
  accountConcurrency  the account's Lambda concurrency quota (default 1000); synth fails in
                   one line when the reservations + 100 do not fit (clubsync_infra/concurrency.py)
  reserveConcurrency  false: no function reserves concurrency (new accounts with a small quota)
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import App, Aspects, Environment, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from clubsync_infra.concurrency import (
    DEFAULT_ACCOUNT_CONCURRENCY,
    WithoutReservedConcurrency,
    check_quota,
)
from clubsync_infra.runtime import ROOT
from clubsync_infra.stack import ClubsyncStack

from clubsync.features.scheduling import full_sync_window_minutes


def build_app(
    context: dict[str, object] | None = None,
    outdir: str | None = None,
    stages: Sequence[str] = (),
) -> App:
    """The app with one stack per stage (default: the `stage` context). Tests pass
    `{"aws:cdk:bundling-stacks": []}` so nothing is built."""
    app = App(context=context, outdir=outdir)
    if app.node.try_get_context("aws:cdk:bundling-stacks") != []:
        # Fresh library copy and, when its inputs changed, a new dependency layer.
        subprocess.run([sys.executable, str(Path(ROOT, "layers", "build.py"))], check=True)
    email = app.node.try_get_context("alarmEmail")
    reserve = str(app.node.try_get_context("reserveConcurrency")).lower() != "false"
    quota = _integer(app, "accountConcurrency", DEFAULT_ACCOUNT_CONCURRENCY)
    for stage in stages or [str(app.node.try_get_context("stage") or "dev")]:
        stack = _stack(app, stage, str(email) if email else None)
        if reserve:
            check_quota(stack, quota)
        else:
            Aspects.of(stack).add(WithoutReservedConcurrency())
    # cdk-nag 3 runs as a policy-validation plugin: synth fails on any unacknowledged finding.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app


def _integer(app: App, name: str, default: int) -> int:
    value = app.node.try_get_context(name)
    if value is None:
        return default
    try:
        return int(str(value))
    except ValueError:
        raise ValueError(f"context {name} must be a whole number, got {value!r}") from None


def _window(value: object) -> int:
    """The context value (a string from -c, a number from cdk.json); unset: the default."""
    return full_sync_window_minutes(None if value is None else str(value))


def _stack(app: App, stage: str, email: str | None) -> ClubsyncStack:
    return ClubsyncStack(
        app,
        f"Clubsync-{stage}",
        stage=stage,
        secret_prefix=app.node.try_get_context("secretPrefix") or None,
        sync_concurrency=int(app.node.try_get_context("syncConcurrency") or 100),
        full_sync_window=_window(app.node.try_get_context("fullSyncWindowMinutes")),
        abc_base_url=app.node.try_get_context("abcBaseUrl") or None,
        alarm_email=email,
        env=Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
        description=f"clubsync ({stage}): CRM <-> billing sync",
    )


if __name__ == "__main__":
    try:
        build_app().synth()
    except ValueError as refused:
        # A context value a person set: one line, not the CDK's traceback.
        sys.exit(f"clubsync: {refused}")
