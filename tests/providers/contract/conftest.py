"""The contract suite runs once per registered provider (plus the tests' fake), each with the
harness from its own folder, tests/providers/<name>/harness.py. A registered provider with no
harness fails here, naming the file to add."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_socket import enable_socket, socket_allow_hosts

from clubsync.providers.registry import REGISTRY

PROVIDERS = sorted({*REGISTRY, "fake"})

# Contract failures found and not yet fixed (library code outside this suite's reach): strict,
# so the fix turns them into errors to remove here.
# provider -> why it fails the contracts today (strict xfail: a fix makes the entry an error).
# Empty: the Club Hub pull's club id (found by this suite) is read from the account now.
KNOWN_FAILURES: dict[str, str] = {}
# provider -> why its harness is not there yet (skipped, visibly; remove when it lands).
HARNESS_PENDING: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    # HTTP harnesses run their sandbox on 127.0.0.1; nothing else is reachable.
    socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture(params=PROVIDERS)
def harness(request: pytest.FixtureRequest) -> Iterator[Any]:
    name: str = request.param
    if name in HARNESS_PENDING:
        pytest.skip(HARNESS_PENDING[name])
    try:
        module = importlib.import_module(f"tests.providers.{name}.harness")
    except ModuleNotFoundError as missing:
        pytest.fail(
            f"provider {name!r} has no contract harness: add tests/providers/{name}/harness.py "
            f"({missing})"
        )
    known = KNOWN_FAILURES.get(name)
    if known is not None:
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=known))
    with module.harness() as made:
        yield made
