"""ABC as a `MemberSource`: member queries as ABC requests, raw records to `BillingMember`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from clubsync.domain.billing import BillingMember
from clubsync.domain.windows import MemberQuery
from clubsync.providers.abc.client import AbcClient, AbcError, abc_range
from clubsync.providers.abc.member_mapping import map_member
from clubsync.providers.abc.wire import AbcMember
from clubsync.providers.base import InvalidRecord, RawRecord, SourceError, SourcePage

MEMBERS_PATH = "/members"
MEMBERS_LIST_KEY = "members"


def member_request_params(query: MemberQuery, zone: ZoneInfo) -> dict[str, str]:
    # Prospects live in the CRM and are pushed to ABC, never pulled back (spec: "Prospects").
    params = {"joinStatus": "member", "activeStatus": query.active_status.value}
    if query.modified_since is not None:
        params["lastModifiedTimestampRange"] = abc_range(query.modified_since, None, zone)
    return params


def describe_validation_error(error: ValidationError) -> str:
    """Names each field at fault without echoing personal values into logs or reasons."""
    problems = []
    for problem in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in problem["loc"]) or "record"
        message = problem["msg"].removeprefix("Value error, ")
        problems.append(f"{field}: {message}")
    return "; ".join(problems)


class AbcMemberSource:
    provider = "abc"

    def __init__(self, client: AbcClient, zone: ZoneInfo) -> None:
        self._client = client
        self._zone = zone

    @property
    def request_count(self) -> int:
        return self._client.request_count

    def pages(self, query: MemberQuery, start_page: int = 1) -> Iterator[SourcePage]:
        params = member_request_params(query, self._zone)
        try:
            for page in self._client.iter_pages(
                MEMBERS_PATH, MEMBERS_LIST_KEY, params, start_page=start_page
            ):
                yield SourcePage(
                    number=page.page,
                    next_page=page.next_page,
                    records=page.records,
                    raw_bytes=page.raw_bytes,
                )
        except AbcError as error:
            raise SourceError(str(error)) from error

    def record_id(self, record: RawRecord) -> str | None:
        member_id = record.get("memberId")
        return member_id.strip() or None if isinstance(member_id, str) else None

    def content(self, record: RawRecord) -> bytes:
        personal = record.get("personal")
        if isinstance(personal, dict) and "lastModifiedTimestamp" in personal:
            personal = {k: v for k, v in personal.items() if k != "lastModifiedTimestamp"}
            record = {**record, "personal": personal}
        # Key order as ABC sent it: stable for a given server, and sorting would cost a third
        # more CPU on the path every unchanged member takes. A reordering costs one re-merge.
        return json.dumps(record, separators=(",", ":")).encode()

    def translate(self, record: RawRecord) -> BillingMember:
        try:
            wire = AbcMember.model_validate(record)
        except ValidationError as error:
            raise InvalidRecord(describe_validation_error(error)) from error
        member = map_member(wire, self._zone)
        if member.agreement is not None and not member.agreement.agreement_number:
            raise InvalidRecord(
                "agreement.agreementNumber: missing, the agreement cannot be identified"
            )
        return member
