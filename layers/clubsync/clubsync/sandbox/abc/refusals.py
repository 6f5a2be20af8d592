"""What the fake ABC refuses in a pushed prospect's address: the sandbox's own copy of the
postal-code formats (libaddressinput "zip") and country spellings, so the sandbox never imports
the validation it fakes (clubsync.providers.abc.prospect_rules). A test checks the two agree
(tests/unit/test_sandbox_abc_refusals.py)."""

from __future__ import annotations

# ISO 3166 alpha-2 -> full-match pattern, case-insensitive.
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

# Spellings of a country ABC accepts for its ISO code; anything else of two letters is a code.
COUNTRY_ALIASES: dict[str, str] = {
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
    """The prospect's country as ISO alpha-2, or the club's country when none is given."""
    if not country or not country.strip():
        return default.upper()
    value = " ".join(country.strip().upper().split())
    return COUNTRY_ALIASES.get(value, value)
