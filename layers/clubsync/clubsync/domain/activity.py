"""Check-ins and calendar events synced from ABC (spec: "Check-ins", "Calendar Events"), and
the member's PT follow-up record they and the sales update."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.people import FollowUpStatus
from clubsync.domain.settings import EventKind


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkin_id: str
    location_id: str
    billing_member_id: str | None = None
    person_id: str | None = None
    system_club_id: str | None = Field(default=None, description="member|homeClub")
    checked_in_at: datetime = Field(description="checkInTimestamp, stored as UTC")
    local_day: date
    status: str | None = None
    station: str | None = None


class BillingCheckIn(BaseModel):
    """A check-in as billing describes it (the canonical record every provider translates
    into); the check-in job adds the location and the person it belongs to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checkin_id: str
    billing_member_id: str | None = None
    system_club_id: str | None = None
    checked_in_at: datetime = Field(description="UTC")
    local_day: date = Field(description="The club-local day of the check-in")
    status: str | None = None
    station: str | None = None


class BillingEventAttendee(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    billing_member_id: str
    attended: bool | None = None


class BillingEvent(BaseModel):
    """A calendar event as billing describes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    billing_event_id: str
    event_name: str | None = None
    starts_at: datetime
    local_day: date
    duration_minutes: int | None = None
    status: str | None = None
    billing_employee_id: str | None = None
    attendees: tuple[BillingEventAttendee, ...] = ()


class CalendarEvent(BaseModel):
    """A PT or orientation event in the CRM calendar."""

    model_config = ConfigDict(extra="forbid")

    event_id: str
    location_id: str
    billing_event_id: str
    event_type: str
    kind: EventKind
    starts_at: datetime
    local_day: date
    duration_minutes: int
    attendee_reminder_minutes: int | None = None
    missed_event_status: str | None = None
    status: str | None = None
    owner_employee_id: str
    creator_employee_id: str
    person_id: str
    billing_member_id: str
    attended: bool = False
    attendance_confirmed_by: str | None = Field(
        default=None, description="The check-in id that confirmed attendance."
    )


class PtFollowUp(BaseModel):
    """A member's PT follow-up record: status, PT follow-up person and the session ledger.

    Credits and debits are keyed by their source (POS item, agreement, event), so merging the
    same sale or event again changes nothing."""

    model_config = ConfigDict(extra="forbid")

    person_id: str
    location_id: str
    status: FollowUpStatus | None = None
    follow_up_person_id: str | None = Field(
        default=None, description="The PT follow-up person (an employee id)."
    )
    session_credits: dict[str, int] = Field(default_factory=dict)
    session_debits: dict[str, str] = Field(
        default_factory=dict, description="attended PT event id -> local day"
    )
    active_agreements: list[str] = Field(default_factory=list)
    status_reason: str | None = None
    updated_at: datetime | None = None

    @property
    def session_balance(self) -> int:
        return sum(self.session_credits.values()) - len(self.session_debits)

    @property
    def last_session_day(self) -> date | None:
        days = [date.fromisoformat(day) for day in self.session_debits.values()]
        return max(days) if days else None


def confirms_attendance(event: CalendarEvent, checkin_member_id: str | None, day: date) -> bool:
    """A check-in confirms attendance of an event of the same member on the same club-local
    day that is not marked attended yet (spec: "Check-ins can also validate calendar events")."""
    return (
        not event.attended
        and checkin_member_id is not None
        and event.billing_member_id == checkin_member_id
        and event.local_day == day
    )
