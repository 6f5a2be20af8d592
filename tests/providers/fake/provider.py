"""A minimal billing provider, only for tests: what a new provider is made of (docs/providers.md).

Its "billing system" is the list of raw records in the connection's options (where a REST
provider would take a base URL); its account is a site id, its credentials a token. It offers
members and nothing else, so a check-in sync of a fake location is refused with a reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from clubsync.domain.billing import BillingMember
from clubsync.domain.people import ContactData
from clubsync.domain.runs import SyncType
from clubsync.domain.windows import ActiveStatus, MemberQuery
from clubsync.providers.base import (
    Capabilities,
    ConnectContext,
    InvalidRecord,
    RawRecord,
    RecordSource,
    SourcePage,
)
from clubsync.providers.prospects import NO_PROSPECT_RULES, ProspectRules, ProspectTarget


class FakeAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    site_id: str = Field(pattern=r"^S-\d+$", description="The fake system's site, 'S-1'.")


class FakeCredentials(BaseModel):
    model_config = ConfigDict(frozen=True)

    token: SecretStr


class FakeMemberSource:
    """Raw records {"id", "first", "last", "email", "active", "modified"} in pages of two."""

    provider = "fake"

    def __init__(self, records: list[RawRecord], context: ConnectContext) -> None:
        self.records = records
        self.zone = context.location.zone
        self.requests = 0

    @property
    def request_count(self) -> int:
        return self.requests

    def _matches(self, record: RawRecord, query: MemberQuery) -> bool:
        if query.active_status is not ActiveStatus.ALL and record.get("active") != (
            query.active_status is ActiveStatus.ACTIVE
        ):
            return False
        if query.modified_since is None:
            return True
        return datetime.fromisoformat(record["modified"]) >= query.modified_since

    def pages(self, query: MemberQuery, start_page: int = 1) -> Iterator[SourcePage]:
        matching = [r for r in self.records if self._matches(r, query)]
        chunks = [matching[i : i + 2] for i in range(0, len(matching), 2)] or [[]]
        for number, chunk in enumerate(chunks, start=1):
            if number >= start_page:
                self.requests += 1
                last = number == len(chunks)
                yield SourcePage(
                    number=number, next_page=None if last else number + 1, records=chunk
                )

    def record_id(self, record: RawRecord) -> str | None:
        value = record.get("id")
        return value if isinstance(value, str) and value else None

    def content(self, record: RawRecord) -> bytes:
        return json.dumps(
            {k: v for k, v in record.items() if k != "modified"}, sort_keys=True
        ).encode()

    def translate(self, record: RawRecord) -> BillingMember:
        if not isinstance(record.get("email"), str):
            raise InvalidRecord("email: missing")
        return BillingMember(
            billing_member_id=record["id"],
            is_active=bool(record.get("active")),
            contact=ContactData(
                first_name=record.get("first"),
                last_name=record.get("last"),
                email=record["email"],
            ),
            modified_at=datetime.fromisoformat(record["modified"]).astimezone(self.zone),
        )


class FakeConnection:
    provider = "fake"

    def __init__(self, account: FakeAccount, context: ConnectContext) -> None:
        self.account = account
        self.context = context
        self.closed = False

    def member_source(self) -> FakeMemberSource:
        records: dict[str, list[RawRecord]] = self.context.options.get("sites", {})
        return FakeMemberSource(records.get(self.account.site_id, []), self.context)

    # Never called: the registry asks only for what `capabilities` declare.
    def record_source(self, sync_type: SyncType) -> RecordSource:
        raise AssertionError(f"the registry asked the fake provider for {sync_type.value}")

    def prospect_target(self) -> ProspectTarget:
        raise AssertionError("the registry asked the fake provider for a prospect target")

    def close(self) -> None:
        self.closed = True


class FakeProvider:
    name: ClassVar[str] = "fake"
    account_model: ClassVar[type[BaseModel]] = FakeAccount
    credentials_model: ClassVar[type[BaseModel]] = FakeCredentials
    prospect_rules: ClassVar[ProspectRules] = NO_PROSPECT_RULES
    capabilities: ClassVar[Capabilities] = Capabilities(pulls=frozenset({SyncType.MEMBERS}))

    def connect(
        self, account: FakeAccount, credentials: FakeCredentials, context: ConnectContext
    ) -> FakeConnection:
        assert credentials.token.get_secret_value(), "validated by the registry already"
        return FakeConnection(account, context)


def fake_member(number: int, **changes: Any) -> RawRecord:
    return {
        "id": f"F{number}",
        "first": "Ada",
        "last": f"Member{number}",
        "email": f"ada{number}@example.org",
        "active": True,
        "modified": "2026-11-20T10:00:00+00:00",
        **changes,
    }
