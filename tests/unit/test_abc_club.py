"""The ABC club record (GET /clubs) and the check of its timeZone against a location's zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from clubsync.providers.abc.client import (
    AbcClient,
    AbcClientConfig,
    AbcCredentials,
    AbcSilentRejection,
    AbcUnreadablePage,
    parse_club,
)
from clubsync.providers.abc.club import AbcClub, club_zone_mismatch

CREDENTIALS = AbcCredentials(app_id="id-123", app_key="key-456")  # type: ignore[arg-type]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CLUB_OBJECT = {
    "name": "Springfield Fitness",
    "shortName": "SPFLD",
    "timeZone": "America/Chicago",
    "address1": "12 Main St",
    "city": "Springfield",
    "state": "IL",
    "billingCountry": "US",
    "creditCardPaymentMethods": {"visa": "true"},
}


def answer(club: Any, message: str = "success") -> bytes:
    body: dict[str, Any] = {"status": {"message": message, "count": "1"}, "request": {}}
    if club is not None:
        body["club"] = club
    return json.dumps(body).encode()


def test_get_club_reads_the_club_object_and_ignores_what_it_does_not_map() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=answer(CLUB_OBJECT))

    client = AbcClient(
        "0451",
        CREDENTIALS,
        AbcClientConfig(base_url="https://abc.test/rest", min_request_interval_seconds=0),
        transport=httpx.MockTransport(handler),
        sleep=lambda _: None,
    )
    club = client.get_club()
    assert seen[0].url.path == "/rest/0451/clubs"
    assert (club.name, club.short_name, club.time_zone, club.billing_country) == (
        "Springfield Fitness",
        "SPFLD",
        "America/Chicago",
        "US",
    )


def test_a_one_element_list_is_read_as_its_club() -> None:
    assert parse_club(answer([CLUB_OBJECT])).time_zone == "America/Chicago"


def test_no_club_is_a_silent_rejection_or_unreadable() -> None:
    with pytest.raises(AbcSilentRejection, match="not authorized"):
        parse_club(answer(None, "Club not found or not authorized"), club_number="0451")
    with pytest.raises(AbcUnreadablePage, match="'club'"):
        parse_club(answer(None, ""))
    with pytest.raises(AbcUnreadablePage, match="not JSON"):
        parse_club(b"<html>")


def club(zone: str | None) -> AbcClub:
    return AbcClub.model_validate({"name": "X", "timeZone": zone})


@pytest.mark.parametrize(
    ("reported", "configured"),
    [
        ("America/Chicago", "America/Chicago"),
        ("America/Chicago", ZoneInfo("America/Chicago")),
        ("US/Central", "America/Chicago"),  # a legacy link: the same rules
        ("America/New_York", "US/Eastern"),
        (" America/Denver ", "America/Denver"),
    ],
)
def test_the_same_zone_is_no_mismatch(reported: str, configured: str | ZoneInfo) -> None:
    assert club_zone_mismatch(club(reported), configured, now=NOW) is None


def test_another_zone_is_a_mismatch_that_says_both_and_what_to_do() -> None:
    message = club_zone_mismatch(
        club("US/Central"), "America/New_York", club_number="0451", now=NOW
    )
    assert message is not None
    assert "ABC club 0451" in message
    assert "US/Central" in message and "America/New_York" in message
    assert "Set the location's zone" in message


def test_zones_with_the_same_offset_in_winter_only_are_a_mismatch() -> None:
    # Phoenix keeps no daylight saving time: the same offset as Denver half the year.
    assert club_zone_mismatch(club("America/Phoenix"), "America/Denver", now=NOW) is not None


@pytest.mark.parametrize("reported", ["Central Standard Time", "CST", "-06:00", "GMT-6"])
def test_a_zone_that_is_not_an_iana_name_is_reported_as_unknown(reported: str) -> None:
    message = club_zone_mismatch(club(reported), "America/Chicago", now=NOW)
    assert message is not None
    assert "not an IANA zone name" in message
    assert repr(reported) in message and "America/Chicago" in message


def test_no_time_zone_and_a_bad_configured_zone() -> None:
    assert "reports no timeZone" in (club_zone_mismatch(club(None), "America/Chicago") or "")
    assert "reports no timeZone" in (club_zone_mismatch(club(""), "America/Chicago") or "")
    assert "Mars/Olympus" in (club_zone_mismatch(club("America/Chicago"), "Mars/Olympus") or "")
