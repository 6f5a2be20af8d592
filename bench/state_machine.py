"""State transitions and their cost per location-night of the nightly full sync, counted from
the state machine definition CDK synthesizes (no AWS, no run: clubsync_infra.transitions walks
the definition the way Step Functions bills it, one transition per state entered).

    python bench/state_machine.py                     # the current stack
    python bench/state_machine.py --template T.json   # a template synthesized elsewhere

Prints the transitions of a night where every type ends on its first run, what each paused run
(a type's continuation loop) adds, and the price per location-night and per 1,000 locations a
month at Standard workflow prices.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "infra"))

from clubsync_infra.transitions import (  # noqa: E402
    choices,
    continuation_transitions,
    definition_of,
    night_transitions,
)

# Step Functions Standard workflows, us-east-1, checked 2026-12-02 (issue 15's figure: 37
# transitions = $0.0009 per location-night).
PRICE_PER_TRANSITION = 0.025 / 1000


def synthesized_template() -> dict[str, Any]:
    # jsii's Node version banners, as the Makefile quiets them.
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    spec = importlib.util.spec_from_file_location("clubsync_cdk_app", ROOT / "infra" / "app.py")
    assert spec and spec.loader
    app_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app_module)
    with tempfile.TemporaryDirectory(prefix="clubsync-synth-") as outdir:
        app = app_module.build_app({"aws:cdk:bundling-stacks": []}, outdir=outdir, stages=("dev",))
        app.synth()
        template: dict[str, Any] = json.loads(
            Path(outdir, "Clubsync-dev.template.json").read_text()
        )
    return template


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, help="a synthesized CloudFormation template")
    args = parser.parse_args()
    template = json.loads(args.template.read_text()) if args.template else synthesized_template()
    definition = definition_of(template)
    night = night_transitions(definition)
    states = len(definition["States"])
    print("Nightly full sync, one location (Standard workflow, counted from the definition)")
    print(f"  states at the top level: {states}; every type ends on its first run:")
    print(
        f"  transitions per location-night: {night}; ${night * PRICE_PER_TRANSITION:.6f} per "
        f"location-night; ${night * PRICE_PER_TRANSITION * 30 * 1000:.2f} per 1,000 locations "
        "a month"
    )
    for choice in choices(definition):
        extra = continuation_transitions(definition, choice)
        print(f"  each paused run ({choice!r} loops once more): +{extra} transitions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
