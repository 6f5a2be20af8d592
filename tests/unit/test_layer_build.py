"""layers/build.py ships bytecode for the runtime's Python: a small library is built the way the
clubsync layer is, and its .pyc are checked and imported from a fresh interpreter."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


def _load_build() -> Any:
    spec = importlib.util.spec_from_file_location(
        "clubsync_layer_build", ROOT / "layers" / "build.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


def _small_library(root: Path) -> Path:
    package = root / "src" / "smalllib"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "inner" / "__init__.py").write_text("")
    (package / "inner" / "answer.py").write_text("VALUE = 'built'\n")
    # A stale cache in the source must not reach the layer.
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "stale.cpython-39.pyc").write_bytes(b"old")
    return package


def test_a_built_library_has_unchecked_bytecode_for_every_module(tmp_path: Path) -> None:
    source = _small_library(tmp_path)
    target = tmp_path / "layer" / "python"

    build.build_library(sys.executable, source=source, target=target)

    assert build.missing_bytecode(target, RUNNING) == []
    assert not (target / "smalllib" / "__pycache__" / "stale.cpython-39.pyc").exists()
    tag = sys.implementation.cache_tag
    pyc = target / "smalllib" / "inner" / "__pycache__" / f"answer.{tag}.pyc"
    header = pyc.read_bytes()[:8]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    # PEP 552 flags: bit 0 hash-based, bit 1 check_source; unchecked = 0b01.
    assert int.from_bytes(header[4:8], "little") == 0b01


def test_the_built_bytecode_is_used_whatever_the_sources_times(tmp_path: Path) -> None:
    """CDK's asset zip resets file times; an unchecked .pyc does not look at them, so the
    import runs the compiled module, never the source."""
    source = _small_library(tmp_path)
    target = tmp_path / "layer" / "python"
    build.build_library(sys.executable, source=source, target=target)
    module = target / "smalllib" / "inner" / "answer.py"
    # If the import compiled the source it would see this; the build's bytecode says "built".
    module.write_text("VALUE = 'compiled at import'\n")
    os.utime(module, (315532800, 315532800))  # 1980-01-01, as in an asset zip

    answer = subprocess.run(
        [
            sys.executable,
            "-S",
            "-B",
            "-c",
            "from smalllib.inner.answer import VALUE; print(VALUE)",
        ],
        env={"PYTHONPATH": str(target), "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=True,
    )

    assert answer.stdout.strip() == "built"


def test_a_module_without_bytecode_is_reported(tmp_path: Path) -> None:
    source = _small_library(tmp_path)
    target = tmp_path / "layer" / "python"
    build.build_library(sys.executable, source=source, target=target)
    (target / "smalllib" / "late.py").write_text("")

    assert build.missing_bytecode(target, RUNNING) == [target / "smalllib" / "late.py"]
    # Bytecode of another version does not count.
    assert len(build.missing_bytecode(target, "3.99")) == 4


def test_the_runtime_version_is_compiled_by_an_interpreter_of_that_version(
    tmp_path: Path,
) -> None:
    try:
        interpreter = build.bytecode_interpreter(build.PYTHON_VERSION)
    except build.BuildError as error:
        pytest.skip(f"no Python {build.PYTHON_VERSION} on this machine: {error}")
    assert build.interpreter_version(interpreter) == build.PYTHON_VERSION
    target = tmp_path / "layer" / "python"

    build.build_library(interpreter, source=_small_library(tmp_path), target=target)

    assert build.missing_bytecode(target, build.PYTHON_VERSION) == []


def test_without_an_interpreter_of_the_version_the_build_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(build.COMPILE_WITH_ENV, raising=False)
    with pytest.raises(build.BuildError) as raised:
        build.bytecode_interpreter("2.1")
    message = str(raised.value)
    assert "\n" not in message
    assert "no Python 2.1 found" in message and "--compile-with" in message

    with pytest.raises(build.BuildError, match=r"is not a Python 2\.1 interpreter"):
        build.bytecode_interpreter("2.1", sys.executable)


def test_the_build_command_fails_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status = build.main(["--python-version", "2.1", "--out", str(tmp_path)])

    assert status == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("layers/build.py: no Python 2.1 found") and "\n" not in error
