"""The PT follow-up status rules in one place (spec: "PT Follow-Up and Opportunity Data").

- Booking an orientation (ORT/FA/FC) sets "FC Booked"; attending one makes the member a
  "PT Opportunity" (the orientation is what identifies PT opportunities).
- A PT purchase (POS item of a PT profit center, or a PT service agreement) sets "PT Active".
- A member with an active agreement whose session balance falls below the location's threshold
  (attended PT events use sessions) becomes "PT Opportunity".
- When the last active PT agreement ends with no session left and no session for the inactive
  threshold (days), "PT Active" lapses to "PT Inactive".
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from clubsync.domain.people import FollowUpStatus


class PtSignal(StrEnum):
    ORIENTATION_BOOKED = "orientation booked"
    ORIENTATION_ATTENDED = "orientation attended"
    PT_PURCHASED = "PT purchased"


def status_after_signal(current: FollowUpStatus | None, signal: PtSignal) -> FollowUpStatus | None:
    """The status after one event or sale. A PT purchase always wins; orientations do not undo
    a member already PT Active."""
    if signal is PtSignal.PT_PURCHASED:
        return FollowUpStatus.PT_ACTIVE
    if current is FollowUpStatus.PT_ACTIVE:
        return current
    if signal is PtSignal.ORIENTATION_BOOKED:
        # Booking again after attending does not move the member back.
        if current is FollowUpStatus.PT_OPPORTUNITY:
            return current
        return FollowUpStatus.FC_BOOKED
    return FollowUpStatus.PT_OPPORTUNITY


def status_after_session_used(
    current: FollowUpStatus | None,
    *,
    has_active_agreement: bool,
    balance_before: int,
    balance_after: int,
    opportunity_threshold: int,
) -> FollowUpStatus | None:
    """A member with an active agreement whose session balance falls below the threshold (was
    at or above it, is now below) becomes a PT Opportunity."""
    if has_active_agreement and balance_before >= opportunity_threshold > balance_after:
        return FollowUpStatus.PT_OPPORTUNITY
    return current


def status_after_agreement_ended(
    current: FollowUpStatus | None,
    *,
    has_active_agreement: bool,
    balance: int,
    last_session_day: date | None,
    today: date,
    inactive_after_days: int,
) -> FollowUpStatus | None:
    """PT Active lapses to PT Inactive when no agreement is active any more, no session is left
    and the last session is at least `inactive_after_days` old."""
    if (
        current is FollowUpStatus.PT_ACTIVE
        and not has_active_agreement
        and balance <= 0
        and (last_session_day is None or (today - last_session_day).days >= inactive_after_days)
    ):
        return FollowUpStatus.PT_INACTIVE
    return current
