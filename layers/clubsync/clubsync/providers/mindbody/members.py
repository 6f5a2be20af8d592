"""Mindbody clients as a `MemberSource` (GET /client/clients), members and prospects both.

The fan-out rule (reference/mindbody/README.md, "Fan-out"): a client's contracts are one call
per client, so they are read in `translate`, which the engine calls only for a client whose
record changed since it was last merged (an unchanged content hash is skipped before
translation). A nightly sync of an unchanged site therefore costs its client pages and nothing
more. Prospects need no contracts (they stay prospects), so they cost no call either.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from clubsync.domain.billing import BillingMember
from clubsync.domain.windows import ActiveStatus, MemberQuery
from clubsync.providers.base import InvalidRecord, RawRecord, SourceError, SourcePage
from clubsync.providers.mindbody.client import (
    MindbodyClient,
    MindbodyError,
    mindbody_time,
    parse_page,
)
from clubsync.providers.mindbody.mapping import map_member
from clubsync.providers.mindbody.sales_detail import SalesDetail
from clubsync.providers.mindbody.wire import NON_MEMBER, MbClient, MbContract

CLIENTS_PATH = "/client/clients"
CLIENTS_LIST_KEY = "Clients"
CONTRACTS_PATH = "/client/clientcontracts"
CONTRACTS_LIST_KEY = "Contracts"
# How recently a Non-Member client must have changed for its contracts to be read: longer than
# the gap between two syncs (the nightly and the partials), with a day to spare.
NON_MEMBER_CONTRACT_LOOKBACK = timedelta(days=3)


def client_params(query: MemberQuery) -> dict[str, str]:
    # Inactive clients are left out unless asked for (includeInactive defaults to false).
    params = {
        "request.includeInactive": str(query.active_status is not ActiveStatus.ACTIVE).lower()
    }
    if query.modified_since is not None:
        params["request.lastModifiedDate"] = mindbody_time(query.modified_since)
    return params


def describe_validation_error(error: ValidationError) -> str:
    """Names each field at fault without echoing personal values into logs or reasons."""
    problems = []
    for problem in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in problem["loc"]) or "record"
        problems.append(f"{field}: {problem['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)


def read_client(record: RawRecord) -> MbClient:
    try:
        return MbClient.model_validate(record)
    except ValidationError as error:
        raise InvalidRecord(describe_validation_error(error)) from error


class MindbodyMemberSource:
    provider = "mindbody"

    def __init__(
        self,
        client: MindbodyClient,
        zone: ZoneInfo,
        *,
        sales_detail: SalesDetail | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        non_member_lookback: timedelta = NON_MEMBER_CONTRACT_LOOKBACK,
    ) -> None:
        self._client = client
        self._zone = zone
        self._sales_detail = sales_detail
        self._now = now
        self._non_member_lookback = non_member_lookback

    def _today(self) -> date:
        return self._now().astimezone(self._zone).date()

    @property
    def request_count(self) -> int:
        return self._client.request_count

    def pages(self, query: MemberQuery, start_page: int = 1) -> Iterator[SourcePage]:
        size = self._client.config.page_size
        try:
            for page in self._client.iter_pages(
                CLIENTS_PATH, CLIENTS_LIST_KEY, client_params(query), offset=(start_page - 1) * size
            ):
                number = page.offset // size + 1
                records = page.records
                if query.active_status is ActiveStatus.INACTIVE:
                    # Mindbody cannot ask for inactive clients only; the active ones are the
                    # active query's.
                    records = [r for r in records if r.get("Active") is False]
                yield SourcePage(
                    number=number,
                    next_page=number + 1 if page.next_offset is not None else None,
                    records=records,
                    raw_bytes=page.raw_bytes,
                )
        except MindbodyError as error:
            raise SourceError(str(error)) from error

    def record_id(self, record: RawRecord) -> str | None:
        unique_id = record.get("UniqueId")
        if isinstance(unique_id, bool) or not isinstance(unique_id, int | str):
            return None
        return str(unique_id).strip() or None

    def content(self, record: RawRecord) -> bytes:
        return json.dumps(record, separators=(",", ":"), sort_keys=True).encode()

    def needs_contracts(self, client: MbClient) -> bool:
        """Prospects stay prospects: no call. A Non-Member is a member only with a future
        contract; an unchanged Non-Member is translated again on every sync (nothing of it is
        stored), so its contracts are read only while its record is recent: selling it a
        contract modifies the client [guess, docs/providers/mindbody.md]."""
        if client.is_prospect:
            return False
        if client.status not in (NON_MEMBER, None):
            return True
        modified = client.last_modified_date_time
        return modified is None or modified >= self._now() - self._non_member_lookback

    def translate(self, record: RawRecord) -> BillingMember:
        client = read_client(record)
        contracts = self.contracts(client.unique_id) if self.needs_contracts(client) else []
        today = self._today()
        member = map_member(client, contracts, self._zone, today)
        if self._sales_detail is not None and member.agreement is None and not client.is_prospect:
            member = self._sales_detail.convert(client, member)
        return member

    def one_client(self, *, unique_id: int | None, client_id: str | None) -> RawRecord | None:
        """One client as GET /client/clients answers it (inactive ones too; one call), by its
        UniqueId or else its barcode Id (a webhook event names both [one]), or None when
        Mindbody has no such client."""
        params = {"request.includeInactive": "true", "request.limit": "1", "request.offset": "0"}
        if unique_id is not None:
            params["request.uniqueIds"] = str(unique_id)
        elif client_id:
            params["request.clientIDs"] = client_id
        else:
            raise ValueError("one_client needs a UniqueId or a client Id")
        try:
            response = self._client.call("GET", CLIENTS_PATH, params=params)
            page = parse_page(response.content, CLIENTS_LIST_KEY, offset=0, limit=1)
        except MindbodyError as error:
            raise SourceError(str(error)) from error
        for record in page.records:
            if unique_id is None or self.record_id(record) == str(unique_id):
                return record
        return None

    def contracts(self, unique_id: int) -> list[MbContract]:
        """The client's contracts (one call, paged past 200): the Non-Member rule needs them."""
        try:
            records = self._client.get_all(
                CONTRACTS_PATH, CONTRACTS_LIST_KEY, {"request.uniqueClientId": str(unique_id)}
            )
        except MindbodyError as error:
            raise SourceError(str(error)) from error
        return [_contract(record) for record in records]


def _contract(record: dict[str, Any]) -> MbContract:
    try:
        return MbContract.model_validate(record)
    except ValidationError as error:
        raise InvalidRecord("contract: " + describe_validation_error(error)) from error
