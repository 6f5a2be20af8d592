"""The `clubsync` command refuses what a person got wrong with one line saying what to fix and a
non-zero exit, never a traceback: a locations file that is not UTF-8, two locations on one
billing club, a port out of range or taken, a machine with no AWS region. No sockets, no AWS."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clubsync.cli.main import EXIT_NOT_CONFIGURED, app
from clubsync.sandbox import BillingSandbox

EXAMPLE_LOCATIONS = Path(__file__).parents[2] / "docs/examples/locations.json"
runner = CliRunner()


def location(location_id: str, club_number: str) -> dict[str, Any]:
    return {"location_id": location_id, "club_number": club_number, "time_zone": "UTC"}


def write_locations(tmp_path: Path, *locations: dict[str, Any]) -> Path:
    path = tmp_path / "locations.json"
    path.write_text(json.dumps({"locations": list(locations)}), encoding="utf-8")
    return path


def assert_refused(output: str, exit_code: int, expected: str) -> None:
    assert exit_code != 0
    assert "Traceback" not in output
    assert expected in output, output


# -- the locations file ----------------------------------------------------------------------
def test_a_locations_file_that_is_not_utf8_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "locations.json"
    # Saved by an editor as Windows-1252: "Zürich" is byte 0xfc.
    document = json.dumps({"locations": [location("zurich", "1")]}).replace("zurich", "Zürich")
    path.write_bytes(document.encode("cp1252"))
    result = runner.invoke(app, ["locations", "apply", str(path), "--dry-run"])
    assert result.exit_code == 2
    assert_refused(result.output, result.exit_code, "not UTF-8 text (byte 0xfc")
    assert "save the file as UTF-8" in result.output


def test_two_locations_on_one_club_number_are_refused_naming_both(tmp_path: Path) -> None:
    path = write_locations(
        tmp_path,
        location("springfield", "0451"),
        location("ogdenville", "1207"),
        location("downtown", "0451"),
    )
    result = runner.invoke(app, ["locations", "apply", str(path), "--dry-run"])
    assert result.exit_code == 2
    assert_refused(result.output, result.exit_code, "club_number '0451' (abc)")
    assert "locations[0] (springfield) and locations[2] (downtown)" in result.output
    assert "ogdenville" not in result.output


def test_the_example_locations_file_gives_each_location_its_own_club(tmp_path: Path) -> None:
    # The documented multi-location set-up: locations of one business share a billing secret,
    # never a club number.
    result = runner.invoke(app, ["locations", "apply", str(EXAMPLE_LOCATIONS), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "3 locations, all valid" in result.output


def test_a_sandbox_file_that_is_not_utf8_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "billing.json"
    path.write_bytes('{"clubs": [{"clubNumber": "0451", "timeZone": "Zürich"}]}'.encode("cp1252"))
    result = runner.invoke(app, ["sandbox", "--file", str(path)])
    assert result.exit_code == 2
    assert_refused(result.output, result.exit_code, "not UTF-8 text")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--site", "studio-1"], "--site: a Mindbody SiteId is a whole number"),
        (["--time-zone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_a_bad_mindbody_sandbox_option_is_refused_in_one_line(
    extra: list[str], reason: str
) -> None:
    result = runner.invoke(app, ["sandbox", "--provider", "mindbody", *extra])
    assert result.exit_code == 2
    assert_refused(result.output, result.exit_code, reason)


def test_the_mindbody_sandbox_refuses_an_abc_file(tmp_path: Path) -> None:
    path = tmp_path / "billing.json"
    path.write_text('{"clubs": []}', encoding="utf-8")
    result = runner.invoke(app, ["sandbox", "--provider", "mindbody", "--file", str(path)])
    assert result.exit_code == 2
    assert_refused(result.output, result.exit_code, "--file holds ABC-shaped data")


# -- ports -----------------------------------------------------------------------------------
@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_a_port_out_of_range_is_refused(port: str) -> None:
    result = runner.invoke(app, ["sandbox", "--port", port])
    assert result.exit_code == 2
    assert_refused(result.output, result.exit_code, "Invalid value for '--port'")


def test_a_port_that_cannot_be_bound_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def taken(self: BillingSandbox, host: str = "127.0.0.1", port: int = 0) -> str:
        raise OSError(errno.EADDRINUSE, "Address already in use")

    monkeypatch.setattr(BillingSandbox, "start", taken)
    result = runner.invoke(app, ["sandbox", "--port", "8099", "--members", "0"])
    assert result.exit_code == 2
    assert_refused(result.output, result.exit_code, "Cannot serve on 127.0.0.1:8099")
    assert "Address already in use; choose another --port" in result.output
    assert len(result.output.strip().splitlines()) == 1


# -- AWS set-up ------------------------------------------------------------------------------
@pytest.fixture
def no_aws_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where nobody ran `aws configure`: no region anywhere."""
    empty = tmp_path / "aws-config"
    empty.write_text("", encoding="utf-8")
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE", "CLUBSYNC_AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))


@pytest.mark.usefixtures("no_aws_region")
@pytest.mark.parametrize(
    "command",
    [
        ["locations", "list"],
        ["locations", "remove", "springfield"],
        ["runs", "--location", "springfield"],
        ["prospects", "push-status", "--location", "springfield"],
    ],
    ids=" ".join,
)
def test_without_an_aws_region_a_command_says_what_to_set(command: list[str]) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == EXIT_NOT_CONFIGURED
    assert_refused(result.output, result.exit_code, "No AWS region configured: export AWS_REGION")
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.usefixtures("no_aws_region")
def test_without_an_aws_region_apply_checks_the_file_then_says_what_to_set(
    tmp_path: Path,
) -> None:
    path = write_locations(tmp_path, location("springfield", "0451"))
    result = runner.invoke(app, ["locations", "apply", str(path)])
    assert result.exit_code == EXIT_NOT_CONFIGURED
    assert_refused(result.output, result.exit_code, "No AWS region configured")
