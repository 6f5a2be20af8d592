"""What the follow-up push needs from a billing provider: a place to record a completed
follow-up contact (Mindbody's contact logs). Provider-neutral; a provider offers it through
the optional `contact_log_target()` of its connection (providers/registry.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class ContactLogEntry:
    """One completed follow-up contact, to be recorded in billing exactly once."""

    # Stable across runs: the same contact always gives the same key (features/follow_up_push).
    key: str
    billing_member_id: str
    on: date
    channel: str
    text: str
    billing_employee_id: str | None = None


class ContactLogTarget(Protocol):
    provider: str

    def add(self, entry: ContactLogEntry) -> str:
        """Records the entry; returns billing's id of it. Raises the push errors of
        providers/prospects.py (PushRejected, PushOutcomeUnknown, PushTransient)."""
        ...

    def find(self, entry: ContactLogEntry) -> str | None:
        """Billing's id of the entry when an earlier attempt recorded it (after an unknown
        outcome), else None."""
        ...
