"""The normalisation rules of docs/matching.md, one case per rule and per limit."""

from __future__ import annotations

import json

import pytest

from clubsync.domain.match_keys import email_key, name_key, phone_key, phone_keys
from clubsync.domain.people import ContactData, Person, PersonKind
from clubsync.resources.matching import MatchedBy, MatchIndex
from clubsync.store.entities import PersonIndexEntry, person_to_item


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (("Dana", "Reyes"), ("DANA", "reyes")),
        (("  Dana ", " Reyes  "), ("Dana", "Reyes")),
        (("Mary  Ann", "Reyes"), ("Mary Ann", "Reyes")),
        (("José", "Núñez"), ("Jose\u0301", "Nu\u0301n\u0303ez")),  # composed vs combining marks
        (("\uff24\uff41\uff4e\uff41", "Reyes"), ("Dana", "Reyes")),  # full-width letters (NFKC)
        (("Dana\u00a0Lee", "Reyes"), ("Dana Lee", "Reyes")),  # non-breaking space
        (("STRASSE", "Groß"), ("strasse", "GROSS")),  # casefold, not lower
    ],
)
def test_names_a_person_would_call_identical_match(
    left: tuple[str, str], right: tuple[str, str]
) -> None:
    assert name_key(*left) == name_key(*right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (("José", "Reyes"), ("Jose", "Reyes")),  # accents are not folded
        (("Bob", "Reyes"), ("Robert", "Reyes")),  # nicknames are not matched
        (("Dana", "Reyes"), ("Dana", "Reyes-Smith")),
        (("Dana", "Reyes"), ("Reyes", "Dana")),  # first and last name are not swapped
    ],
)
def test_different_names_do_not_match(left: tuple[str, str], right: tuple[str, str]) -> None:
    assert name_key(*left) != name_key(*right)


@pytest.mark.parametrize(("first", "last"), [(None, "Reyes"), ("Dana", None), ("  ", "Reyes")])
def test_a_name_without_both_parts_has_no_key(first: str | None, last: str | None) -> None:
    assert name_key(first, last) is None


def test_email_domain_case_is_ignored() -> None:
    assert email_key("dana@EXAMPLE.org") == email_key("dana@example.org") == "dana@example.org"
    assert email_key("  dana@Example.ORG ") == "dana@example.org"


def test_upper_case_emails_match() -> None:
    assert email_key("DANA@EXAMPLE.ORG") == email_key("dana@example.org") == "dana@example.org"
    assert email_key("Dana.Reyes@Example.org") == "dana.reyes@example.org"


def test_email_dots_and_plus_tags_are_not_folded() -> None:
    # Provider-specific rules (Gmail ignores dots) would merge people on other providers.
    assert email_key("dana.reyes@example.org") != email_key("danareyes@example.org")
    assert email_key("dana+gym@example.org") != email_key("dana@example.org")


def test_email_unicode_form_is_normalised() -> None:
    assert email_key("\uff44\uff41\uff4e\uff41@example.org") == "dana@example.org"


@pytest.mark.parametrize("value", [None, "", "dana", "@example.org", "dana@"])
def test_not_an_email_has_no_key(value: str | None) -> None:
    assert email_key(value) is None


@pytest.mark.parametrize(
    "typed",
    ["(555) 010-0100", "555.010.0100", "555 010 0100", "+1 555 010 0100", "1-555-010-0100"],
)
def test_us_phone_formats_agree_in_e164(typed: str) -> None:
    assert phone_key(typed, "US") == "+15550100100"


def test_phone_uses_the_location_country_as_default_region() -> None:
    assert phone_key("020 7946 0018", "GB") == "+442079460018"
    assert phone_key("+44 20 7946 0018", "US") == "+442079460018"
    # The same national digits are another number in another country.
    assert phone_key("0612345678", "FR") == "+33612345678"
    assert phone_key("0612345678", "FR") != phone_key("0612345678", "DE")


def test_unparsable_phone_falls_back_to_its_digits() -> None:
    assert phone_key("555-0100", "US") == "5550100"  # local only: no area code to invent
    assert phone_key("12345", "US") is None  # too short to be anyone's number
    assert phone_key("", "US") is None


def test_phone_keys_cover_every_phone_once() -> None:
    contact = ContactData(
        mobile_phone="(555) 010-0100", home_phone="555.010.0100", work_phone="555 010 0199"
    )
    assert phone_keys(contact, "US") == ("+15550100100", "+15550100199")


def test_stored_values_stay_as_entered() -> None:
    person = Person(
        person_id="p1",
        location_id="springfield",
        kind=PersonKind.PROSPECT,
        contact=ContactData(
            first_name="  DANA ",
            last_name="Reyes",
            email="Dana@Example.ORG",
            mobile_phone="(555) 010-0100",
        ),
    )
    item = person_to_item(person, "US")
    assert item["contact"]["first_name"] == "  DANA "
    assert item["contact"]["email"] == "Dana@Example.ORG"
    assert item["contact"]["mobile_phone"] == "(555) 010-0100"
    _kind, name, email, phones, version = json.loads(item["match"])
    assert (name, email, phones, version) == ("dana reyes", "dana@example.org", ["+15550100100"], 2)


def test_index_entries_written_before_e164_are_converted_when_read() -> None:
    old_item = {
        "sk": "PERSON#p1",
        "match": json.dumps(["member", "dana reyes", "dana@example.org", ["5550100100"]]),
    }
    entry = PersonIndexEntry.from_item(old_item, "US")
    assert entry.phone_keys == ("+15550100100",)
    index = MatchIndex([entry], "US")
    found = index.find(
        "other", ContactData(first_name="Dana", last_name="Reyes", mobile_phone="555 010 0100")
    )
    assert found is not None and found.matched_by is MatchedBy.NAME_AND_PHONE


def test_match_index_reads_incoming_phones_in_the_location_region() -> None:
    person = Person(
        person_id="p1",
        location_id="london",
        kind=PersonKind.PROSPECT,
        contact=ContactData(first_name="Ada", last_name="Byron", home_phone="020 7946 0018"),
    )
    index = MatchIndex([PersonIndexEntry.of(person, "GB")], "GB")
    incoming = ContactData(first_name="ADA", last_name="Byron", mobile_phone="+44 20 7946 0018")
    found = index.find("b1", incoming)
    assert found is not None and found.person_id == "p1"
    # Read as a US number, the same digits are someone else.
    assert (
        MatchIndex([PersonIndexEntry.of(person, "US")], "US").find(
            "b1", ContactData(first_name="Ada", last_name="Byron", mobile_phone="+44 20 7946 0018")
        )
        is None
    )
