"""Follow-up contacts as Mindbody contact logs (`POST /client/addcontactlog`).

Each log carries its clubsync key in `Comments`, so after an unknown outcome (a 500, a timeout)
the client's logs of that day are read (`GET /client/contactlogs`) and the one already made is
found instead of making a second. `AddContactLog` names the client by its `Id` (the barcode,
which staff can change): it is read from the `UniqueId` first, one call.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from clubsync.providers.contact_logs import ContactLogEntry
from clubsync.providers.mindbody.client import MindbodyClient, mindbody_time
from clubsync.providers.mindbody.prospects import translated_errors
from clubsync.providers.prospects import PushOutcomeUnknown, PushRejected

ADD_CONTACT_LOG_PATH = "/client/addcontactlog"
CONTACT_LOGS_PATH = "/client/contactlogs"
# Mindbody's ContactMethod names, by clubsync channel [guess: the schema says only "string"].
CONTACT_METHODS = {"call": "Call", "email": "Email", "text": "Text"}


def marker(entry: ContactLogEntry) -> str:
    return f"clubsync:{entry.key}"


class MindbodyContactLogTarget:
    provider = "mindbody"

    def __init__(self, client: MindbodyClient) -> None:
        self.client = client
        self._ids: dict[str, str] = {}

    def _client_id(self, unique_id: str) -> str:
        if unique_id not in self._ids:
            with translated_errors():
                found = self.client.get_all(
                    "/client/clients", "Clients", {"request.uniqueIds": unique_id}
                )
            current = next((c for c in found if str(c.get("UniqueId")) == unique_id), None)
            if current is None or not current.get("Id"):
                raise PushRejected(f"Mindbody has no client with UniqueId {unique_id}")
            self._ids[unique_id] = str(current["Id"])
        return self._ids[unique_id]

    def add(self, entry: ContactLogEntry) -> str:
        body: dict[str, Any] = {
            "ClientId": self._client_id(entry.billing_member_id),
            "ContactMethod": CONTACT_METHODS.get(entry.channel, entry.channel),
            "Text": entry.text,
            "IsComplete": True,
            # A string on the way in, an object with Text on the way out (ContactLogComment).
            "Comments": [marker(entry)],
        }
        if entry.billing_employee_id:
            body["AssignedToStaffId"] = int(entry.billing_employee_id)
        with translated_errors():
            answer = self.client.post(ADD_CONTACT_LOG_PATH, body)
        log_id = answer.get("Id")
        if log_id is None:
            raise PushOutcomeUnknown(f"Mindbody {ADD_CONTACT_LOG_PATH}: the answer has no Id")
        return str(log_id)

    def find(self, entry: ContactLogEntry) -> str | None:
        day = datetime.combine(entry.on, time(0), tzinfo=UTC)
        params = {
            "request.clientId": self._client_id(entry.billing_member_id),
            # A day either side: `on` is the club's day, the log's time is Mindbody's (UTC).
            "request.startDate": mindbody_time(day - timedelta(days=1)),
            "request.endDate": mindbody_time(day + timedelta(days=2)),
        }
        with translated_errors():
            logs = self.client.get_all(CONTACT_LOGS_PATH, "ContactLogs", params)
        wanted = marker(entry)
        for log in logs:
            comments = log.get("Comments") or []
            texts = [c.get("Text") for c in comments if isinstance(c, dict)]
            if wanted in texts and log.get("Id") is not None:
                return str(log["Id"])
        return None
