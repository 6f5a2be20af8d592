"""The optional SFTP server of the feed path (`-c feedSftp=true`): synthesized with cdk-nag
like the default stack (tests/infra/test_stack.py), only when asked for."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _synth(tmp_path: Path, context: dict[str, Any]) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location(
        "clubsync_cdk_app_sftp", ROOT / "infra" / "app.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.build_app(
        {"aws:cdk:bundling-stacks": [], **context}, outdir=str(tmp_path), stages=("dev",)
    )
    try:
        app.synth()
    except RuntimeError as error:
        report = tmp_path / "validation-report.json"
        pytest.fail(f"synth failed: {error}\n{report.read_text() if report.exists() else ''}")
    template: dict[str, Any] = json.loads((tmp_path / "Clubsync-dev.template.json").read_text())
    return template


def _servers(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == "AWS::Transfer::Server"]


def test_the_sftp_server_is_there_only_when_asked_for_and_nag_clean(tmp_path: Path) -> None:
    [server] = _servers(_synth(tmp_path / "sftp", {"feedSftp": "true"}))
    properties = server["Properties"]
    assert properties["Protocols"] == ["SFTP"]
    assert properties["IdentityProviderType"] == "SERVICE_MANAGED"
    assert properties["Domain"] == "S3"
    assert "LoggingRole" in properties
    assert _servers(_synth(tmp_path / "plain", {})) == []
