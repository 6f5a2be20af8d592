"""The prospect translation table (spec: "Prospects" field mapping; "A. Translation to ABC
Prospect" for the older shape)."""

from __future__ import annotations

from clubsync.providers.abc.prospect_mapping import (
    LIVE_SHAPE,
    is_salesperson_rejection,
    prospect_request,
    split_notes,
    to_abc_prospect,
    to_legacy_prospect,
)
from tests.unit.prospect_helpers import make_prospect


def test_live_shape_is_the_nested_one() -> None:
    assert LIVE_SHAPE == "nested"


def test_create_translates_every_row_of_the_table() -> None:
    person = make_prospect(
        contact={"work_phone": "555-0103", "employer": "Acme", "barcode": "G0001"},
        marketing_source_id="c-1",
    )
    prospect = to_abc_prospect(person, "sp-1", create=True)
    assert prospect["personal"] == {
        "firstName": "Avery",
        "lastName": "Quinn",
        "gender": "Female",
        "birthDate": "1990-04-01",
        "mobilePhone": "555-0101",
        "primaryPhone": "555-0101",
        "workPhone": "555-0103",
        "email": "avery.quinn@example.org",
        "addressLine1": "12 Elm St",
        "city": "Springfield",
        "state": "IL",
        "postalCode": "62701",
        "country": "US",
        "employer": "Acme",
        "barcode": "G0001",
    }
    assert prospect["agreement"] == {
        "salesPersonId": "sp-1",
        "campaignId": "c-1",
        "issueDate": "2026-11-20",
        "beginDate": "2026-11-20",
        "expirationDate": "2026-11-27",
    }
    assert prospect["note"] == {"text": "Wants a morning class"}


def test_mobile_phone_is_both_cell_and_primary() -> None:
    personal = to_abc_prospect(make_prospect(), "", create=True)["personal"]
    assert personal["mobilePhone"] == personal["primaryPhone"] == "555-0101"


def test_home_phone_is_primary_only_without_mobile() -> None:
    person = make_prospect(contact={"mobile_phone": None})
    personal = to_abc_prospect(person, "", create=True)["personal"]
    assert personal["primaryPhone"] == "555-0102"
    assert "mobilePhone" not in personal


def test_only_notes_at_creation_are_sent_and_only_on_create() -> None:
    person = make_prospect(notes="Wants a morning class\nCalled back: not home")
    assert to_abc_prospect(person, "", create=True)["note"] == {"text": "Wants a morning class"}
    assert "note" not in to_abc_prospect(person, "", create=False)


def test_update_sends_the_full_personal_block_with_empty_fields() -> None:
    person = make_prospect(contact={"work_phone": None})
    personal = to_abc_prospect(person, "", create=False)["personal"]
    assert personal["workPhone"] == ""
    assert {"firstName", "lastName", "employer", "barcode"} <= personal.keys()


def test_empty_salesperson_is_sent_empty() -> None:
    agreement = to_abc_prospect(make_prospect(), "", create=True)["agreement"]
    assert agreement["salesPersonId"] == ""


def test_request_envelope() -> None:
    prospect = to_abc_prospect(make_prospect(), "", create=True)
    assert prospect_request(prospect) == {"prospects": [{"prospect": prospect}]}


def test_older_shape_splits_notes_longer_than_50_characters() -> None:
    notes = "x" * 50 + "the rest"
    assert split_notes(notes) == ("x" * 50, "the rest")
    record = to_legacy_prospect(make_prospect(notes_at_creation=notes), "sp-1")
    assert record["miscellaneous1"] == "x" * 50
    assert record["miscellaneous2"] == "the rest"


def test_older_shape_keeps_short_notes_in_one_field() -> None:
    record = to_legacy_prospect(make_prospect(notes_at_creation="short"), "sp-1")
    assert record["miscellaneous1"] == "short"
    assert "miscellaneous2" not in record


def test_older_shape_field_names() -> None:
    record = to_legacy_prospect(make_prospect(contact={"barcode": "G1"}), "sp-1")
    assert record["cellPhone"] == record["primaryPhone"] == "555-0101"
    assert record["street"] == "12 Elm St"
    assert record["zip"] == "62701"
    assert record["salesPerson"] == "sp-1"
    assert record["barCode"] == "G1"
    assert record["dateOfBirth"] == "1990-04-01"
    assert (record["issueDate"], record["beginDate"], record["expirationDate"]) == (
        "2026-11-20",
        "2026-11-20",
        "2026-11-27",
    )


def test_salesperson_rejections_are_recognised() -> None:
    assert is_salesperson_rejection("salesPersonId e-9 is not authorized for club 0451")
    assert is_salesperson_rejection("Invalid sales person")
    assert not is_salesperson_rejection("city contains a period")
