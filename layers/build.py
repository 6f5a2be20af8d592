"""Builds the two Lambda layers without Docker.

    python layers/build.py            # build what is missing or stale
    python layers/build.py --force    # rebuild the dependency layer too

build/layers/deps/python      third-party runtime dependencies from pyproject's
                              [project.dependencies], as wheels for the function's platform
                              (pip --platform ... --only-binary=:all:), minus what the Lambda
                              Python runtime already has (boto3, botocore and their helpers)
build/layers/clubsync/python  the clubsync library, copied fresh on every run

The dependency layer is reinstalled only when its inputs change (a stamp file records the
requirement list, platform and Python version). Versions are pinned to the ones installed in
the developer's environment, which are the ones the tests ran against.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
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

# Keep in step with infra/clubsync_infra/member_sync.py (LAMBDA_PYTHON_VERSION, architecture);
# tests/infra checks they agree.
PYTHON_VERSION = "3.13"
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


def build_dependencies(*, arch: str, python_version: str, force: bool = False) -> bool:
    """Installs the dependency layer; returns False when the existing one is current."""
    wanted = {
        "requirements": requirements(),
        "platform": PLATFORMS[arch],
        "python": python_version,
    }
    current = STAMP.exists() and DEPS_DIR.exists()
    if not force and current and json.loads(STAMP.read_text(encoding="utf-8")) == wanted:
        return False
    shutil.rmtree(DEPS_DIR, ignore_errors=True)
    DEPS_DIR.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # .pyc from this interpreter would not match the runtime's Python
        "--platform",
        PLATFORMS[arch],
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--only-binary=:all:",
        "--target",
        str(DEPS_DIR),
        *wanted["requirements"],
    ]
    subprocess.run(command, check=True)
    _prune(DEPS_DIR)
    STAMP.write_text(json.dumps(wanted, indent=2), encoding="utf-8")
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


def build_library() -> None:
    shutil.rmtree(LIBRARY_DIR, ignore_errors=True)
    shutil.copytree(
        LIBRARY_SOURCE,
        LIBRARY_DIR / "clubsync",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="reinstall the dependency layer")
    parser.add_argument("--arch", choices=sorted(PLATFORMS), default="arm64")
    parser.add_argument("--python-version", default=PYTHON_VERSION)
    args = parser.parse_args(argv)
    rebuilt = build_dependencies(
        arch=args.arch, python_version=args.python_version, force=args.force
    )
    build_library()
    print(
        f"dependency layer {'built' if rebuilt else 'up to date'}: {DEPS_DIR.relative_to(ROOT)}; "
        f"library layer copied: {LIBRARY_DIR.relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
