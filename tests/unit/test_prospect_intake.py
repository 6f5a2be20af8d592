"""Intake: one validation for the HTTP endpoint and the CLI; duplicates; location change."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clubsync.domain.people import Person, PersonKind, ProspectPushState
from clubsync.domain.settings import DuplicateProspectPermissions, LocationSettings
from clubsync.features.prospect_intake import (
    SECRET_HEADER,
    IntakeInvalid,
    IntakeOutcome,
    ProspectIntake,
    handle_intake_event,
    is_authorized,
    parse_form,
)
from clubsync.store.entities import EntityRepository
from clubsync.store.state import StateRepository
from tests.unit.prospect_helpers import make_prospect

FORM: dict[str, Any] = {
    "location_id": "springfield",
    "source": "web_lead",
    "first_name": "Avery",
    "last_name": "Quinn",
    "email": "avery.quinn@example.org",
    "mobile_phone": "555-0101",
    "notes": "Saw the ad",
}
SHELBYVILLE = LocationSettings(
    location_id="shelbyville", club_number="0452", time_zone="America/Chicago"
)


@pytest.fixture
def intake(entities: EntityRepository, state: StateRepository) -> ProspectIntake:
    state.put_location(SHELBYVILLE)
    ids = iter(f"n-{i}" for i in range(1, 100))
    return ProspectIntake(entities, state, new_id=lambda: next(ids))


def errors_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(IntakeInvalid) as caught:
        parse_form(data)
    return {error.field: error.message for error in caught.value.errors}


# -- validation ------------------------------------------------------------------------------


def test_a_valid_form_parses() -> None:
    form = parse_form(FORM)
    assert form.contact().first_name == "Avery"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"mobile_phone": "call me"}, "mobile_phone"),
        ({"date_of_birth": "2990-01-01"}, "date_of_birth"),
        ({"guest_pass_start": "2026-11-20", "guest_pass_end": "2026-11-01"}, "guest_pass_end"),
        ({"guest_pass_end": "2026-11-01"}, "guest_pass_start"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"location_id": ""}, "location_id"),
        ({"source": "billboard"}, "source"),
    ],
)
def test_invalid_fields_are_named(change: dict[str, Any], field: str) -> None:
    assert field in errors_of({**FORM, **change})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "Av\x00ery"),
        ("last_name", "\u202eyrev A"),  # RIGHT-TO-LEFT OVERRIDE: shown reversed
        ("city", "Spring\u2066field"),
        ("email", "avery\x07@example.org"),
        ("notes", "Saw\x1b[2J the ad"),
        ("first_name", "\x1f"),  # str.strip() alone would have made this "no name"
    ],
)
def test_control_and_direction_characters_are_a_400_naming_the_field(
    field: str, value: str
) -> None:
    with pytest.raises(IntakeInvalid) as caught:
        parse_form({**FORM, field: value})
    assert caught.value.status == 400
    assert field in {error.field for error in caught.value.errors}


def test_notes_may_span_lines() -> None:
    assert parse_form({**FORM, "notes": "Saw the ad.\r\n\tAsked about classes."}).notes


def test_a_form_without_name_email_or_phone_is_refused() -> None:
    assert "first_name" in errors_of({"location_id": "springfield"})


def test_unknown_location_is_refused(intake: ProspectIntake) -> None:
    with pytest.raises(IntakeInvalid) as caught:
        intake.add(parse_form({**FORM, "location_id": "nowhere"}))
    assert caught.value.errors[0].field == "location_id"


# -- creating ------------------------------------------------------------------------------


def test_new_prospect_is_created_pending_with_notes_at_creation(
    intake: ProspectIntake, entities: EntityRepository
) -> None:
    result = intake.add(parse_form(FORM))
    assert result.outcome is IntakeOutcome.CREATED
    (person,) = entities.people("springfield")
    assert person.kind is PersonKind.PROSPECT
    assert person.notes_at_creation == person.notes == "Saw the ad"
    assert person.push is not None and person.push.state is ProspectPushState.PENDING


def test_billing_problems_are_reported_but_the_prospect_is_kept(
    intake: ProspectIntake, entities: EntityRepository
) -> None:
    result = intake.add(
        parse_form({**FORM, "address_line1": "1 Main St", "city": "St. Louis", "zip": "63101"})
    )
    assert result.outcome is IntakeOutcome.CREATED
    assert any("period" in p for p in result.billing_problems)
    assert any("no state" in p for p in result.billing_problems)
    assert len(entities.people("springfield")) == 1


def test_same_location_prospect_is_updated_and_later_notes_are_not_notes_at_creation(
    intake: ProspectIntake, entities: EntityRepository
) -> None:
    first = intake.add(parse_form(FORM))
    second = intake.add(parse_form({**FORM, "city": "Springfield", "notes": "Came back"}))
    assert second.outcome is IntakeOutcome.UPDATED and second.person_id == first.person_id
    (person,) = entities.people("springfield")
    assert person.contact.city == "Springfield"
    assert person.notes == "Saw the ad\nCame back"
    assert person.notes_at_creation == "Saw the ad"


# -- duplicates at other locations -----------------------------------------------------------


def elsewhere(entities: EntityRepository, **fields: Any) -> Person:
    person = make_prospect(
        "old-1",
        location_id="shelbyville",
        contact={"mobile_phone": "555-0101", "email": "avery.quinn@example.org"},
        **fields,
    )
    entities.save([person])
    return person


def with_permissions(state: StateRepository, settings: LocationSettings, **allowed: bool) -> None:
    state.put_location(
        settings.model_copy(update={"duplicate_prospects": DuplicateProspectPermissions(**allowed)})
    )


@pytest.mark.parametrize(
    ("fields", "permission"),
    [
        ({}, "if_matching_prospect_at_other_location"),
        ({"kind": PersonKind.MEMBER}, "if_matching_inactive_member_at_other_location"),
        (
            {"kind": PersonKind.MEMBER, "is_active": True},
            "if_matching_active_member_at_other_location",
        ),
    ],
)
def test_permission_allows_a_duplicate_prospect_here(
    intake: ProspectIntake,
    entities: EntityRepository,
    state: StateRepository,
    settings: LocationSettings,
    fields: dict[str, Any],
    permission: str,
) -> None:
    elsewhere(entities, **fields)
    with_permissions(state, settings, **{permission: True})
    result = intake.add(parse_form(FORM))
    assert result.outcome is IntakeOutcome.CREATED and result.duplicate_of == "old-1"
    assert len(entities.people("springfield")) == 1
    assert len(entities.people("shelbyville")) == 1


def test_without_permission_a_prospect_elsewhere_moves_here(
    intake: ProspectIntake, entities: EntityRepository
) -> None:
    elsewhere(entities, billing_member_id="b-old")
    result = intake.add(parse_form(FORM))
    assert result.outcome is IntakeOutcome.MOVED and result.person_id == "old-1"
    assert entities.people("shelbyville") == []
    (moved,) = entities.people("springfield")
    # another billing club: a new billing prospect there
    assert moved.billing_member_id is None
    assert moved.push is not None and moved.push.pushed_hash is None


@pytest.mark.parametrize("active", [True, False])
def test_without_permission_a_member_elsewhere_gets_no_prospect(
    intake: ProspectIntake, entities: EntityRepository, active: bool
) -> None:
    elsewhere(entities, kind=PersonKind.MEMBER, is_active=active)
    result = intake.add(parse_form(FORM))
    assert result.outcome is IntakeOutcome.MATCHED_MEMBER
    assert entities.people("springfield") == []


def test_the_strongest_match_decides(
    intake: ProspectIntake,
    entities: EntityRepository,
    state: StateRepository,
    settings: LocationSettings,
) -> None:
    elsewhere(entities, kind=PersonKind.MEMBER, is_active=True)
    entities.save(
        [
            make_prospect(
                "old-2", location_id="shelbyville", contact={"email": "avery.quinn@example.org"}
            )
        ]
    )
    with_permissions(state, settings, if_matching_prospect_at_other_location=True)
    assert intake.add(parse_form(FORM)).outcome is IntakeOutcome.MATCHED_MEMBER


# -- the HTTP endpoint -------------------------------------------------------------------------


def test_auth_needs_the_configured_secret() -> None:
    assert is_authorized({SECRET_HEADER: "s3cret"}, "s3cret")
    assert is_authorized({"X-Clubsync-Intake-Secret": "s3cret"}, "s3cret")
    assert not is_authorized({SECRET_HEADER: "wrong"}, "s3cret")
    assert not is_authorized({}, "s3cret")
    assert not is_authorized({SECRET_HEADER: ""}, "")  # not configured: nobody


def event(body: Any, secret: str = "s3cret") -> dict[str, Any]:
    return {
        "headers": {SECRET_HEADER: secret, "content-type": "application/json"},
        "requestContext": {"http": {"method": "POST"}},
        "body": body if isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def test_http_created_is_201_with_the_person_id(intake: ProspectIntake) -> None:
    response = handle_intake_event(event(FORM), intake, "s3cret")
    assert response["statusCode"] == 201
    assert json.loads(response["body"])["person_id"] == "n-1"


def test_http_errors_name_the_field(intake: ProspectIntake) -> None:
    response = handle_intake_event(event({**FORM, "email": "nope"}), intake, "s3cret")
    assert response["statusCode"] == 422
    assert json.loads(response["body"]) == {
        "errors": [{"field": "email", "message": "not an email address"}]
    }


@pytest.mark.parametrize(
    ("the_event", "status"),
    [
        (event(FORM, secret="wrong"), 401),
        (event("{not json"), 400),
        (event([1, 2]), 400),
        # Deeply nested JSON: json raises RecursionError past ~1000 levels (was a bare 502).
        (event('{"notes": ' + "[" * 30_000 + "]" * 30_000 + "}"), 400),
        (event({**FORM, "notes": [[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]}), 400),
        (event({**FORM, "notes": "x" * 70_000}), 413),
        (event({**FORM, "first_name": "\u202eAvery"}), 400),
        ({**event(FORM), "requestContext": {"http": {"method": "GET"}}}, 405),
    ],
)
def test_http_refusals(intake: ProspectIntake, the_event: dict[str, Any], status: int) -> None:
    response = handle_intake_event(the_event, intake, "s3cret")
    assert response["statusCode"] == status
    assert json.loads(response["body"])["errors"][0]["field"]
    assert intake.entities.people("springfield") == []


def test_http_a_control_character_answer_names_field_and_character(
    intake: ProspectIntake,
) -> None:
    response = handle_intake_event(event({**FORM, "last_name": "Qu\x00inn"}), intake, "s3cret")
    assert response["statusCode"] == 400
    (error,) = json.loads(response["body"])["errors"]
    assert error["field"] == "last_name" and "U+0000" in error["message"]
    nested = handle_intake_event(event("[" * 5000 + "]" * 5000), intake, "s3cret")
    assert json.loads(nested["body"])["errors"] == [
        {"field": "body", "message": "body nests objects or arrays deeper than 16 levels"}
    ]
