"""The site's zone (GET /site/sites `TimeZone`) against the location's configured zone.

Client and visit times carry their offset (UTC with Z), but appointment inputs and "today"
(contract start dates, pack expiry) are site-local, so a location configured in another zone
than its site is refused at onboarding. Mindbody's `TimeZone` may be an IANA name or a Windows
name ("Eastern Standard Time") [guess: the schema says only "string"]; both are read.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clubsync.providers.mindbody.wire import MbSite

# The Windows zone names of the countries Mindbody studios are in, as IANA zones.
WINDOWS_ZONES = {
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "US Mountain Standard Time": "America/Phoenix",
    "Pacific Standard Time": "America/Los_Angeles",
    "Alaskan Standard Time": "America/Anchorage",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Atlantic Standard Time": "America/Halifax",
    "Newfoundland Standard Time": "America/St_Johns",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "E. Australia Standard Time": "Australia/Brisbane",
    "W. Australia Standard Time": "Australia/Perth",
    "Cen. Australia Standard Time": "Australia/Adelaide",
    "New Zealand Standard Time": "Pacific/Auckland",
}


def site_zone(site: MbSite) -> ZoneInfo | None:
    name = (site.time_zone or "").strip()
    if not name:
        return None
    try:
        return ZoneInfo(WINDOWS_ZONES.get(name, name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def site_zone_mismatch(site: MbSite | None, configured: ZoneInfo, *, site_id: str) -> str | None:
    """Why the location's zone is not its site's, or None when they agree."""
    if site is None:
        return f"Mindbody site {site_id} is not among the sites its API key can read; activate it"
    zone = site_zone(site)
    if zone is None:
        return (
            f"Mindbody site {site_id} gives the time zone {site.time_zone!r}, which clubsync "
            f"cannot read; check that it is {configured.key} and add the name to WINDOWS_ZONES"
        )
    if zone.key != configured.key:
        return (
            f"Mindbody site {site_id} is in {zone.key} ({site.time_zone}), but the location is "
            f"configured in {configured.key}; correct the location's zone"
        )
    return None
