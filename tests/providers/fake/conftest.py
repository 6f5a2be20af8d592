"""The one registration line of the fake provider (a deployed provider's is in
clubsync/providers/registry.py; a fixture here so no other test sees it)."""

from __future__ import annotations

import pytest

from clubsync.providers.registry import REGISTRY
from tests.providers.fake.provider import FakeProvider


@pytest.fixture(autouse=True)
def fake_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(REGISTRY, FakeProvider.name, FakeProvider)
