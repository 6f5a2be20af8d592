"""The one rule for text people type into clubsync (names, addresses, notes, ids): which
characters it may not hold.

Control characters and bidirectional-text overrides are invisible or do something other than
show a letter: a NUL truncates the value in some billing systems and CSV exports, a C0/C1
control breaks log lines and reports, and a RIGHT-TO-LEFT OVERRIDE (U+202E) shows staff a name
that reads differently from what is stored ("Trojan Source", CVE-2021-42574). Nobody types them
into a guest waiver, so a value holding one is refused with the field's name, never silently
cleaned: the sender fixes the form.

Kept on purpose: the zero-width joiner and non-joiner (U+200D, U+200C; Persian and Indic names
and emoji need them) and the implicit direction marks LRM/RLM/ALM (U+200E, U+200F, U+061C),
which mixed right-to-left and left-to-right text legitimately carries and which cannot reorder
the text after them. Tab and line breaks are allowed where a value may span lines (notes).
"""

from __future__ import annotations

import unicodedata

# Embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069): each changes how the
# text after it is shown until its terminator, so what staff read is not what was stored.
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# What a multi-line value (notes) may hold of the otherwise refused characters.
LINE_BREAKS = frozenset("\t\n\r")


def _describe(char: str) -> str:
    code = f"U+{ord(char):04X}"
    # C0/C1 controls have no Unicode name; say the code point only.
    name = unicodedata.name(char, "")
    return f"{code} {name}" if name else code


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` may not be stored (one sentence a person can act on), or None. Checks every
    character: Cc (C0 controls incl. NUL, DEL, C1 controls), unpaired surrogates (a JSON
    `\\ud800` escape; not encodable as UTF-8), the bidirectional controls above, and line or
    paragraph separators in a single-line value."""
    allowed = LINE_BREAKS if multiline else frozenset()
    for char in value:
        if char in allowed:
            continue
        category = unicodedata.category(char)
        if category == "Cc":
            return f"contains a control character ({_describe(char)}); remove it"
        if category == "Cs":
            return f"contains an unpaired surrogate ({_describe(char)}); send valid UTF-8 text"
        if char in BIDI_CONTROLS:
            return f"contains an invisible text-direction control ({_describe(char)}); remove it"
        if not multiline and category in ("Zl", "Zp"):
            return f"contains a line break ({_describe(char)}); use one line"
    return None
