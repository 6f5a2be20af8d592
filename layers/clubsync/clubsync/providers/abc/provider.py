"""ABC DataTrak as a `Provider` (reference/abc-api.md): a location's account is its club
number, its credentials are the app id and key, and it offers every sync type and the
prospect push. The connection is one `AbcClient` for the club, shared by the sources."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.runs import SyncType
from clubsync.providers.abc.billing_prospects import billing_prospect_source
from clubsync.providers.abc.client import AbcClient, AbcClientConfig, AbcCredentials, AbcError
from clubsync.providers.abc.club import club_zone_mismatch
from clubsync.providers.abc.members import AbcMemberSource
from clubsync.providers.abc.prospect_rules import ABC_PROSPECT_RULES
from clubsync.providers.abc.prospects import AbcProspectTarget
from clubsync.providers.abc.sources import abc_record_source
from clubsync.providers.base import (
    Capabilities,
    ConnectContext,
    MemberSource,
    RecordSource,
    SourceError,
)
from clubsync.providers.prospects import ProspectRules


class AbcAccount(BaseModel):
    """A location's club in ABC. Each location is its own club with its own number."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # ABC's FAQ says four digits; at least one client calls a five-digit club
    # (reference/abc-api.md, "Club numbers"). A string: leading zeros are part of it.
    club_number: str = Field(
        pattern=r"^\d{4,5}$",
        description="ABC club number, 4 or 5 digits, leading zeros kept ('0451').",
    )


class AbcConnection:
    provider = "abc"

    def __init__(self, client: AbcClient, context: ConnectContext) -> None:
        self.client = client
        self.context = context

    def member_source(self) -> MemberSource:
        return AbcMemberSource(self.client, self.context.location.zone)

    def record_source(self, sync_type: SyncType) -> RecordSource:
        return abc_record_source(sync_type, self.client, self.context.location)

    def prospect_target(self) -> AbcProspectTarget:
        return AbcProspectTarget(self.client, self.context.location.zone)

    # -- initial integration (features/onboarding.py) -------------------------------
    def check_zone(self) -> str | None:
        """Why the location's configured zone is not the club's (GET /clubs `timeZone`), or
        None when they agree. ABC's times carry no zone: a wrong one shifts every time read."""
        try:
            club = self.client.get_club()
        except AbcError as error:
            raise SourceError(str(error)) from error
        return club_zone_mismatch(
            club, self.context.location.zone, club_number=self.client.club_number
        )

    def prospect_source(self) -> RecordSource:
        """The club's own prospects (GET /prospects), imported once at integration."""
        return billing_prospect_source(self.client, self.context.location.zone)

    def close(self) -> None:
        self.client.close()


class AbcProvider:
    name: ClassVar[str] = "abc"
    account_model: ClassVar[type[BaseModel]] = AbcAccount
    credentials_model: ClassVar[type[BaseModel]] = AbcCredentials
    # Named one by one: a sync type added later is not ABC's until its source exists.
    prospect_rules: ClassVar[ProspectRules] = ABC_PROSPECT_RULES
    capabilities: ClassVar[Capabilities] = Capabilities(
        pulls=frozenset(
            {
                SyncType.MEMBERS,
                SyncType.EMPLOYEES,
                SyncType.CHECKINS,
                SyncType.EVENTS,
                SyncType.POS,
                SyncType.SERVICE_AGREEMENTS,
                SyncType.MARKETING_SOURCES,
            }
        ),
        prospect_push=True,
    )

    def connect(
        self, account: AbcAccount, credentials: AbcCredentials, context: ConnectContext
    ) -> AbcConnection:
        client = AbcClient(
            account.club_number,
            credentials,
            AbcClientConfig(**context.options),
            transport=context.transport,
            seconds_left=context.seconds_left,
        )
        return AbcConnection(client, context)
