"""Prospect push state: the outcome written back on the prospect, and the create claim in the
state table that keeps a prospect from being created twice in billing (docs/prospects.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from clubsync.domain.employees import Employee
from clubsync.domain.match_keys import DEFAULT_REGION
from clubsync.domain.people import Person, PersonKind, ProspectPush
from clubsync.store.entities import (
    PERSON_PREFIX,
    location_pk,
    person_key,
    person_to_item,
)
from clubsync.store.items import ConditionFailed, Item, ItemTable
from clubsync.store.records import RecordRepository

CLAIM_PREFIX = "PUSHCLAIM#"
# A claim outlives any redelivery or retry of the stream record that made it; DynamoDB's TTL
# then removes it (state table TTL attribute `expires_at`).
CLAIM_RETENTION = timedelta(days=30)


class ClaimState(StrEnum):
    CREATING = "creating"  # a create is (or was, if the lease ran out) in flight
    CREATED = "created"  # billing created it: billing_id is known


class CreateClaim(BaseModel):
    model_config = ConfigDict(extra="ignore")

    claim_state: ClaimState
    owner: str
    lease_until: int  # epoch seconds
    started_at: datetime
    billing_id: str | None = None
    pushed_hash: str | None = None


class ClaimBusy(Exception):
    """Another invocation is creating this prospect in billing right now."""


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class ProspectStore:
    def __init__(self, entities: ItemTable, state: ItemTable) -> None:
        self.entities = entities
        self.state = state

    # -- prospects -----------------------------------------------------------------------
    def get(self, location_id: str, person_id: str) -> Person | None:
        item = self.entities.get(person_key(location_id, person_id))
        return person_from_item(item) if item else None

    def prospects(self, location_id: str) -> list[Person]:
        people = (
            person_from_item(item)
            for item in self.entities.query(location_pk(location_id), PERSON_PREFIX)
        )
        return sorted(
            (p for p in people if p.kind is PersonKind.PROSPECT), key=lambda p: p.person_id
        )

    def record_outcome(
        self, person: Person, push: ProspectPush, *, default_region: str = DEFAULT_REGION
    ) -> bool:
        """Writes the push block (and a new billing id) onto the prospect without touching its
        other fields, so an edit made meanwhile is kept. False if the prospect is gone.
        `default_region`: the location's country, so the recomputed match entry keeps the
        phone keys the location's other writers computed."""
        attributes: Item = {"push": push.model_dump(mode="json")}
        if push.billing_member_id and push.billing_member_id != person.billing_member_id:
            # The billing id lives in several attributes (the field, the by-billing-id index
            # keys, the compact match entry): take them all from the item as saved.
            linked = person_to_item(
                person.model_copy(update={"billing_member_id": push.billing_member_id}),
                default_region,
            )
            for name in ("billing_member_id", "gsi1pk", "gsi1sk", "match"):
                if name in linked:
                    attributes[name] = linked[name]
        try:
            self.entities.update(person_key(person.location_id, person.person_id), attributes)
        except ConditionFailed:
            return False  # moved to another location or deleted: nothing to record on
        return True

    # -- the create claim ----------------------------------------------------------------
    def claim(self, location_id: str, person_id: str, scope: str = "") -> CreateClaim | None:
        item = self.state.get(_claim_key(location_id, person_id, scope))
        return CreateClaim.model_validate(item) if item else None

    def take_claim(
        self,
        location_id: str,
        person_id: str,
        owner: str,
        now: datetime,
        lease: timedelta,
        previous: CreateClaim | None,
        scope: str = "",
    ) -> CreateClaim:
        """Conditional put: only if there is no claim, or it is still the one we read
        (`previous`, whose lease ran out). Raises ClaimBusy when someone else got there."""
        claim = CreateClaim(
            claim_state=ClaimState.CREATING,
            owner=owner,
            lease_until=_epoch(now + lease),
            started_at=previous.started_at if previous else now,
        )
        expected = {"owner": previous.owner} if previous else {"pk": None}
        try:
            self.state.put_expecting(
                self._claim_item(location_id, person_id, claim, now, scope), expected
            )
        except ConditionFailed as error:
            raise ClaimBusy(f"prospect {person_id} is being created by another attempt") from error
        return claim

    def finish_claim(
        self,
        location_id: str,
        person_id: str,
        claim: CreateClaim,
        now: datetime,
        *,
        billing_id: str | None = None,
        pushed_hash: str | None = None,
        uncertain: bool = False,
        scope: str = "",
    ) -> None:
        """After the create: `billing_id` known (created), `uncertain` (keep the claim with
        its lease ended, so the next attempt looks in billing first), else nothing was
        created and the claim is removed."""
        key = _claim_key(location_id, person_id, scope)
        if billing_id is not None:
            done = claim.model_copy(
                update={
                    "claim_state": ClaimState.CREATED,
                    "billing_id": billing_id,
                    "pushed_hash": pushed_hash,
                }
            )
            self.state.put(self._claim_item(location_id, person_id, done, now, scope))
        elif uncertain:
            ended = claim.model_copy(update={"lease_until": _epoch(now)})
            self.state.put(self._claim_item(location_id, person_id, ended, now, scope))
        else:
            self.state.delete(key)

    @staticmethod
    def _claim_item(
        location_id: str, person_id: str, claim: CreateClaim, now: datetime, scope: str
    ) -> Item:
        pk, sk = _claim_key(location_id, person_id, scope)
        return {
            "pk": pk,
            "sk": sk,
            "expires_at": _epoch(now + CLAIM_RETENTION),
            **claim.model_dump(mode="json"),
        }

    # -- salespeople ---------------------------------------------------------------------
    def employee(self, employee_id: str) -> Employee | None:
        """A follow-up person, as the employee sync stored them (`store.records.employee_item`);
        which of their accounts is the salesperson: `domain.employees.salesperson_account`."""
        return RecordRepository(self.entities).employees([employee_id]).get(employee_id)


def _claim_key(location_id: str, person_id: str, scope: str) -> tuple[str, str]:
    """One claim per prospect and billing account; a reintegration to a new provider uses its
    own scope, so the old provider's created claims do not count there."""
    suffix = f"#{scope}" if scope else ""
    return (location_pk(location_id), f"{CLAIM_PREFIX}{person_id}{suffix}")


def person_from_item(item: Item) -> Person:
    return Person.model_validate({n: item[n] for n in Person.model_fields if n in item})
