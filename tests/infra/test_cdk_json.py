"""cdk.json sets every feature flag the installed aws-cdk-lib recommends for new projects (what
`cdk init` would write), so upgrading aws-cdk-lib shows here which new flags to decide on."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import aws_cdk

ROOT = Path(__file__).resolve().parents[2]
# flag -> why cdk.json differs from the recommendation (empty: none differ).
DEVIATIONS: dict[str, str] = {}


def recommended_flags() -> dict[str, Any]:
    bundle = next((Path(aws_cdk.__file__).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz"))
    with tarfile.open(bundle) as archive:
        member = archive.extractfile("package/recommended-feature-flags.json")
        assert member is not None
        flags: dict[str, Any] = json.load(member)
    return flags


def test_cdk_json_sets_every_recommended_feature_flag() -> None:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    missing = sorted(set(recommended_flags()) - set(context))
    assert missing == [], f"add to cdk.json (or to DEVIATIONS with a reason): {missing}"
    differing = {
        flag: value
        for flag, value in recommended_flags().items()
        if context[flag] != value and flag not in DEVIATIONS
    }
    assert differing == {}
