"""Builds the two Lambda layers without Docker.

    python layers/build.py            # build what is missing or stale
    python layers/build.py --force    # rebuild the dependency layer too

build/layers/deps/python      third-party runtime dependencies from pyproject's
                              [project.dependencies], as wheels for the function's platform
                              (pip --platform ... --only-binary=:all:), minus what the Lambda
                              Python runtime already has (boto3, botocore and their helpers)
build/layers/clubsync/python  the clubsync library, copied fresh on every run

Both are shipped with bytecode for the runtime's Python (`compile_bytecode`): Lambda's /opt is
read-only, so a layer without it is compiled from source on every cold start. A .pyc carries
its interpreter's magic number, so only an interpreter of the runtime's version can write it:
the build looks for one (`bytecode_interpreter`) and stops with a one-line message when there
is none (docs/decisions.md, "Layers ship bytecode for the runtime's Python").

The dependency layer is reinstalled only when its inputs change (a stamp file records the
requirement list, platform, Python version and bytecode). Versions are pinned to the ones
installed in the developer's environment, which are the ones the tests ran against.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "layers"
DEPS_DIR = BUILD / "deps" / "python"
LIBRARY_DIR = BUILD / "clubsync" / "python"
LIBRARY_SOURCE = ROOT / "layers" / "clubsync" / "clubsync"
STAMP = BUILD / "deps" / ".stamp.json"

# Keep in step with infra/clubsync_infra/runtime.py (LAMBDA_PYTHON_VERSION, architecture);
# tests/infra checks they agree.
PYTHON_VERSION = "3.13"
# An interpreter of the runtime's version to write the bytecode with, when none is found.
COMPILE_WITH_ENV = "CLUBSYNC_LAYER_PYTHON"
# The layer never changes after the build, so no import should stat or hash its sources:
# unchecked hash-based .pyc are valid whatever the files' times (CDK's asset zip resets them).
INVALIDATION_MODE = "unchecked-hash"
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}

# The Lambda runtime ships the AWS SDK; a second copy in the layer would only shadow it.
PROVIDED_BY_RUNTIME = {
    "boto3",
    "botocore",
    "s3transfer",
    "urllib3",
    "python-dateutil",
    "dateutil",
    "six",
}
# Needed at run time but not by the library itself: Powertools' Tracer needs the X-Ray SDK
# when active tracing is on (pyproject could say aws-lambda-powertools[tracer] instead).
LAYER_EXTRAS = ("aws-xray-sdk",)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements() -> list[str]:
    """Runtime requirements for the layer, pinned to the locally installed versions."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = []
    for spec in [*project["dependencies"], *LAYER_EXTRAS]:
        name = re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0]
        if _canonical(name) in PROVIDED_BY_RUNTIME:
            continue
        try:
            pinned.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pinned.append(spec)
    return pinned


class BuildError(Exception):
    """A build that cannot go on, with a message that says what to do."""


def interpreter_version(python: str) -> str | None:
    """`3.13` for an interpreter that runs, None for one that does not."""
    try:
        answer = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return answer.stdout.strip() if answer.returncode == 0 else None


def _candidates(python_version: str, given: str | None) -> list[str]:
    if given:
        return [given]
    found = [sys.executable]
    on_path = shutil.which(f"python{python_version}")
    if on_path:
        found.append(on_path)
    # pyenv keeps each version under its root; `pyenv root` says where, without a fixed path.
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        versions = sorted(Path(root, "versions").glob(f"{python_version}.*"), reverse=True)
        found += [str(path / "bin" / f"python{python_version}") for path in versions]
    return found


def bytecode_interpreter(python_version: str, given: str | None = None) -> str:
    """An interpreter of `python_version` to compile the layers with: `given` (--compile-with,
    or CLUBSYNC_LAYER_PYTHON), else this one if it is that version, else `python3.13` on PATH,
    else a pyenv installation of it."""
    given = given or os.environ.get(COMPILE_WITH_ENV) or None
    for candidate in _candidates(python_version, given):
        if interpreter_version(candidate) == python_version:
            return candidate
    if given:
        raise BuildError(
            f"{given} is not a Python {python_version} interpreter; the layers' bytecode must "
            f"be written by the Lambda runtime's Python {python_version}"
        )
    raise BuildError(
        f"no Python {python_version} found to write the layers' bytecode (the Lambda runtime's "
        f"version): install it (e.g. `pyenv install {python_version}`) or name one with "
        f"--compile-with PATH or {COMPILE_WITH_ENV}"
    )


def compile_bytecode(directory: Path, interpreter: str) -> None:
    """Writes __pycache__/*.cpython-XY.pyc next to every module under `directory`."""
    answer = subprocess.run(
        [
            interpreter,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            INVALIDATION_MODE,
            str(directory),
        ],
        capture_output=True,
        text=True,
    )
    if answer.returncode != 0:
        failed = (answer.stdout + answer.stderr).strip().splitlines()
        raise BuildError(f"compiling {directory} failed: {failed[-1] if failed else 'no output'}")


def missing_bytecode(directory: Path, python_version: str) -> list[Path]:
    """The modules under `directory` without a .pyc for `python_version` (a built layer
    has none)."""
    tag = f"cpython-{python_version.replace('.', '')}"
    return [
        source
        for source in sorted(directory.rglob("*.py"))
        if not (source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc").is_file()
    ]


def build_dependencies(
    *,
    arch: str,
    python_version: str,
    interpreter: str,
    force: bool = False,
    target: Path = DEPS_DIR,
) -> bool:
    """Installs the dependency layer into `target` with bytecode; returns False when the
    existing one is current."""
    wanted = {
        "requirements": requirements(),
        "platform": PLATFORMS[arch],
        "python": python_version,
        "bytecode": INVALIDATION_MODE,
    }
    stamp = target.parent / STAMP.name
    current = stamp.exists() and target.exists()
    if not force and current and json.loads(stamp.read_text(encoding="utf-8")) == wanted:
        return False
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # compile_bytecode writes them, with the runtime's Python
        "--platform",
        PLATFORMS[arch],
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--only-binary=:all:",
        "--target",
        str(target),
        *wanted["requirements"],
    ]
    subprocess.run(command, check=True)
    _prune(target)
    compile_bytecode(target, interpreter)
    stamp.write_text(json.dumps(wanted, indent=2), encoding="utf-8")
    return True


def _prune(target: Path) -> None:
    """Drops what the runtime provides (pulled in by aws-xray-sdk's botocore dependency) and
    anything that is never imported at run time."""
    for path in list(target.iterdir()):
        stem = _canonical(path.name.split("-")[0].removesuffix(".py"))
        if stem in PROVIDED_BY_RUNTIME:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for cache in target.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(target / "bin", ignore_errors=True)


def build_library(
    interpreter: str, *, source: Path = LIBRARY_SOURCE, target: Path = LIBRARY_DIR
) -> None:
    """A fresh copy of the library in `target`, with bytecode."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(
        source,
        target / source.name,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    compile_bytecode(target, interpreter)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="reinstall the dependency layer")
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="arm64")
    parser.add_argument("--python-version", default=PYTHON_VERSION)
    parser.add_argument(
        "--compile-with",
        metavar="PATH",
        help=f"a Python {PYTHON_VERSION} to write the bytecode with (default: found)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=BUILD,
        help="where deps/ and clubsync/ go (default build/layers; the import bench builds "
        "layers for this machine elsewhere)",
    )
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    try:
        interpreter = bytecode_interpreter(args.python_version, args.compile_with)
        rebuilt = build_dependencies(
            arch=args.arch,
            python_version=args.python_version,
            interpreter=interpreter,
            force=args.force,
            target=out / "deps" / "python",
        )
        build_library(interpreter, target=out / "clubsync" / "python")
    except BuildError as error:
        print(f"layers/build.py: {error}", file=sys.stderr)
        return 2
    print(
        f"dependency layer {'built' if rebuilt else 'up to date'}: {out / 'deps'}; "
        f"library layer copied: {out / 'clubsync'}; bytecode for Python "
        f"{args.python_version} ({INVALIDATION_MODE})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
