"""ABC calendar events: wire shape and mapping to `BillingEvent` (spec: "Calendar Events").

The CRM event type comes from the location's event type mapping (by ABC eventName), applied in
the sync (resources/events.py), not here: this module only reads what ABC says.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field

from clubsync.domain.activity import BillingEvent, BillingEventAttendee
from clubsync.domain.windows import Sweep
from clubsync.providers.abc.client import AbcClient
from clubsync.providers.abc.resources import AbcResourceSource
from clubsync.providers.abc.wire import Amount, LocalTimestamp, Text, _Wire, one_or_many
from clubsync.providers.base import InvalidRecord

EVENTS_PATH = "/calendars/events"
EVENT_TYPES_PATH = "/calendars/eventtypes"
EVENT_DATE_RANGE = "eventDateRange"

_ATTENDED = frozenset({"attended", "true", "yes", "showed", "completed"})
_MISSED = frozenset({"not attended", "no show", "noshow", "missed", "false", "no", "absent"})


def _attendees(value: Any) -> Any:
    if isinstance(value, dict) and "member" in value:
        value = value["member"]
    return one_or_many(value)


def attended_from_status(status: str | None) -> bool | None:
    """ABC attendedStatus: attended, missed, or not known yet (a future event)."""
    if status is None:
        return None
    text = " ".join(status.casefold().split())
    if text in _ATTENDED:
        return True
    if text in _MISSED:
        return False
    return None


class AbcEventMember(_Wire):
    member_id: str = Field(alias="memberId", min_length=1)
    attended_status: Text = Field(default=None, alias="attendedStatus")


class AbcEvent(_Wire):
    event_id: str = Field(alias="eventId", min_length=1)
    event_type_id: Text = Field(default=None, alias="eventTypeId")
    event_name: Text = Field(default=None, alias="eventName")
    category: Text = None
    event_timestamp: LocalTimestamp = Field(default=None, alias="eventTimestamp")
    status: Text = None
    duration: Amount = None
    employee_id: Text = Field(default=None, alias="employeeId")
    modified_timestamp: LocalTimestamp = Field(default=None, alias="modifiedTimestamp")
    members: Annotated[list[AbcEventMember], BeforeValidator(_attendees)] = Field(
        default_factory=list
    )


def event_source(client: AbcClient | None, zone: ZoneInfo) -> AbcResourceSource:
    def mapping(wire: AbcEvent) -> BillingEvent:
        if wire.event_timestamp is None:
            raise InvalidRecord("eventTimestamp: missing")
        local = wire.event_timestamp.replace(tzinfo=zone)
        return BillingEvent(
            billing_event_id=wire.event_id,
            event_name=wire.event_name,
            starts_at=local.astimezone(UTC),
            local_day=local.date(),
            duration_minutes=int(wire.duration) if wire.duration else None,
            status=wire.status,
            billing_employee_id=wire.employee_id,
            attendees=tuple(
                BillingEventAttendee(
                    billing_member_id=member.member_id,
                    attended=attended_from_status(member.attended_status),
                )
                for member in wire.members
            ),
        )

    return AbcResourceSource(
        client,
        zone,
        path=EVENTS_PATH,
        list_key="events",
        id_field="eventId",
        wire=AbcEvent,
        mapping=mapping,
        # ABC touches modifiedTimestamp without a change we read.
        volatile_fields=("modifiedTimestamp",),
        range_params={Sweep.OCCURRED: EVENT_DATE_RANGE},
    )
