"""Club Hub members as a stream on the engine: pages of raw records, their ids, content and
translation, for the pull (`GET .../members`) and for pushed deliveries alike.

A raw record is one membership seen through one account, as both a push and the listing carry
it: `{"member": {...}, "membership": {...} | None}` (an account without memberships is one
record with `membership` None). Its id is `member_id#membership_id#sale_date` (the agreement key
plus the account), or the member id alone.

Club Hub's listing has no status or modified-since filter and shows active memberships only: the
stream serves it for the `active` and `all` queries of a run and nothing for `inactive` (the
listing has none). It is cut into pages of `PAGE_SIZE` records so the engine checkpoints between
them; a continuation reads the listing again and starts at its page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from clubsync.domain.billing import BillingMember
from clubsync.domain.windows import ActiveStatus, MemberQuery
from clubsync.providers.base import InvalidRecord, RawRecord, SourceError, SourcePage
from clubsync.providers.clubhub.agreements import PENDING_REPLACED_BY_REAL, PendingReplacedByReal
from clubsync.providers.clubhub.mapping import PROVIDER, billing_member
from clubsync.providers.clubhub.wire import ClubHubMember, ClubHubMembership

PAGE_SIZE = 200
M = TypeVar("M", bound=BaseModel)


class ClubHubListing(Protocol):
    """What the stream reads (`ClubHubClient`, or a test's listing)."""

    def listing(self, club_id: str) -> Any: ...


def records_of_listing(listing: Any) -> list[RawRecord]:
    """The listing's accounts as raw records, one per membership. An entry that is not what we
    expect still becomes a record, so translating it quarantines it with its reason."""
    if not isinstance(listing, dict) or not isinstance(listing.get("members"), list):
        raise SourceError("Club Hub's member listing has no 'members' list")
    records: list[RawRecord] = []
    for entry in listing["members"]:
        if not isinstance(entry, dict):
            records.append({"member": entry, "membership": None})
            continue
        memberships = entry.get("memberships")
        if not isinstance(memberships, list) or not memberships:
            records.append({"member": entry.get("member"), "membership": None})
            continue
        records.extend({"member": entry.get("member"), "membership": m} for m in memberships)
    return records


def record_of_delivery(delivery: dict[str, Any]) -> RawRecord:
    """The raw record of a pushed delivery (its id, event and times are the delivery's)."""
    return {"member": delivery.get("member"), "membership": delivery.get("membership")}


def _text(value: Any, name: str) -> str | None:
    found = value.get(name) if isinstance(value, dict) else None
    return str(found) if isinstance(found, str | int) and str(found) else None


def _paths(error: ValidationError, prefix: str) -> str:
    # Field paths only: values may be personal data, and reasons reach logs and the CLI.
    fields = sorted({".".join([prefix, *(str(p) for p in e["loc"])]) for e in error.errors()})
    return ", ".join(fields)


@dataclass
class ClubHubMemberSource:
    """A `MemberSource` for Club Hub. Without a client it serves pushed records only."""

    club_id: str
    client: ClubHubListing | None = None
    provider: str = PROVIDER
    policy: PendingReplacedByReal = field(default=PENDING_REPLACED_BY_REAL)
    page_size: int = PAGE_SIZE
    _requests: int = field(default=0, init=False)

    @property
    def request_count(self) -> int:
        return self._requests

    def pages(self, query: MemberQuery, start_page: int = 1) -> Iterator[SourcePage]:
        if query.active_status is ActiveStatus.INACTIVE:
            return
        if self.client is None:
            raise SourceError("no Club Hub client: this source serves pushed records only")
        self._requests += 1
        try:
            listing = self.client.listing(self.club_id)
        except (httpx.HTTPError, ValueError) as error:
            raise SourceError(f"Club Hub pull failed: {type(error).__name__}: {error}") from error
        records = records_of_listing(listing)
        count = max(1, -(-len(records) // self.page_size))
        for number in range(start_page, count + 1):
            chunk = records[(number - 1) * self.page_size : number * self.page_size]
            yield SourcePage(
                number=number, next_page=number + 1 if number < count else None, records=chunk
            )

    def record_id(self, record: RawRecord) -> str | None:
        member_id = _text(record.get("member"), "member_id")
        if member_id is None:
            return None
        membership = record.get("membership")
        if membership is None:
            return member_id
        return "#".join(
            [
                member_id,
                _text(membership, "membership_id") or "?",
                _text(membership, "sale_date") or "?",
            ]
        )

    def content(self, record: RawRecord) -> bytes:
        return json.dumps(
            {"member": record.get("member"), "membership": record.get("membership")},
            sort_keys=True,
            default=str,
        ).encode()

    def translate(self, record: RawRecord) -> BillingMember:
        member = _validated(ClubHubMember, record.get("member"), "member")
        raw_membership = record.get("membership")
        membership = (
            None
            if raw_membership is None
            else _validated(ClubHubMembership, raw_membership, "membership")
        )
        return billing_member(member, membership)


def _validated(model: type[M], value: Any, prefix: str) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise InvalidRecord(f"invalid fields: {_paths(error, prefix)}") from None
