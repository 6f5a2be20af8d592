"""Normalised keys for matching a person (spec/duplicates-faq.txt: identical full name plus
email or phone). The one module that decides what "identical" means; docs/matching.md lists the
rules and their limits. Keys serve matching only; stored values stay as entered.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

# DEFAULT_REGION is re-exported: callers have always found it here.
from clubsync.domain.people import DEFAULT_REGION as DEFAULT_REGION
from clubsync.domain.people import ContactData

# Fewer digits than this is not a phone number anyone could be reached on (an extension, a
# typo): no key, so it can never make two people match.
_MIN_PHONE_DIGITS = 7


def _text(value: str) -> str:
    """NFKC folds compatibility forms (full-width letters, ligatures, non-breaking spaces) and
    composes accents, so 'e' + combining acute and the precomposed 'é' agree. Accents themselves
    are kept: 'José' and 'Jose' are different spellings a person chose."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def name_key(first_name: str | None, last_name: str | None) -> str | None:
    """Full name, compared ignoring case, Unicode form and surrounding or doubled spaces.
    Nicknames are not matched ('Bob' is not 'Robert'): a wrong merge is worse than a duplicate."""
    if not first_name or not last_name:
        return None
    first, last = _text(first_name), _text(last_name)
    if not first or not last:
        return None
    return f"{first} {last}".casefold()


def email_key(email: str | None) -> str | None:
    """The whole address case-folded, after Unicode normalisation and without spaces.

    The issue names "email domain case"; the local part is folded too. RFC 5321 lets a mail
    server treat 'Dana' and 'dana' as two mailboxes, but none that members use does, the case
    difference comes from how staff and members type, and a person calls them the same address
    (the member sync has always matched them: tests/unit/test_member_sync.py)."""
    if not email:
        return None
    text = _text(email).replace(" ", "")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        return None
    return text.casefold()


def phone_key(phone: str | None, default_region: str = DEFAULT_REGION) -> str | None:
    """E.164 ('+15550100100'), reading numbers without a country code in `default_region`
    (the location's country). A number phonenumbers cannot read as a possible number of some
    region falls back to its digits, so two people who typed the same odd number still agree;
    fewer than seven digits is no phone."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if len(digits) < _MIN_PHONE_DIGITS:
        return None
    try:
        number = phonenumbers.parse(phone, default_region)
    except phonenumbers.NumberParseException:
        return digits
    # IS_POSSIBLE only: a local-only number (7 digits in the US) has no area code, and
    # formatting it as E.164 would invent '+1' + seven digits that no full number equals.
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        return digits
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_keys(contact: ContactData, default_region: str = DEFAULT_REGION) -> tuple[str, ...]:
    """The keys of the mobile, home and work phones; any of them matches any other."""
    keys = {
        phone_key(phone, default_region)
        for phone in (contact.mobile_phone, contact.home_phone, contact.work_phone)
    }
    return tuple(sorted(key for key in keys if key))
