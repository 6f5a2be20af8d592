"""Club Hub (Anytime Fitness) as a `Provider` (docs/clubhub.md): a location's account is its
Club Hub club id (the `club_id` of every delivery).

Its members reach the engine two ways of their own (providers/clubhub/sync.py): webhook deliveries
through `SyncEngine.ingest`, and the hourly reconciliation pull (functions/clubhub_pull,
`clubsync clubhub pull`) as an engine run over `ClubHubMemberSource`. Neither is one of the
scheduled sync types, so its capabilities are empty: a Club Hub location gets no 21:00 full
sync and no partial schedules, and a scheduled type that reaches it is skipped as not offered.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.providers.base import (
    Capabilities,
    ConnectContext,
    MemberSource,
    ProviderRefused,
    RecordSource,
)
from clubsync.providers.clubhub.client import ClubHubClient
from clubsync.providers.prospects import NO_PROSPECT_RULES, ProspectRules, ProspectTarget


class ClubHubAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    club_id: str = Field(
        min_length=1, max_length=128, description="Club Hub's club id ('AF-1203')."
    )


def club_id_of(settings: LocationSettings) -> str:
    """The Club Hub club id of a location: its account's `club_id`. Locations written before
    providers had accounts (the Club Hub scenarios, older tests) gave it as `club_number`, which
    is still read so they keep working."""
    return str(settings.account.get("club_id") or settings.club_number)


class ClubHubCredentials(BaseModel):
    """Nothing per location today: the pull API (our stand-in shape, wire.py) is not
    authenticated, and the webhook's signing secret is the stage's (public_url.shared_secret),
    not a location's. A location may leave billing_secret_name empty."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class ClubHubConnection:
    provider = "clubhub"

    def __init__(self, account: ClubHubAccount, context: ConnectContext) -> None:
        self.account = account
        self.context = context
        self._client: ClubHubClient | None = None

    def client(self) -> ClubHubClient:
        """The pull client, opened on first use (`options["base_url"]`)."""
        if self._client is None:
            base_url = self.context.options.get("base_url")
            if not base_url:
                raise ProviderRefused("Club Hub's base_url is not configured")
            self._client = ClubHubClient(str(base_url))
        return self._client

    # The registry asks only for what `capabilities` declare; these say why if called.
    def member_source(self) -> MemberSource:
        raise ProviderRefused(
            "Club Hub members are pulled by its hourly reconciliation (functions/clubhub_pull), "
            "not by the sync schedules"
        )

    def record_source(self, sync_type: SyncType) -> RecordSource:
        raise ProviderRefused(f"Club Hub offers no {sync_type.value} pull")

    def prospect_target(self) -> ProspectTarget:
        raise ProviderRefused("Club Hub takes no prospect push from clubsync yet")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class ClubHubProvider:
    name: ClassVar[str] = "clubhub"
    account_model: ClassVar[type[BaseModel]] = ClubHubAccount
    credentials_model: ClassVar[type[BaseModel]] = ClubHubCredentials
    prospect_rules: ClassVar[ProspectRules] = NO_PROSPECT_RULES
    capabilities: ClassVar[Capabilities] = Capabilities(pulls=frozenset(), prospect_push=False)

    def connect(
        self, account: ClubHubAccount, credentials: ClubHubCredentials, context: ConnectContext
    ) -> ClubHubConnection:
        return ClubHubConnection(account, context)
