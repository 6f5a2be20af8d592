"""What ABC refuses in a prospect push, checked before we send it: ABC's `ProspectRules`.

Source: spec/abc-integration-overview.txt, "Prospects" -> "The following issues will prevent
prospects created in Club OS from being pushed to ABC" and "may result in incorrect data".
One function per rejection reason; each returns the reason a person can act on, or None.
Warnings (the prospect is still sent) are separate: `prospect_warnings`.

Postal codes: no well-kept, offline, dependency-free library validates postal code *formats*
for many countries (pgeocode downloads its data at run time, which Lambda and CI cannot do;
`zipcodes`/`uszipcode` are US-only databases; django-localflavor brings Django). So the
formats are a small table below, taken from Google's libaddressinput address metadata (the
"zip" patterns Chrome and Android use for address forms). A country missing from the table is
not checked (and says so in a warning) rather than rejected on a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from clubsync.domain.people import ContactData, Person
from clubsync.providers.prospects import ValidationContext

# Marketing sources are ABC "campaigns"; ABC accepts a prospect's campaign only with one of
# these types (spec: "Marketing Source has incorrect settings in ABC").
ACCEPTED_CAMPAIGN_TYPES = frozenset({"PON", "PFA"})

# ISO 3166 alpha-2 -> full-match pattern (libaddressinput "zip"), case-insensitive.
POSTAL_CODE_PATTERNS: dict[str, str] = {
    "US": r"\d{5}(?:[ -]\d{4})?",
    "PR": r"00[679]\d{2}(?:[ -]\d{4})?",
    "CA": r"[ABCEGHJKLMNPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d",
    "MX": r"\d{5}",
    "GB": r"GIR ?0AA|(?:(?:AB|AL|B|BA|BB|BD|BF|BH|BL|BN|BR|BS|BT|BX|CA|CB|CF|CH|CM|CO|CR|CT|CV|"
    r"CW|DA|DD|DE|DG|DH|DL|DN|DT|DY|E|EC|EH|EN|EX|FK|FY|G|GL|GY|GU|HA|HD|HG|HP|HS|HU|HX|IG|IM|"
    r"IP|IV|JE|KA|KT|KW|KY|L|LA|LD|LE|LL|LN|LS|LU|M|ME|MK|ML|N|NE|NG|NN|NP|NR|NW|OL|OX|PA|PE|"
    r"PH|PL|PO|PR|RG|RH|RM|S|SA|SE|SG|SK|SL|SM|SN|SO|SP|SR|SS|ST|SW|SY|TA|TD|TF|TN|TQ|TR|TS|TW|"
    r"UB|W|WA|WC|WD|WF|WN|WR|WS|WV|YO|ZE)(?:\d[\dA-Z]? ?\d[ABD-HJLN-UW-Z]{2}))|BFPO ?\d{1,4}",
    "IE": r"[\dA-Z]{3} ?[\dA-Z]{4}",
    "AU": r"\d{4}",
    "NZ": r"\d{4}",
    "DE": r"\d{5}",
    "FR": r"\d{2} ?\d{3}",
    "ES": r"\d{5}",
    "IT": r"\d{5}",
    "NL": r"\d{4} ?[A-Z]{2}",
    "BE": r"\d{4}",
    "CH": r"\d{4}",
    "AT": r"\d{4}",
    "SE": r"\d{3} ?\d{2}",
    "NO": r"\d{4}",
    "DK": r"\d{4}",
    "FI": r"\d{5}",
    "PT": r"\d{4}-\d{3}",
    "PL": r"\d{2}-\d{3}",
    "JP": r"\d{3}-?\d{4}",
    "BR": r"\d{5}-?\d{3}",
    "IN": r"\d{6}",
    "ZA": r"\d{4}",
    "SG": r"\d{6}",
}

# Spellings of a country seen in forms -> ISO alpha-2. Anything else of two letters is taken
# as a code already.
_COUNTRY_ALIASES: dict[str, str] = {
    "USA": "US",
    "UNITED STATES": "US",
    "UNITED STATES OF AMERICA": "US",
    "CANADA": "CA",
    "CAN": "CA",
    "MEXICO": "MX",
    "MEX": "MX",
    "PUERTO RICO": "PR",
    "UNITED KINGDOM": "GB",
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "AUSTRALIA": "AU",
    "AUS": "AU",
}


def country_code(country: str | None, default: str) -> str:
    """The contact's country as ISO alpha-2, or the location's country when none is given."""
    if not country or not country.strip():
        return default.upper()
    value = " ".join(country.strip().upper().split())
    return _COUNTRY_ALIASES.get(value, value)


def _has_address(contact: ContactData) -> bool:
    # ABC validates the address fields only when Address Line 1 is filled out (spec).
    return bool(contact.address_line1 and contact.address_line1.strip())


# -- rejections: one function per reason ---------------------------------------------------


def missing_first_name(person: Person, context: ValidationContext) -> str | None:
    if not (person.contact.first_name or "").strip():
        return "first name is missing (ABC requires a first and last name)"
    return None


def missing_last_name(person: Person, context: ValidationContext) -> str | None:
    if not (person.contact.last_name or "").strip():
        return "last name is missing (ABC requires a first and last name)"
    return None


def city_has_period(person: Person, context: ValidationContext) -> str | None:
    city = person.contact.city or ""
    if _has_address(person.contact) and "." in city:
        return f"city {city!r} contains a period (ABC does not accept periods in the city)"
    return None


def invalid_postal_code(person: Person, context: ValidationContext) -> str | None:
    contact = person.contact
    code = (contact.zip or "").strip()
    # An empty ZIP is not known to be rejected; only a given one is checked.
    if not _has_address(contact) or not code:
        return None
    country = country_code(contact.country, context.default_country)
    pattern = POSTAL_CODE_PATTERNS.get(country)
    if pattern is None or re.fullmatch(pattern, code, flags=re.IGNORECASE):
        return None
    return f"ZIP/postal code {code!r} is not valid for country {country}"


def campaign_not_pon_or_pfa(person: Person, context: ValidationContext) -> str | None:
    if not person.marketing_source_id:
        return None  # marketing sources are optional
    kind = (context.campaign_type or "").strip().upper()
    if kind in ACCEPTED_CAMPAIGN_TYPES:
        return None
    shown = kind or "unknown"
    return (
        f"marketing source {person.marketing_source_id!r} is an ABC campaign of type {shown}; "
        "ABC accepts only campaigns of type PON or PFA"
    )


Rule = Callable[[Person, ValidationContext], str | None]

REJECTION_RULES: tuple[Rule, ...] = (
    missing_first_name,
    missing_last_name,
    city_has_period,
    invalid_postal_code,
    campaign_not_pon_or_pfa,
)


def rejection_reasons(person: Person, context: ValidationContext) -> list[str]:
    """Every reason ABC would refuse this prospect, in the order of the spec's list."""
    return [reason for rule in REJECTION_RULES if (reason := rule(person, context)) is not None]


# -- warnings: sent anyway, recorded on the prospect ----------------------------------------


def state_missing(person: Person, context: ValidationContext) -> str | None:
    if not (person.contact.state or "").strip():
        return "no state given: ABC will fill one in that may not match the prospect's address"
    return None


def postal_code_unchecked(person: Person, context: ValidationContext) -> str | None:
    contact = person.contact
    if not _has_address(contact) or not (contact.zip or "").strip():
        return None
    country = country_code(contact.country, context.default_country)
    if country in POSTAL_CODE_PATTERNS:
        return None
    return f"ZIP/postal code not checked: no known format for country {country}"


WARNING_RULES: tuple[Rule, ...] = (state_missing, postal_code_unchecked)


def prospect_warnings(person: Person, context: ValidationContext) -> list[str]:
    return [warning for rule in WARNING_RULES if (warning := rule(person, context)) is not None]


# What intake can tell a form before the push: every refusal but the campaign's, whose type is
# read from billing at push time.
PREVIEW_RULES: tuple[Rule, ...] = (
    missing_first_name,
    missing_last_name,
    city_has_period,
    invalid_postal_code,
)


class AbcProspectRules:
    """ABC's refusals and warnings as the prospect push and intake ask for them."""

    reads_campaign_type = True

    def refusals(self, person: Person, context: ValidationContext) -> list[str]:
        return rejection_reasons(person, context)

    def warnings(self, person: Person, context: ValidationContext) -> list[str]:
        return prospect_warnings(person, context)

    def preview(self, person: Person, context: ValidationContext) -> list[str]:
        reasons = [r for rule in PREVIEW_RULES if (r := rule(person, context)) is not None]
        return reasons + prospect_warnings(person, context)


ABC_PROSPECT_RULES = AbcProspectRules()
