"""The text rule (domain/text.py): which characters a typed value may not hold."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clubsync.domain.text import BIDI_CONTROLS, text_problem


@pytest.mark.parametrize(
    "value",
    [
        "Rosa",
        "José Ñúñez-O'Brien",
        "Zoë Smith Jr.",
        "محمد",  # Arabic
        "שרה",  # Hebrew
        "\u0645\u06cc\u200c\u0631\u0627",  # Persian with a zero-width non-joiner
        "\u05e9\u05e8\u05d4\u200f (Sarah)",  # a right-to-left mark in mixed text
        "👩\u200d👩\u200d👧",  # emoji joined with ZWJ
        "",
    ],
)
def test_what_people_type_is_accepted(value: str) -> None:
    assert text_problem(value) is None


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("Ro\x00sa", "U+0000"),
        ("Rosa\x1b[31m", "U+001B"),
        ("Rosa\x7f", "U+007F"),
        ("Rosa\x85", "U+0085"),  # C1: NEXT LINE
        ("Rosa\x9b", "U+009B"),
        ("Rosa\tMarsh", "U+0009"),
        ("Rosa\nMarsh", "U+000A"),
        ("evil\u202egnp.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("a\u202ab", "U+202A LEFT-TO-RIGHT EMBEDDING"),
        ("a\u2066b", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("a\u2069b", "U+2069 POP DIRECTIONAL ISOLATE"),
        ("a\u2028b", "U+2028 LINE SEPARATOR"),
        ("a\ud800b", "U+D800"),  # what a JSON "\\ud800" escape gives; not UTF-8
    ],
)
def test_controls_and_direction_overrides_are_refused_and_named(value: str, named: str) -> None:
    problem = text_problem(value)
    assert problem is not None and named in problem


def test_multiline_text_may_break_lines_but_not_hold_other_controls() -> None:
    assert text_problem("first visit\r\n\tasked about classes", multiline=True) is None
    assert text_problem("a\u2028b", multiline=True) is None
    assert text_problem("note\x00", multiline=True) is not None
    assert text_problem("note\u202e", multiline=True) is not None


def test_every_bidi_embedding_override_and_isolate_is_listed() -> None:
    assert sorted(f"{ord(c):04X}" for c in BIDI_CONTROLS) == [
        "202A", "202B", "202C", "202D", "202E", "2066", "2067", "2068", "2069",
    ]  # fmt: skip


@given(st.text(alphabet=st.characters(categories=["L", "M", "N", "P", "S", "Zs"])))
def test_letters_marks_numbers_punctuation_symbols_and_spaces_pass(value: str) -> None:
    assert text_problem(value) is None


@given(st.text(), st.characters(categories=["Cc"]), st.text())
def test_any_control_character_anywhere_is_refused(before: str, control: str, after: str) -> None:
    assert text_problem(before + control + after) is not None
