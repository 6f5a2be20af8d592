"""The ABC club record (GET /{club}/clubs) and the check of its time zone against the one a
location is configured with (reference/abc-api.md: use the club's `timeZone` rather than
assuming it).

ABC timestamps carry no zone: clubsync reads them in the location's configured zone. If that is
not the zone ABC writes them in, every window and every stored time is off by the difference,
silently. The check runs where a location is registered or onboarded.

What ABC puts in `timeZone` is known only from its name [seen]; the values are not documented.
IANA names ("America/Chicago", also legacy links such as "US/Central") are compared by their
rules. Anything else (Windows names such as "Central Standard Time", abbreviations such as
"CST", offsets such as "-06:00" or "GMT-6") is reported as unknown rather than guessed at: an
abbreviation or an offset does not say whether the club keeps daylight saving time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from clubsync.providers.abc.wire import Text, _Wire

CLUBS_PATH = "/clubs"
# How far either side of now two differently named zones must agree to count as one: long
# enough to cover both daylight-saving changes of every year a sync looks back or ahead.
_COMPARED_SPAN = timedelta(days=2 * 366)
_STEP = timedelta(hours=1)


class AbcClub(_Wire):
    """The fields of ABC's `club` object clubsync reads; the rest is ignored."""

    name: Text = None
    short_name: Text = Field(default=None, alias="shortName")
    time_zone: Text = Field(default=None, alias="timeZone")
    billing_country: Text = Field(default=None, alias="billingCountry")
    city: Text = None
    state: Text = None
    country: Text = None


def _iana(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _same_rules(first: ZoneInfo, second: ZoneInfo, around: datetime) -> bool:
    """Whether two zones give the same UTC offset at every hour of the compared span (how a
    link such as US/Central and its target America/Chicago are told apart from two zones)."""
    moment = around - _COMPARED_SPAN
    end = around + _COMPARED_SPAN
    while moment <= end:
        if moment.astimezone(first).utcoffset() != moment.astimezone(second).utcoffset():
            return False
        moment += _STEP
    return True


def club_zone_mismatch(
    club: AbcClub,
    configured_zone: str | ZoneInfo,
    *,
    club_number: str | None = None,
    now: datetime | None = None,
) -> str | None:
    """None when ABC's `timeZone` for the club is the location's configured zone (the same
    IANA name, or a name with the same rules, e.g. "US/Central" for "America/Chicago");
    otherwise a message for the person registering the location, saying what differs and
    what to do. `now` (aware) centres the comparison of two differently named zones."""
    configured = configured_zone.key if isinstance(configured_zone, ZoneInfo) else configured_zone
    which = f"ABC club {club_number}" if club_number else "the ABC club"
    reported = club.time_zone
    if reported is None:
        return (
            f"{which} reports no timeZone, so the configured zone {configured} cannot be "
            "checked; confirm the club's local time with the club"
        )
    reported_zone = _iana(reported)
    if reported_zone is None:
        return (
            f"{which} reports timeZone {reported!r}, which is not an IANA zone name "
            "(clubsync knows only those; Windows names, abbreviations and offsets are unknown "
            f"to it); check by hand that it means {configured}"
        )
    configured_info = _iana(configured)
    if configured_info is None:
        return f"the location's zone {configured!r} is not an IANA zone name"
    if reported_zone.key == configured_info.key:
        return None
    around = (now or datetime.now(UTC)).astimezone(UTC)
    if _same_rules(reported_zone, configured_info, around):
        return None
    return (
        f"{which} reports timeZone {reported}, but the location is configured with "
        f"{configured}: ABC writes the club's times in its own zone, so every time read would "
        f"be off. Set the location's zone to {reported}, or have the club's timeZone corrected "
        "in ABC if it is the club that is misconfigured"
    )
