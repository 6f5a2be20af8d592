"""Moved to `providers/clubhub/memberships.py` (Club Hub's agreement rule lives with its
provider); kept so the names the tests and scenarios import still resolve."""

from clubsync.providers.clubhub.memberships import (
    DUPLICATE_ACCOUNTS_REASON,
    PENDING_REPLACEMENT_WINDOW,
    DuplicateAccountsFinding,
    MembershipChange,
    MembershipOutcome,
    apply_membership,
    is_pending,
)

__all__ = [
    "DUPLICATE_ACCOUNTS_REASON",
    "PENDING_REPLACEMENT_WINDOW",
    "DuplicateAccountsFinding",
    "MembershipChange",
    "MembershipOutcome",
    "apply_membership",
    "is_pending",
]
