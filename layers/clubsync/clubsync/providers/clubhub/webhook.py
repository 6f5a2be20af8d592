"""The Club Hub webhook receiver: authenticate, parse, apply one delivery, idempotently.

The Lambda handler (functions/clubhub_webhook/handler.py) refuses unauthenticated requests with
providers/clubhub/signing.py before importing this module, then hands the event over. Order of
checks here, each answering before anything is read or written:

1. body over 256 KB -> 413 (before hashing it);
2. signature over `<X-ClubHub-Timestamp>.<raw body>` (providers/clubhub/signing.py), compared in
   constant time, the timestamp within the tolerance of our clock -> 401;
3. JSON (not too deeply nested) and shape (providers/clubhub/wire.py) -> 400 / 422 naming the
   field;
4. `occurred_at` older than the delivery-id memory (30 days) -> 422: its id may be forgotten, so
   it could not be told from a replay;
5. the club must be a registered location -> 422;
6. a delivery id already recorded -> 200 "duplicate", nothing applied.

Applying is `SyncEngine.ingest` through the member job with Club Hub's agreement policy
(providers/clubhub/sync.py): the same translate -> quarantine -> merge -> write path as a pull,
under the location's members lease, with a run record of kind `push`. It is replay-safe, so the
delivery record is written *after* it: a crash in between means a redelivery applies again and
writes nothing, never a lost delivery. While a pull holds the lease the answer is 503 and
nothing is recorded, so Club Hub's redelivery applies it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from clubsync.domain.runs import RunStatus
from clubsync.domain.settings import LocationSettings
from clubsync.features.public_url import (
    BodyRefused,
    json_response,
    load_json_object,
    raw_body,
)
from clubsync.providers.clubhub.gate import MAX_BODY_BYTES, clubhub_refusal
from clubsync.providers.clubhub.provider import club_id_of
from clubsync.providers.clubhub.signing import DEFAULT_TOLERANCE_SECONDS, signature_problem

# Re-exported: the sandbox, the scenarios and the tests sign with these names.
from clubsync.providers.clubhub.signing import SIGNATURE_HEADER as SIGNATURE_HEADER
from clubsync.providers.clubhub.signing import TIMESTAMP_HEADER as TIMESTAMP_HEADER
from clubsync.providers.clubhub.signing import sign as sign
from clubsync.providers.clubhub.signing import signed_headers as signed_headers
from clubsync.providers.clubhub.sync import ingest_delivery, is_clubhub
from clubsync.providers.clubhub.wire import ClubHubDelivery
from clubsync.store.entities import EntityRepository, location_pk
from clubsync.store.items import ConditionFailed
from clubsync.store.state import StateRepository

# Club Hub redelivers for a while after a failure; a month of delivery ids is plenty and the
# TTL keeps the state table from growing with every push. It is also the oldest `occurred_at`
# accepted: an older event's id may be forgotten, so a replay of it could not be recognised.
DELIVERY_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class WebhookResult:
    status: int
    body: dict[str, Any]


def _delivery_key(location_id: str, delivery_id: str) -> tuple[str, str]:
    return (location_pk(location_id), f"CLUBHUB#DELIVERY#{delivery_id}")


def _older_than_retention(occurred_at: datetime, now: datetime) -> bool:
    # The shape (ours) says UTC; an offset-less time is read as UTC rather than failing.
    aware = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=UTC)
    return aware < now - DELIVERY_RETENTION


def _field_errors(error: ValidationError) -> list[str]:
    # Field paths only: values may be personal data and reasons reach logs.
    return sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()})


@dataclass
class ClubHubWebhook:
    entities: EntityRepository
    state: StateRepository
    secret: bytes
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    # Seconds the signed X-ClubHub-Timestamp may be from `clock` (signing.tolerance_seconds()).
    tolerance: int = DEFAULT_TOLERANCE_SECONDS

    def handle(self, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
        """One delivery as Club Hub sent it: the raw body and its headers (any case)."""
        if len(body) > MAX_BODY_BYTES:
            return WebhookResult(413, {"error": f"body is larger than {MAX_BODY_BYTES} bytes"})
        lowered = {name.lower(): value for name, value in headers.items()}
        problem = signature_problem(self.secret, body, lowered, self.clock(), self.tolerance)
        if problem is not None:
            return WebhookResult(401, {"error": problem})
        return self.handle_authentic(body)

    def handle_authentic(self, body: bytes) -> WebhookResult:
        """A delivery whose signature and timestamp were checked (`handle`, or the handler's
        gate in clubsync/features/public_url.py)."""
        try:
            data = load_json_object(body)
        except BodyRefused as refused:
            return WebhookResult(refused.status, {"error": refused.message})
        try:
            delivery = ClubHubDelivery.model_validate(data)
        except ValidationError as error:
            fields = _field_errors(error)
            return WebhookResult(
                422, {"error": f"invalid fields: {', '.join(fields)}", "fields": fields}
            )
        if _older_than_retention(delivery.occurred_at, self.clock()):
            return WebhookResult(
                422,
                {
                    "error": f"occurred_at is more than {DELIVERY_RETENTION.days} days ago, "
                    "older than the delivery ids clubsync remembers, so it cannot be told from "
                    "a replay; not applied (catch up with `clubsync clubhub pull`)",
                    "fields": ["occurred_at"],
                },
            )
        settings = self._location(delivery.club_id)
        if settings is None:
            return WebhookResult(422, {"error": "club_id is not a registered location"})
        delivery_key = _delivery_key(settings.location_id, delivery.delivery_id)
        if self.state.table.get(delivery_key) is not None:
            return WebhookResult(200, {"status": "duplicate", "delivery_id": delivery.delivery_id})
        applied = ingest_delivery(
            settings, self.entities, self.state, data, delivery.delivery_id, clock=self.clock
        )
        if applied.run.status is RunStatus.SKIPPED_LOCKED:
            # A pull of the location is writing its members: not recorded, so Club Hub's
            # redelivery applies it once the pull is done.
            return WebhookResult(
                503, {"error": "a sync of this location is running; redeliver later"}
            )
        outcome = applied.outcomes[0] if applied.outcomes else "unchanged"
        now = self.clock()
        # A concurrent redelivery may record it first; applying twice wrote nothing new.
        with contextlib.suppress(ConditionFailed):
            self.state.table.put_expecting(
                {
                    "pk": delivery_key[0],
                    "sk": delivery_key[1],
                    "received_at": now.isoformat(),
                    "outcome": outcome,
                    "expires_at": int((now + DELIVERY_RETENTION).timestamp()),
                },
                {"pk": None},
            )
        return WebhookResult(200, {"status": outcome, "delivery_id": delivery.delivery_id})

    def _location(self, club_id: str) -> LocationSettings | None:
        # Only Club Hub's locations: an ABC club number may equal a Club Hub club id.
        for settings in self.state.locations():
            if is_clubhub(settings) and club_id_of(settings) == club_id:
                return settings
        return None


def handle_webhook_event(event: Mapping[str, Any], webhook: ClubHubWebhook) -> dict[str, Any]:
    """A Lambda function URL (payload 2.0) or API Gateway proxy event -> HTTP answer. The
    signature is checked over the bytes Club Hub sent (a base64 body is decoded first, nothing
    is re-serialised), by the same gate the handler runs before importing this module."""
    refusal = clubhub_refusal(event, webhook.secret, webhook.clock(), webhook.tolerance)
    if refusal is not None:
        return json_response(refusal.status, {"error": refusal.message})
    return _http(webhook.handle_authentic(raw_body(event, MAX_BODY_BYTES)))


def _http(result: WebhookResult) -> dict[str, Any]:
    return json_response(result.status, result.body)
