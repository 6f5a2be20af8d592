"""The Mindbody webhook receiver: authenticate, parse, read the client, apply, idempotently.

The Lambda handler (functions/mindbody_webhook/handler.py) refuses unauthenticated requests
with providers/mindbody/gate.py before importing this module, then hands the event over.

A Mindbody event is a notification, not the record: `eventData` names the client (and a few of
its fields), so the receiver reads that one client from Mindbody (GET /client/clients by
UniqueId, then its contracts when the Non-Member rule needs them: the nightly pull's own
translation, members.py) and feeds it to `SyncEngine.ingest` through the member job, the same
translate -> quarantine -> merge -> write path and merge as the nightly pull, under the
location's members lease, with a run record of kind `push`. Reading the current record makes
the order of events and a late or replayed event harmless: the newest state is what is merged.

Answers (Mindbody redelivers anything but a 2xx every 15 minutes for 3 hours [one]):
- 400 / 422: a body that is not JSON or lacks what is needed (messageId, eventId, siteId, a
  client id), or a site no Mindbody location has; redelivery cannot help, which the message says;
- 200 "ignored": an event type that does not change a client (classRosterBooking.*, ...);
- 200 "duplicate": a messageId already applied: nothing read, nothing written;
- 503: Mindbody could not be read in time, the call budget is spent, or a pull holds the
  lease; nothing is recorded, so the redelivery applies it (and the nightly pull catches up
  with whatever the 3 hours of redeliveries could not).
The message id is recorded *after* applying (replay-safe), so a crash in between means the
redelivery applies again and writes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from clubsync.domain.runs import RunStatus
from clubsync.domain.settings import LocationSettings
from clubsync.engine.sync_engine import SyncEngine, SyncFailed
from clubsync.features.public_url import BodyRefused, json_response, load_json_object, raw_body
from clubsync.providers.base import MemberSource, ProviderRefused, SourceError
from clubsync.providers.mindbody.gate import MAX_BODY_BYTES, mindbody_refusal
from clubsync.providers.mindbody.members import MindbodyMemberSource
from clubsync.providers.mindbody.provider import MindbodyProvider, MindbodySite

# Re-exported: the tests and local runs sign with these names.
from clubsync.providers.mindbody.signing import SIGNATURE_HEADER as SIGNATURE_HEADER
from clubsync.providers.mindbody.signing import sign as sign
from clubsync.providers.mindbody.signing import signature_problem
from clubsync.providers.mindbody.signing import signed_headers as signed_headers
from clubsync.resources.members import MemberJob
from clubsync.store.entities import EntityRepository, location_pk
from clubsync.store.items import ConditionFailed
from clubsync.store.state import StateRepository

# Event families whose events change a client or what it holds (the text before the dot of
# `eventId`): client.created/updated/deactivated, clientContract.*, clientMembershipAssignment.*.
CLIENT_EVENT_FAMILIES = frozenset({"client", "clientContract", "clientMembershipAssignment"})
# Mindbody redelivers for 3 hours; a week of message ids is plenty, and the TTL keeps the
# state table from growing with every event.
DELIVERY_RETENTION = timedelta(days=7)
# Mindbody gives up on an answer after 10 s [one]. One attempt per call (Mindbody's redelivery
# is the retry) and a short timeout keep the worst case, a staff token, the client and its
# contracts, at 3 x 2.5 s; the function's own timeout (infra) ends anything slower.
WEBHOOK_CLIENT_OPTIONS: dict[str, Any] = {"timeout_seconds": 2.5, "max_attempts": 1}


class MindbodyEventData(BaseModel):
    """What clubsync reads of `eventData`; the other fields (names, e-mail) are not used: the
    client is read from Mindbody."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, coerce_numbers_to_str=True)

    site_id: str | None = Field(default=None, alias="siteId", max_length=20)
    client_id: str | None = Field(default=None, alias="clientId", max_length=100)
    client_unique_id: int | None = Field(default=None, alias="clientUniqueId", ge=0)


class MindbodyDelivery(BaseModel):
    """One webhook event as Mindbody posts it (camelCase [one]). `eventId` is the event type
    (what a subscription lists in its eventIds); `messageId` names the delivery, the same on
    every redelivery [guess]."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, coerce_numbers_to_str=True)

    message_id: str = Field(alias="messageId", min_length=1, max_length=200)
    event_id: str = Field(alias="eventId", min_length=1, max_length=100)
    event_schema_version: float | None = Field(default=None, alias="eventSchemaVersion")
    origination: datetime | None = Field(default=None, alias="eventInstanceOriginationDateTime")
    site_id: str | None = Field(default=None, alias="siteId", max_length=20)
    event_data: MindbodyEventData = Field(default_factory=MindbodyEventData, alias="eventData")

    @property
    def site(self) -> str | None:
        # Documented at the top level and seen inside eventData [one]: either is read.
        found = self.site_id or self.event_data.site_id
        return found.strip() if found else None

    @property
    def family(self) -> str:
        return self.event_id.split(".", 1)[0]


class MindbodyMembers(Protocol):
    """A location's connection as the webhook uses it (providers/registry.CheckedConnection)."""

    def member_source(self) -> MemberSource: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class WebhookResult:
    status: int
    body: dict[str, Any]


def _field_errors(error: ValidationError) -> list[str]:
    # Field paths only: values may be personal data and reasons reach logs.
    return sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()})


def _delivery_key(location_id: str, message_id: str) -> tuple[str, str]:
    return (location_pk(location_id), f"MINDBODY#DELIVERY#{message_id}")


def site_of(settings: LocationSettings) -> str | None:
    """The location's Mindbody SiteId, or None for a location on another provider or with an
    account Mindbody's model refuses."""
    if str(settings.provider) != MindbodyProvider.name:
        return None
    try:
        return MindbodySite.model_validate(settings.account).site_id
    except ValidationError:
        return None


@dataclass
class MindbodyWebhook:
    entities: EntityRepository
    state: StateRepository
    key: bytes
    # The location's connection (its secret, its call budget: registry.connect_location).
    connect: Callable[[LocationSettings], MindbodyMembers]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def handle(self, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
        """One delivery as Mindbody sent it: the raw body and its headers (any case)."""
        if len(body) > MAX_BODY_BYTES:
            return WebhookResult(413, {"error": f"body is larger than {MAX_BODY_BYTES} bytes"})
        lowered = {name.lower(): value for name, value in headers.items()}
        problem = signature_problem(self.key, body, lowered)
        if problem is not None:
            return WebhookResult(401, {"error": problem})
        return self.handle_authentic(body)

    def handle_authentic(self, body: bytes) -> WebhookResult:
        """A delivery whose signature was checked (`handle`, or the handler's gate)."""
        try:
            data = load_json_object(body)
        except BodyRefused as refused:
            return WebhookResult(refused.status, {"error": refused.message})
        try:
            delivery = MindbodyDelivery.model_validate(data)
        except ValidationError as error:
            fields = _field_errors(error)
            return WebhookResult(
                422, {"error": f"invalid fields: {', '.join(fields)}", "fields": fields}
            )
        if delivery.family not in CLIENT_EVENT_FAMILIES:
            # Answered 200, or Mindbody would redeliver it for 3 hours.
            return WebhookResult(200, {"status": "ignored", "event": delivery.event_id})
        event = delivery.event_data
        if delivery.site is None:
            return WebhookResult(422, {"error": "siteId is missing", "fields": ["siteId"]})
        if event.client_unique_id is None and not event.client_id:
            return WebhookResult(
                422,
                {
                    "error": "eventData names no client (clientUniqueId or clientId)",
                    "fields": ["eventData.clientUniqueId"],
                },
            )
        locations = [s for s in self.state.locations() if site_of(s) == delivery.site]
        if not locations:
            return WebhookResult(
                422,
                {
                    "error": f"siteId {delivery.site} is not the site of a registered Mindbody "
                    "location: register it with `clubsync locations apply`"
                },
            )
        delivery_key = _delivery_key(locations[0].location_id, delivery.message_id)
        if self.state.table.get(delivery_key) is not None:
            return WebhookResult(200, {"status": "duplicate", "message_id": delivery.message_id})
        try:
            outcome = self._apply(delivery, locations)
        except _Deferred as deferred:
            return WebhookResult(503, {"error": deferred.reason})
        now = self.clock()
        # A concurrent redelivery may record it first; applying twice wrote nothing new.
        with contextlib.suppress(ConditionFailed):
            self.state.table.put_expecting(
                {
                    "pk": delivery_key[0],
                    "sk": delivery_key[1],
                    "event": delivery.event_id,
                    "received_at": now.isoformat(),
                    "outcome": outcome,
                    "expires_at": int((now + DELIVERY_RETENTION).timestamp()),
                },
                {"pk": None},
            )
        return WebhookResult(200, {"status": outcome, "message_id": delivery.message_id})

    def _apply(self, delivery: MindbodyDelivery, locations: list[LocationSettings]) -> str:
        """Reads the client once (the first location's connection: one site, one budget) and
        ingests it into every location of the site; the outcome of the first."""
        try:
            connection = self.connect(locations[0])
        except ProviderRefused as refused:
            raise _Deferred(str(refused)) from refused
        try:
            source = connection.member_source()
            if not isinstance(source, MindbodyMemberSource):
                raise _Deferred(f"location {locations[0].location_id!r} is not on Mindbody")
            event = delivery.event_data
            try:
                record = source.one_client(
                    unique_id=event.client_unique_id, client_id=event.client_id
                )
            except SourceError as error:
                raise _Deferred(f"Mindbody could not be read: {error}") from error
            if record is None:
                # Deleted or merged away since: nothing to apply, and nothing will be.
                return "client_not_found"
            outcomes = [self._ingest(settings, source, record, delivery) for settings in locations]
        except ProviderRefused as refused:
            raise _Deferred(str(refused)) from refused
        finally:
            # Records the calls made against the site's daily budget.
            connection.close()
        return outcomes[0]

    def _ingest(
        self,
        settings: LocationSettings,
        source: MindbodyMemberSource,
        record: dict[str, Any],
        delivery: MindbodyDelivery,
    ) -> str:
        job = MemberJob(settings, source, self.entities, state=self.state)
        engine = SyncEngine(
            settings=settings, job=job, entities=self.entities, state=self.state, clock=self.clock
        )
        try:
            run = engine.ingest(
                [record],
                self.clock(),
                message=f"Mindbody {delivery.event_id} {delivery.message_id}",
            )
        except SyncFailed as failed:
            # Recorded as a failed push run; the contracts read failed or timed out.
            raise _Deferred(f"not applied: {failed.run.message}") from failed
        if run.status is RunStatus.SKIPPED_LOCKED:
            raise _Deferred("a sync of this location is running; redeliver later")
        if run.counts.quarantined:
            return "quarantined"
        record_id = job.record_id(record)
        found = job.outcomes.get(record_id) if record_id is not None else None
        return found or "unchanged"


class _Deferred(Exception):
    """Not applied this time; answered 503 so that Mindbody redelivers."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def handle_webhook_event(event: Mapping[str, Any], webhook: MindbodyWebhook) -> dict[str, Any]:
    """A Lambda function URL (payload 2.0) or API Gateway proxy event -> HTTP answer. The
    signature is checked over the bytes Mindbody sent (a base64 body is decoded first), by the
    same gate the handler runs before importing this module."""
    refusal = mindbody_refusal(event, webhook.key)
    if refusal is not None:
        return json_response(refusal.status, {"error": refusal.message})
    result = webhook.handle_authentic(raw_body(event, MAX_BODY_BYTES))
    return json_response(result.status, result.body)
