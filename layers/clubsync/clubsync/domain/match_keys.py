"""Normalised keys for matching a person (spec/duplicates-faq.txt: identical full name plus
email or phone). Keys serve matching only; stored values stay as entered. docs/matching.md."""

from __future__ import annotations

import re
import unicodedata

from clubsync.domain.people import ContactData


def name_key(first_name: str | None, last_name: str | None) -> str | None:
    """Full name, compared ignoring case, Unicode form and surrounding or doubled spaces."""
    if not first_name or not last_name:
        return None
    full = f"{first_name} {last_name}"
    return " ".join(unicodedata.normalize("NFKC", full).casefold().split()) or None


def email_key(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return unicodedata.normalize("NFKC", email).strip().casefold()


def phone_key(phone: str | None) -> str | None:
    """The last ten digits: '(555) 010-0100', '555.010.0100' and '+1 5550100100' agree."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-10:] if len(digits) >= 7 else None


def phone_keys(contact: ContactData) -> tuple[str, ...]:
    keys = {phone_key(p) for p in (contact.mobile_phone, contact.home_phone, contact.work_phone)}
    return tuple(sorted(key for key in keys if key))
