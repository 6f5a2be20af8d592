"""Import time of every Lambda handler as deployed, as a ratio to `import boto3` in the same run,
before and after the layers carried bytecode; and the deployed package sizes.

    python bench/handler_import.py [--runs 7]

"As deployed": each handler is imported the way Lambda's runtime does it (`import handler` with
the function's folder first on the path, then the library layer, the dependency layer, then
the runtime's own boto3), in a fresh interpreter per sample (`python -S -B`: no site-packages,
so nothing of the developer's virtualenv but boto3 and its helpers is reachable, and nothing
written, as /opt and /var/task are read-only). The layers are built for this machine by
layers/build.py itself (`--out build/bench-layers`, this machine's architecture and Python,
since a layer built for arm64 and Python 3.13 cannot be imported here):

- "no bytecode": the layers as they were shipped before issue 15 (`pip --no-compile`, caches
  deleted): every import compiles the library and pydantic from source;
- "bytecode": the layers as layers/build.py builds them now (unchecked hash-based .pyc).

Each figure is the median of --runs fresh interpreters; interpreter start-up is not counted.
Goals: handler import <= 1.5x `import boto3` (issue 15's table: <= 1.0x). The columns
"pydantic" and "phonenumbers" say whether the handler's import loads them. The "first call"
column (two handlers) adds what their first invocation imports, which a cold start also pays.

Sizes are of build/layers/* (the arm64 layers `make layers` builds; built when missing) and
functions/*: unzipped (Lambda's 250 MB limit counts these) and zipped (what is uploaded).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
BENCH_LAYERS = ROOT / "build" / "bench-layers"
DEPLOYED_LAYERS = ROOT / "build" / "layers"
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
GOAL = 1.5
ISSUE_GOAL = 1.0
# What two handlers import on their first invocation (their `_runtime()` / record handler).
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
WATCHED = ("pydantic", "phonenumbers")

TIMER = """
import json, sys, time
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
origins = {{name: getattr(sys.modules.get(name), "__file__", None) for name in {checked!r}}}
print(json.dumps({{"seconds": elapsed, "loaded": sorted(sys.modules), "origins": origins}}))
"""


def machine_arch() -> str:
    return "arm64" if platform.machine() in {"aarch64", "arm64"} else "x86_64"


def build_bench_layers() -> dict[str, Path]:
    """The layers for this machine, with bytecode (layers/build.py), and a copy without it."""
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "layers" / "build.py"),
            "--out",
            str(BENCH_LAYERS),
            "--arch",
            machine_arch(),
            "--python-version",
            RUNNING,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    without = ROOT / "build" / "bench-layers-no-bytecode"
    shutil.rmtree(without, ignore_errors=True)
    shutil.copytree(BENCH_LAYERS, without, ignore=shutil.ignore_patterns("__pycache__"))
    return {"no bytecode": without, "bytecode": BENCH_LAYERS}


def runtime_sdk_dir() -> Path:
    """Where this interpreter's boto3 lives: the stand-in for Lambda's /var/runtime."""
    spec = importlib.util.find_spec("boto3")
    assert spec and spec.origin
    return Path(spec.origin).parent.parent


def sample(body: str, path: list[Path], checked: tuple[str, ...]) -> dict[str, object]:
    env = {**os.environ, **LAMBDA_LIKE_ENV, "PYTHONPATH": os.pathsep.join(map(str, path))}
    answer = subprocess.run(
        [sys.executable, "-S", "-B", "-c", TIMER.format(body=body, checked=checked)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=path[0],
    )
    result: dict[str, object] = json.loads(answer.stdout.strip().splitlines()[-1])
    return result


def timed(
    body: str, path: list[Path], runs: int, checked: tuple[str, ...] = ()
) -> tuple[float, dict[str, object]]:
    samples = [sample(body, path, checked) for _ in range(runs)]
    seconds = [float(s["seconds"]) for s in samples]  # type: ignore[arg-type]
    return statistics.median(seconds), samples[-1]


def check_origins(last: dict[str, object], layers: Path) -> None:
    """The figure is only what it says if the library and pydantic came from the layers."""
    origins = last["origins"]
    assert isinstance(origins, dict)
    for name, origin in origins.items():
        if origin is not None and not str(origin).startswith(str(layers)):
            raise SystemExit(f"{name} was imported from {origin}, not from the layers {layers}")


def directory_sizes(path: Path) -> tuple[int, int]:
    """(unzipped bytes, zipped bytes) of a directory, as deployed (bytecode included)."""
    files = [p for p in sorted(path.rglob("*")) if p.is_file()]
    unzipped = sum(p.stat().st_size for p in files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            archive.write(file, file.relative_to(path))
    return unzipped, len(buffer.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    layer_sets = build_bench_layers()
    sdk = runtime_sdk_dir()
    handlers = sorted(path.parent.name for path in FUNCTIONS.glob("*/handler.py"))
    checked = ("clubsync", *WATCHED)

    boto3_time, _ = timed("import boto3", [ROOT, sdk], args.runs)
    figures: dict[str, dict[str, float]] = {name: {} for name in handlers}
    loads: dict[str, set[str]] = {}
    first_call: dict[str, float] = {}
    for label, layers in layer_sets.items():
        layer_path = [layers / "clubsync" / "python", layers / "deps" / "python", sdk]
        for name in handlers:
            path = [FUNCTIONS / name, *layer_path]
            seconds, last = timed("import handler", path, args.runs, checked)
            check_origins(last, layers)
            figures[name][label] = seconds
            loaded = last["loaded"]
            assert isinstance(loaded, list)
            loads[name] = {package for package in WATCHED if package in loaded}
            if label == "bytecode" and name in DEFERRED:
                body = "import handler\n" + "\n".join(f"import {m}" for m in DEFERRED[name])
                first_call[name], _ = timed(body, path, args.runs)

    print(
        f"Handler import as deployed (Python {RUNNING}, {machine_arch()}, layers built by "
        f"layers/build.py), median of {args.runs} fresh interpreters"
    )
    print(f"  import boto3: {boto3_time * 1000:.0f} ms (the yardstick)")
    header = (
        f"  {'handler':<25}{'no bytecode':>12}{'x boto3':>9}{'bytecode':>10}{'x boto3':>9}"
        f"{'pydantic':>10}{'phonenumbers':>14}{'first call':>12}"
    )
    print(header)
    for name in handlers:
        before, after = figures[name]["no bytecode"], figures[name]["bytecode"]
        cold = f"{first_call[name] / boto3_time:>11.2f}x" if name in first_call else f"{'-':>12}"
        print(
            f"  {name:<25}{before * 1000:>10.0f}ms{before / boto3_time:>8.2f}x"
            f"{after * 1000:>8.0f}ms{after / boto3_time:>8.2f}x"
            f"{'yes' if 'pydantic' in loads[name] else 'no':>10}"
            f"{'yes' if 'phonenumbers' in loads[name] else 'no':>14}{cold}"
        )
    for label in layer_sets:
        ratios = [figures[name][label] / boto3_time for name in handlers]
        print(
            f"  {label}: {sum(r <= GOAL for r in ratios)} of {len(handlers)} handlers meet "
            f"{GOAL}x boto3, {sum(r <= ISSUE_GOAL for r in ratios)} meet {ISSUE_GOAL}x; "
            f"median {statistics.median(ratios):.2f}x, worst {max(ratios):.2f}x"
        )

    if not (DEPLOYED_LAYERS / "deps" / "python").is_dir():
        subprocess.run([sys.executable, str(ROOT / "layers" / "build.py")], check=True)
    print("\nPackage sizes as deployed (unzipped / zipped; layers with bytecode)")
    packages = {
        "layer: dependencies": DEPLOYED_LAYERS / "deps",
        "layer: clubsync library": DEPLOYED_LAYERS / "clubsync",
        "function: members_sync": FUNCTIONS / "members_sync",
    }
    total = 0
    for label, path in packages.items():
        unzipped, zipped = directory_sizes(path)
        total += unzipped
        print(f"  {label:<30}{unzipped / 1e6:>8.2f} MB{zipped / 1e6:>9.2f} MB")
    print(f"  members_sync total unzipped: {total / 1e6:.1f} MB of Lambda's 250 MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
