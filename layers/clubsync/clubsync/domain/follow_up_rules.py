"""Every follow-up status rule in one place: the membership statuses (spec: "The Follow-Up
Schedules") and the PT statuses (spec: "PT Follow-Up and Opportunity Data").

Membership schedule (prospects):
- How the lead was acquired sets the starting status: web lead -> "Web Lead", referral ->
  "Referral", guest waiver (DGW, the prospect is in the club) -> "Active Guest", entered by
  staff -> "Lead".
- A booked appointment (a calendar event of the prospect on or after today) moves the prospect
  to "Appt Booked"; the outcome of the visit then sets "Active Guest" (attended) or "Missed
  Guest" (the day passed unattended).
- A membership sale converts the prospect to a member: "New Member", on the PT schedule.

PT schedule (members):
- Booking an orientation (ORT/FA/FC) sets "FC Booked"; attending one makes the member a
  "PT Opportunity" (the orientation is what identifies PT opportunities).
- A PT purchase (POS item of a PT profit center, or a PT service agreement) sets "PT Active".
- A member with an active agreement whose session balance falls below the location's threshold
  (attended PT events use sessions) becomes "PT Opportunity".
- When the last active PT agreement ends with no session left and no session for the inactive
  threshold (days), "PT Active" lapses to "PT Inactive".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
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


# -- membership schedule ---------------------------------------------------------------------
STARTING_STATUS_BY_SOURCE: Mapping[str, FollowUpStatus] = {
    "web_lead": FollowUpStatus.WEB_LEAD,
    "referral": FollowUpStatus.REFERRAL,
    "dgw": FollowUpStatus.ACTIVE_GUEST,
    "staff": FollowUpStatus.LEAD,
}


def starting_status(source: str) -> FollowUpStatus:
    """The status a new prospect starts in, from how the lead was acquired."""
    try:
        return STARTING_STATUS_BY_SOURCE[source]
    except KeyError:
        known = ", ".join(STARTING_STATUS_BY_SOURCE)
        raise ValueError(f"unknown lead source {source!r}; known: {known}") from None


def status_after_visit(attended: bool) -> FollowUpStatus:
    """The outcome of a prospect's visit (appointment or guest pass)."""
    return FollowUpStatus.ACTIVE_GUEST if attended else FollowUpStatus.MISSED_GUEST


def status_after_membership_sale(current: FollowUpStatus | None) -> FollowUpStatus:
    """A sold membership makes the prospect a member, who starts the PT schedule. A member
    already on the PT schedule keeps their PT status."""
    if current is not None and current in _PT_STATUSES:
        return current
    return FollowUpStatus.NEW_MEMBER


_PT_STATUSES = frozenset(
    {
        FollowUpStatus.NEW_MEMBER,
        FollowUpStatus.PT_OPPORTUNITY,
        FollowUpStatus.PT_ACTIVE,
        FollowUpStatus.PT_INACTIVE,
        FollowUpStatus.FC_BOOKED,
    }
)


@dataclass(frozen=True, slots=True)
class Appointment:
    """A calendar event of a person, as the event and check-in syncs store it."""

    local_day: date
    attended: bool
    orientation: bool = False


@dataclass(frozen=True, slots=True)
class CurrentStatus:
    """A person's follow-up status derived from the synced data, with the local date it began
    when the data tells (None: unknown, taken as the day it is first seen) and why."""

    status: FollowUpStatus
    since: date | None
    reason: str
    appointment_on: date | None = None


def membership_status(
    stored: FollowUpStatus | None,
    stored_since: date | None,
    appointments: Iterable[Appointment],
    today: date,
) -> CurrentStatus | None:
    """A prospect's status: the stored one (intake's starting status), overridden by their
    latest appointment from the day the status began: booked and not yet past -> Appt Booked;
    attended -> Active Guest; past and not attended -> Missed Guest (from the next day)."""
    relevant = [a for a in appointments if stored_since is None or a.local_day >= stored_since]
    if relevant:
        latest = max(relevant, key=lambda a: (a.local_day, a.attended))
        if latest.attended:
            return CurrentStatus(
                status_after_visit(True), latest.local_day, "attended the appointment"
            )
        if latest.local_day >= today:
            return CurrentStatus(
                FollowUpStatus.APPT_BOOKED, None, "appointment booked", latest.local_day
            )
        return CurrentStatus(
            status_after_visit(False),
            latest.local_day + timedelta(days=1),
            "missed the appointment",
        )
    if stored is None or stored in _PT_STATUSES:
        # A prospect carries a membership status; anything else is not followed up here.
        return None
    return CurrentStatus(stored, stored_since, "lead source")


def pt_status(
    person_status: FollowUpStatus | None,
    member_since: date | None,
    pt_record_status: FollowUpStatus | None,
    pt_since: date | None,
    pt_reason: str | None,
    appointments: Iterable[Appointment] = (),
) -> CurrentStatus:
    """A member's PT status: the one the PT rules above set (events, sales, session balance),
    else "New Member" from the membership sale. FC Booked carries the date of the member's
    next unattended orientation from the day the status began (the last one when none is
    ahead)."""
    if pt_record_status is None:
        return CurrentStatus(
            status_after_membership_sale(person_status), member_since, "membership sold"
        )
    appointment_on = None
    if pt_record_status is FollowUpStatus.FC_BOOKED:
        booked = sorted(a.local_day for a in appointments if a.orientation and not a.attended)
        ahead = [day for day in booked if pt_since is None or day >= pt_since]
        appointment_on = ahead[0] if ahead else (booked[-1] if booked else None)
    return CurrentStatus(pt_record_status, pt_since, pt_reason or "PT rules", appointment_on)
