"""Import time of each Lambda handler module, as a ratio to `import boto3` alone, and the
deployed package sizes.

    python bench/handler_import.py [--runs 9]

Each import is timed inside a fresh interpreter (median of --runs), so interpreter start-up is
not counted and nothing is cached between runs. Target: handler import <= 1.5x boto3. The
handlers defer the library, boto3 and httpx to their first invocation; the "first call" column
adds those deferred imports, which is what a cold start pays in total.

Sizes are of build/layers/* (built with layers/build.py when missing) and functions/*:
unzipped (Lambda's 250 MB limit counts these) and zipped (what is uploaded).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = {
    "members_sync": ROOT / "functions" / "members_sync" / "handler.py",
    "location_registry": ROOT / "functions" / "location_registry" / "handler.py",
}
# What each handler imports on its first invocation (see its `_runtime()` / record handler).
DEFERRED = {
    "members_sync": [
        "boto3",
        "clubsync.engine.scheduled",
        "clubsync.providers.abc.members",
        "clubsync.providers.abc.sources",
        "aws_lambda_powertools.utilities.parameters",
        "aws_lambda_powertools.tracing",
        "aws_xray_sdk.core",
    ],
    "location_registry": [
        "boto3",
        "clubsync.features.scheduling",
        "clubsync.domain.settings",
        "aws_lambda_powertools.tracing",
        "aws_xray_sdk.core",
    ],
}
# What Lambda would set; tracing off because the X-Ray SDK lives only in the layer.
LAMBDA_LIKE_ENV = {
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
}

TIMER = """
import importlib.util, sys, time
start = time.perf_counter()
{body}
print(time.perf_counter() - start)
"""
LOAD_HANDLER = """
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
"""


def timed(body: str, runs: int) -> float:
    env = {**os.environ, **LAMBDA_LIKE_ENV}
    samples = []
    for _ in range(runs):
        answer = subprocess.run(
            [sys.executable, "-c", TIMER.format(body=body)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=ROOT,
        )
        samples.append(float(answer.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def directory_sizes(path: Path) -> tuple[int, int]:
    """(unzipped bytes, zipped bytes) of a directory, without caches."""
    files = [p for p in sorted(path.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    unzipped = sum(p.stat().st_size for p in files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(file, file.relative_to(path))
    return unzipped, len(buffer.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    boto3_time = timed("import boto3", args.runs)
    print(f"Import time, median of {args.runs} fresh interpreters")
    print(f"  {'module':<22}{'import':>10}{'vs boto3':>10}{'first call':>12}{'vs boto3':>10}")
    print(f"  {'boto3':<22}{boto3_time * 1000:>8.0f}ms{1.0:>9.2f}x")
    for name, path in HANDLERS.items():
        handler_time = timed(LOAD_HANDLER.format(path=str(path)), args.runs)
        deferred = "\n".join(f"import {module}" for module in DEFERRED[name])
        cold = timed(LOAD_HANDLER.format(path=str(path)) + deferred, args.runs)
        print(
            f"  {name:<22}{handler_time * 1000:>8.0f}ms{handler_time / boto3_time:>9.2f}x"
            f"{cold * 1000:>10.0f}ms{cold / boto3_time:>9.2f}x"
        )

    layers = ROOT / "build" / "layers"
    if not (layers / "deps" / "python").is_dir() or not (layers / "clubsync" / "python").is_dir():
        subprocess.run([sys.executable, str(ROOT / "layers" / "build.py")], check=True)
    print("\nPackage sizes (unzipped / zipped)")
    packages = {
        "layer: dependencies": layers / "deps",
        "layer: clubsync library": layers / "clubsync",
        "function: members_sync": ROOT / "functions" / "members_sync",
        "function: location_registry": ROOT / "functions" / "location_registry",
    }
    total = 0
    for label, path in packages.items():
        unzipped, zipped = directory_sizes(path)
        if label.startswith("layer") or label.endswith("members_sync"):
            total += unzipped
        print(f"  {label:<30}{unzipped / 1e6:>8.2f} MB{zipped / 1e6:>9.2f} MB")
    print(f"  members_sync total unzipped: {total / 1e6:.1f} MB of Lambda's 250 MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
