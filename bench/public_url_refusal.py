"""What a refused (401) request costs the two public function URLs (prospect intake, Club Hub
webhook): the handler's import, its first 401, a warm 401, and what an authenticated request
imports on top. Prints figures; never fails a build.

    python bench/public_url_refusal.py [--runs 7] [--requests 5000]

Each figure comes from a fresh interpreter (median of --runs). No secret name is configured,
so nothing reaches Secrets Manager: in Lambda the first request also imports Powertools
parameters (boto3) and fetches the secret once per container and every 5 minutes, for the
refused and the accepted path alike. Stdout of the handler (the EMF record) is discarded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ("prospect_intake", "clubhub_webhook")
# What the authenticated path imports (the library, pydantic, the DynamoDB client's boto3).
LIBRARY = {
    "prospect_intake": "clubsync.features.prospect_intake",
    "clubhub_webhook": "clubsync.providers.clubhub.webhook",
}
LAMBDA_LIKE_ENV = {
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
}
PROBE = """
import contextlib, importlib, importlib.util, io, json, sys, time
from types import SimpleNamespace
name, requests = sys.argv[1], int(sys.argv[2])
context = SimpleNamespace(function_name="f", memory_limit_in_mb=512, aws_request_id="r",
                          invoked_function_arn="arn:aws:lambda:us-east-1:0:function:f")
event = {"headers": {"x-clubsync-intake-secret": "guess", "x-clubhub-signature": "sha256=0",
                     "x-clubhub-timestamp": "1"},
         "requestContext": {"http": {"method": "POST"}}, "body": "{}"}
sink = io.StringIO()
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", f"functions/{name}/handler.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
imported = time.perf_counter()
with contextlib.redirect_stdout(sink):
    status = module.lambda_handler(event, context)["statusCode"]
    first = time.perf_counter()
    for _ in range(requests):
        module.lambda_handler(event, context)
    warm = (time.perf_counter() - first) / requests
library = time.perf_counter()
importlib.import_module(sys.argv[3])
library = time.perf_counter() - library
print(json.dumps({"status": status, "import": imported - start, "first": first - imported,
                  "warm": warm, "library": library}))
"""


def probe(name: str, requests: int) -> dict[str, float]:
    answer = subprocess.run(
        [sys.executable, "-c", PROBE, name, str(requests), LIBRARY[name]],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **LAMBDA_LIKE_ENV},
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(answer.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    print(f"Refused requests, median of {args.runs} fresh interpreters")
    print(
        f"  {'function':<18}{'import':>9}{'first 401':>11}{'warm 401':>10}"
        f"{'401s/s/slot':>13}{'+library':>10}"
    )
    for name in FUNCTIONS:
        samples = [probe(name, args.requests) for _ in range(args.runs)]
        assert all(s["status"] == 401 for s in samples)
        median = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
        print(
            f"  {name:<18}{median['import'] * 1e3:>7.0f}ms{median['first'] * 1e3:>9.1f}ms"
            f"{median['warm'] * 1e6:>8.0f}us{1 / median['warm']:>13,.0f}"
            f"{median['library'] * 1e3:>8.0f}ms"
        )
    print(
        "  401s/s/slot: handler time only; Lambda adds its own per-invocation overhead and "
        "bills at least 1 ms."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
