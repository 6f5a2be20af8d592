"""MoSo's harness for the contract suite: the feed harness with a MoSo location (extract
version 2.x, its stand-in map) and MoSo's file name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.providers.feed.harness import CLUB_ID, LOCATION_CODE, FeedHarness


class MosoHarness(FeedHarness):
    name = "moso"
    account: dict[str, Any] = {
        "club_id": CLUB_ID,
        "location_code": LOCATION_CODE,
        "extract_version": "2.x",
    }
    file_name = "MoSo_members_20261120.csv"


@contextmanager
def harness() -> Iterator[MosoHarness]:
    yield MosoHarness()
