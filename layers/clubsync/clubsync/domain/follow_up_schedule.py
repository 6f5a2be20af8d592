"""The membership and PT follow-up schedules and their stage arithmetic (spec: "The Follow-Up
Schedules"; docs/followups.md).

A schedule row is the list of stages of one status, stage one first, at most ten:

- stage one is the wait in days after entering the status (0: the same day);
- every later stage is the wait in days after the previous contact;
- a number in the tenth stage repeats indefinitely (every that many days after the last contact);
- "Appt Booked" and "FC Booked" have one point: days before the appointment (0: the day of it,
  1: the day before).

Everything here works on club-local DATES, never on instants: "3 days later" is three calendar
days in the club whatever the clock does, so a DST change can never move a follow-up by a day.
Pure: no I/O, imports nothing of ours outside `domain`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from clubsync.domain.follow_up_rules import CurrentStatus
from clubsync.domain.people import ContactData, FollowUpStatus, OptIns

MAX_STAGES = 10
# A status whose row ended this long before clubsync first tracked it is history, not a
# follow-up (`FollowUpTrack.ended_before_tracking`); within it, it is listed as overdue: a month
# of missed follow-ups is still worth a call when a club goes live.
HISTORY_GRACE = timedelta(days=30)


class ScheduleKind(StrEnum):
    MEMBERSHIP = "membership"
    PT = "pt"


MEMBERSHIP_STATUSES: tuple[FollowUpStatus, ...] = (
    FollowUpStatus.LEAD,
    FollowUpStatus.WEB_LEAD,
    FollowUpStatus.REFERRAL,
    FollowUpStatus.ACTIVE_GUEST,
    FollowUpStatus.MISSED_GUEST,
    FollowUpStatus.APPT_BOOKED,
)
PT_STATUSES: tuple[FollowUpStatus, ...] = (
    FollowUpStatus.NEW_MEMBER,
    FollowUpStatus.PT_OPPORTUNITY,
    FollowUpStatus.PT_ACTIVE,
    FollowUpStatus.PT_INACTIVE,
    FollowUpStatus.FC_BOOKED,
)
# The statuses with one point counted back from an appointment ("alternate logic").
APPOINTMENT_STATUSES = frozenset({FollowUpStatus.APPT_BOOKED, FollowUpStatus.FC_BOOKED})
_STATUSES_OF = {ScheduleKind.MEMBERSHIP: MEMBERSHIP_STATUSES, ScheduleKind.PT: PT_STATUSES}

_TITLE = {ScheduleKind.MEMBERSHIP: "membership", ScheduleKind.PT: "PT"}

Row = tuple[int, ...]

# The shipped defaults: the one source of truth (LocationSettings defaults to the schedule built
# from them). Guests are called the day after their visit; web leads the same day; members in
# PT Active are checked on every 30 days for as long as they stay PT Active (tenth stage).
DEFAULT_ROWS: Mapping[FollowUpStatus, Row] = {
    FollowUpStatus.LEAD: (0, 1, 2, 4, 7, 14, 30),
    FollowUpStatus.WEB_LEAD: (0, 1, 2, 4, 7, 14, 30),
    FollowUpStatus.REFERRAL: (0, 2, 5, 7, 14, 30),
    FollowUpStatus.ACTIVE_GUEST: (1, 2, 4, 7, 14, 30),
    FollowUpStatus.MISSED_GUEST: (0, 1, 3, 7, 14, 30),
    FollowUpStatus.APPT_BOOKED: (1,),
    FollowUpStatus.NEW_MEMBER: (1, 7, 14, 30),
    FollowUpStatus.PT_OPPORTUNITY: (0, 3, 7, 14, 30),
    FollowUpStatus.PT_ACTIVE: (7, 21, 30, 30, 30, 30, 30, 30, 30, 30),
    FollowUpStatus.PT_INACTIVE: (1, 7, 14, 30, 60, 90),
    FollowUpStatus.FC_BOOKED: (1,),
}


def schedule_of(status: FollowUpStatus) -> ScheduleKind:
    return ScheduleKind.MEMBERSHIP if status in MEMBERSHIP_STATUSES else ScheduleKind.PT


def parse_status(name: str) -> FollowUpStatus:
    """A status by its exact name ("Web Lead"); refused with the known names."""
    try:
        return FollowUpStatus(name)
    except ValueError:
        known = ", ".join(status.value for status in FollowUpStatus)
        raise ValueError(f"unknown status {name!r}; known: {known}") from None


def _row_problems(status: FollowUpStatus, stages: Any) -> list[str]:
    """Why a row is refused, each reason naming the status and the stage."""
    if isinstance(stages, str | bytes) or not isinstance(stages, Sequence):
        return [f"{status.value}: stages must be a list of days, got {stages!r}"]
    problems: list[str] = []
    if status in APPOINTMENT_STATUSES and len(stages) > 1:
        problems.append(
            f"{status.value}: has one point (days before the appointment), got {len(stages)} stages"
        )
    elif len(stages) > MAX_STAGES:
        problems.append(f"{status.value}: stage {MAX_STAGES + 1}: at most ten stages")
    for number, days in enumerate(stages, start=1):
        whole = _whole_number(days)
        if whole is None:
            problems.append(
                f"{status.value}: stage {number}: days must be a whole number, got {days!r}"
            )
        elif whole < 0:
            problems.append(f"{status.value}: stage {number}: days must be 0 or more, got {whole}")
    return problems


def _whole_number(value: Any) -> int | None:
    """Days as an int. DynamoDB stream images (the registry function) carry numbers as
    Decimal, so integral Decimals and floats count; bool is an int to Python, but `true` in a
    schedule file is a mistake, not one day; strings are refused too."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float) and value == int(value):
        return int(value)
    return None


def _checked_rows(kind: ScheduleKind, raw: Any, problems: list[str]) -> dict[FollowUpStatus, Row]:
    """The rows of one schedule; statuses left out get their default row."""
    rows: dict[FollowUpStatus, Row] = {s: DEFAULT_ROWS[s] for s in _STATUSES_OF[kind]}
    if raw is None:
        return rows
    if not isinstance(raw, Mapping):
        problems.append(f"the {kind.value} schedule must map status names to stages")
        return rows
    for name, stages in raw.items():
        try:
            status = parse_status(str(name))
        except ValueError as error:
            problems.append(str(error))
            continue
        if schedule_of(status) is not kind:
            problems.append(
                f"{status.value}: belongs to the {_TITLE[schedule_of(status)]} schedule, not "
                f"the {_TITLE[kind]} schedule"
            )
            continue
        row_problems = _row_problems(status, stages)
        problems.extend(row_problems)
        if not row_problems:
            rows[status] = tuple(int(days) for days in stages)
    return rows


@dataclass(frozen=True, slots=True)
class Due:
    """The next follow-up of a status: on which local date, which stage, and why."""

    status: FollowUpStatus
    on: date
    stage: int
    days: int
    anchor: str  # "entered", "contact" or "appointment"
    anchor_on: date
    repeating: bool = False

    def reason(self) -> str:
        """Why it is due, for staff: 'Web Lead stage 2: 3 days after the contact on ...'."""
        if self.anchor == "appointment":
            when = (
                "on the day of the appointment"
                if self.days == 0
                else f"{_days(self.days)} before the appointment"
            )
            return f"{self.status.value}: {when} on {self.anchor_on.isoformat()}"
        after = "entering the status" if self.anchor == "entered" else "the contact"
        text = (
            f"{self.status.value} stage {self.stage}: {_days(self.days)} after {after} on "
            f"{self.anchor_on.isoformat()}"
        )
        return f"{text} (tenth stage, repeats)" if self.repeating else text


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


class FollowUpSchedule(BaseModel):
    """A location's two follow-up schedules. Every status has a row (left out: the default);
    an empty row means no follow-ups in that status. Refused with reasons naming the status
    and the stage (more than ten stages, negative days, an unknown status, ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    membership: dict[FollowUpStatus, Row] = Field(
        default_factory=lambda: {s: DEFAULT_ROWS[s] for s in MEMBERSHIP_STATUSES}
    )
    pt: dict[FollowUpStatus, Row] = Field(
        default_factory=lambda: {s: DEFAULT_ROWS[s] for s in PT_STATUSES}
    )

    @model_validator(mode="before")
    @classmethod
    def _rows_are_valid(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        unknown = sorted(str(key) for key in data if key not in ("membership", "pt"))
        problems = [f"unknown schedule {name!r}; use 'membership' or 'pt'" for name in unknown]
        membership = _checked_rows(ScheduleKind.MEMBERSHIP, data.get("membership"), problems)
        pt = _checked_rows(ScheduleKind.PT, data.get("pt"), problems)
        if problems:
            raise ValueError("; ".join(problems))
        return {"membership": membership, "pt": pt}

    def __hash__(self) -> int:
        # LocationSettings is frozen and hashable; dict fields are not, their dump is.
        return hash(self.model_dump_json())

    # -- reading ----------------------------------------------------------------------------
    def row(self, status: FollowUpStatus) -> Row:
        rows = self.membership if schedule_of(status) is ScheduleKind.MEMBERSHIP else self.pt
        return rows[status]

    def repeats(self, status: FollowUpStatus) -> bool:
        """A number in the tenth stage repeats indefinitely (never for Appt/FC Booked)."""
        return status not in APPOINTMENT_STATUSES and len(self.row(status)) == MAX_STAGES

    def total_days(self, status: FollowUpStatus) -> int:
        """The row's sum: how many days a person is followed up with in this status (spec:
        "simply add together each number in the row").

        With a tenth stage the sum counts it once: it is the days until the first repetition,
        after which contacts go on every tenth-stage days for as long as the status lasts
        (`repeats`). For Appt Booked and FC Booked the one number is days BEFORE the
        appointment, so the total is how many days ahead of it the follow-up comes."""
        return sum(self.row(status))

    # -- changing ---------------------------------------------------------------------------
    def with_rows(self, rows: Mapping[str, Sequence[int]]) -> FollowUpSchedule:
        """A copy with these rows (status name -> stages) replaced; each status goes to its own
        schedule. Refused like any schedule (ValueError naming status and stage)."""
        data: dict[str, dict[str, Any]] = {
            "membership": {s.value: list(r) for s, r in self.membership.items()},
            "pt": {s.value: list(r) for s, r in self.pt.items()},
        }
        for name, stages in rows.items():
            try:
                kind = schedule_of(FollowUpStatus(name))
            except ValueError:
                kind = ScheduleKind.MEMBERSHIP  # refused there, with the known names
            data[kind.value][name] = stages
        return FollowUpSchedule.parse(data)

    @classmethod
    def parse(cls, data: Any) -> FollowUpSchedule:
        """A schedule from JSON-shaped data; a plain ValueError carrying every reason."""
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            reasons = [str(e["msg"]).removeprefix("Value error, ") for e in error.errors()]
            raise ValueError("; ".join(reasons)) from None

    # -- stage arithmetic -------------------------------------------------------------------
    def next_due(
        self,
        status: FollowUpStatus,
        entered_on: date,
        contacts: Sequence[date] = (),
        appointment_on: date | None = None,
    ) -> Due | None:
        """The next follow-up after `contacts` (the dates of contacts made in this status, in
        order), or None when the row has no stage left (or is empty, or an appointment status
        has no appointment date).

        Stage n is due `row[n-1]` days after the anchor: entering the status for stage one,
        the previous contact for the others. With ten stages, stages past ten reuse the tenth
        number. Appt/FC Booked: `row[0]` days before the appointment, but never before the
        status was entered (booked today for tomorrow with "2 days before": due today)."""
        row = self.row(status)
        if not row:
            return None
        if status in APPOINTMENT_STATUSES:
            if appointment_on is None or contacts:
                return None
            on = max(appointment_on - timedelta(days=row[0]), entered_on)
            return Due(status, on, 1, row[0], "appointment", appointment_on)
        stage = len(contacts) + 1
        if stage > len(row) and not self.repeats(status):
            return None
        days = row[min(stage, MAX_STAGES) - 1]
        if stage == 1:
            return Due(status, entered_on + timedelta(days=days), 1, days, "entered", entered_on)
        last = contacts[-1]
        repeating = stage >= MAX_STAGES
        return Due(status, last + timedelta(days=days), stage, days, "contact", last, repeating)


DEFAULT_SCHEDULE = FollowUpSchedule()


# -- who gets the follow-up, and how ----------------------------------------------------------
class Channel(StrEnum):
    CALL = "call"
    EMAIL = "email"
    TEXT = "text"


def preferred_channel(contact: ContactData, opt_ins: OptIns) -> Channel:
    """How to follow up: a text when the person has a mobile number and opted in to SMS, else
    an email when they have an address and opted in to email, else a call (staff may always
    call a person who gave a number; with no number either, the call entry tells staff to get
    one)."""
    if contact.mobile_phone and opt_ins.sms:
        return Channel.TEXT
    if contact.email and opt_ins.email:
        return Channel.EMAIL
    return Channel.CALL


def has_phone(contact: ContactData) -> bool:
    return bool(contact.mobile_phone or contact.home_phone or contact.work_phone)


class Contact(BaseModel):
    """One completed follow-up contact."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    on: date = Field(description="Club-local date of the contact.")
    channel: Channel
    stage: int = Field(ge=1)
    by: str | None = Field(default=None, description="Employee id who made it, when known.")


class FollowUpTrack(BaseModel):
    """Where a person stands on their follow-up schedule: the status, the local date it was
    entered, the contacts made since, and the appointment date of Appt/FC Booked. A status
    change (or a new appointment date) starts a new track: the stage count restarts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: str
    location_id: str
    schedule: ScheduleKind
    status: FollowUpStatus
    entered_on: date
    appointment_on: date | None = None
    contacts: tuple[Contact, ...] = ()
    follow_up_person_id: str | None = None
    status_reason: str | None = None
    tracked_from: date | None = Field(
        default=None, description="The club-local day clubsync started this track."
    )

    def ended_before_tracking(self, schedule: FollowUpSchedule) -> bool:
        """A status entered so long before clubsync started tracking it that its whole row
        (the total days) had passed more than `HISTORY_GRACE` earlier: e.g. a member who
        joined years before the club went live is not a "New Member" to call today. Contacts
        made back then are unknown, so listing it as overdue would flood the first day's list
        with every existing member. A repeating row never ends."""
        if self.tracked_from is None or schedule.repeats(self.status):
            return False
        ends = self.entered_on + timedelta(days=schedule.total_days(self.status))
        return ends + HISTORY_GRACE < self.tracked_from

    def next_due(self, schedule: FollowUpSchedule, before: date | None = None) -> Due | None:
        """The next follow-up counting only contacts made before `before` (all when None)."""
        dates = [c.on for c in self.contacts if before is None or c.on < before]
        return schedule.next_due(self.status, self.entered_on, dates, self.appointment_on)

    def contact_on(self, day: date) -> Contact | None:
        return next((c for c in self.contacts if c.on == day), None)

    def same_status(self, status: FollowUpStatus, appointment_on: date | None) -> bool:
        return self.status is status and self.appointment_on == appointment_on

    def with_contact(self, on: date, channel: Channel, by: str | None = None) -> FollowUpTrack:
        """The track after a completed contact on local date `on`: the next stage counts from
        it. One contact a day counts: recording the same day again returns the track as it is
        (so a retried command writes nothing). Refused before the status was entered or before
        the last contact (stages are counted in order)."""
        if self.contact_on(on) is not None:
            return self
        if on < self.entered_on:
            raise ValueError(
                f"contact on {on.isoformat()} is before {self.status.value} began on "
                f"{self.entered_on.isoformat()}"
            )
        if self.contacts and on < self.contacts[-1].on:
            raise ValueError(
                f"contact on {on.isoformat()} is before the last recorded contact on "
                f"{self.contacts[-1].on.isoformat()}"
            )
        contact = Contact(on=on, channel=channel, stage=len(self.contacts) + 1, by=by)
        return self.model_copy(update={"contacts": (*self.contacts, contact)})


def advance_track(
    existing: FollowUpTrack | None,
    *,
    person_id: str,
    location_id: str,
    current: CurrentStatus,
    follow_up_person_id: str | None,
    today: date,
) -> FollowUpTrack:
    """The track for a person's current status. The same status (and appointment date) keeps
    its entry date and contacts; a new one restarts the stage count, entered on the date the
    synced data gives (never later than today), else today."""
    if existing is not None and existing.same_status(current.status, current.appointment_on):
        return existing.model_copy(
            update={"follow_up_person_id": follow_up_person_id, "status_reason": current.reason}
        )
    since = current.since if current.since is not None and current.since <= today else today
    return FollowUpTrack(
        person_id=person_id,
        location_id=location_id,
        schedule=schedule_of(current.status),
        status=current.status,
        entered_on=since,
        appointment_on=current.appointment_on,
        follow_up_person_id=follow_up_person_id,
        status_reason=current.reason,
        tracked_from=today,
    )
