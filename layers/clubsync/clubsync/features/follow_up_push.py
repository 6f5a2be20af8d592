"""Follow-up contacts recorded in billing, exactly once each (issue 13: Mindbody contact logs).

The smallest provider-neutral channel: every contact on a person's follow-up track
(store/follow_ups.py) whose person billing knows becomes a `ContactLogEntry` with a key that
the same contact always gives. The state table remembers each key's push: "sending" is written
before the call and "sent" (with billing's id) after it. A key already sent is skipped; a key
left "sending" (a crash, or an unknown outcome) is first looked for in billing (`find`) and only
sent again when billing does not have it. A refusal is kept with its reason and not retried
until the contact changes (its key does not, so a person fixes the record in billing and the
refusal is cleared by hand, as with prospects).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from clubsync.domain.follow_up_schedule import FollowUpTrack
from clubsync.domain.people import Person
from clubsync.providers.contact_logs import ContactLogEntry, ContactLogTarget
from clubsync.providers.prospects import PushOutcomeUnknown, PushRejected, PushTransient
from clubsync.store.state import StateRepository


def contact_log_entries(
    tracks: Iterable[FollowUpTrack], people: dict[str, Person]
) -> list[ContactLogEntry]:
    """One entry per contact of a person billing knows, in track order."""
    entries = []
    for track in tracks:
        person = people.get(track.person_id)
        if person is None or not person.billing_member_id:
            continue
        for contact in track.contacts:
            entries.append(
                ContactLogEntry(
                    key=f"{track.person_id}:{track.status.value}:{track.entered_on.isoformat()}:"
                    f"{contact.on.isoformat()}",
                    billing_member_id=person.billing_member_id,
                    on=contact.on,
                    channel=contact.channel.value,
                    text=f"{track.status.value} follow-up, stage {contact.stage}, by "
                    f"{contact.channel.value}",
                )
            )
    return entries


@dataclass
class FollowUpPushResult:
    sent: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    already: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)


def push_contact_logs(
    location_id: str,
    entries: Iterable[ContactLogEntry],
    target: ContactLogTarget,
    state: StateRepository,
    now: datetime,
) -> FollowUpPushResult:
    result = FollowUpPushResult()
    for entry in entries:
        push = state.contact_log_push(location_id, entry.key)
        if push is not None and push.get("state") in ("sent", "refused"):
            result.already += 1
            continue
        try:
            if push is not None and push.get("state") == "sending":
                found = target.find(entry)
                if found is not None:
                    _mark(state, location_id, entry, "sent", now, billing_id=found)
                    result.found.append(entry.key)
                    continue
            _mark(state, location_id, entry, "sending", now)
            billing_id = target.add(entry)
        except PushRejected as refused:
            _mark(state, location_id, entry, "refused", now, reason=refused.reason)
            result.refused[entry.key] = refused.reason
            continue
        except PushOutcomeUnknown as unknown:
            # "sending" stays: the next push looks for it before sending again.
            result.pending[entry.key] = str(unknown)
            continue
        except PushTransient as transient:
            result.pending[entry.key] = str(transient)
            continue
        _mark(state, location_id, entry, "sent", now, billing_id=billing_id)
        result.sent.append(entry.key)
    return result


def _mark(
    state: StateRepository,
    location_id: str,
    entry: ContactLogEntry,
    status: str,
    now: datetime,
    *,
    billing_id: str | None = None,
    reason: str | None = None,
) -> None:
    push: dict[str, str] = {"state": status, "at": now.isoformat()}
    if billing_id is not None:
        push["billing_id"] = billing_id
    if reason is not None:
        push["reason"] = reason
    state.put_contact_log_push(location_id, entry.key, push)
