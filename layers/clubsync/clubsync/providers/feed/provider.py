"""The generic mapped feed as a `Provider` ("feed"): a club whose billing system has no API
exports files; a mapping file says how to read them (docs/providers/file-feeds.md).

A location's account names its club (deliveries are per club and cover every location of it),
the code its rows carry in the file's location column, and the map: a shipped map's name
(providers/feed/maps/, data only: onboarding a new system adds a map there, no code) plus the
club's own values, which win over the map's.

Nothing is pulled: files are delivered (S3 -> EventBridge -> functions/feed_import), so its
pull capabilities are empty and no schedule runs for it; prospects out are issue 14 part 2.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, Json

from clubsync.domain.runs import SyncType
from clubsync.providers.base import (
    Capabilities,
    ConnectContext,
    MemberSource,
    ProviderRefused,
    RecordSource,
)
from clubsync.providers.feed.mapping import FeedMap, FeedValues, shipped_map
from clubsync.providers.prospects import NO_PROSPECT_RULES, ProspectRules, ProspectTarget

CLUB_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class FeedAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    club_id: str = Field(
        pattern=CLUB_PATTERN, description="The club whose deliveries cover this location."
    )
    location_code: str = Field(
        min_length=1, max_length=64, description="The value of the file's location column."
    )
    map: str = Field(
        default="template",
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="A shipped map's name (providers/feed/maps/<name>.toml).",
    )
    # JSON text: a location's account holds flat fields only (LocationSettings.account).
    values: Json[FeedValues] | None = Field(
        default=None, description="The club's own values, over the map's (JSON)"
    )


class FeedCredentials(BaseModel):
    """Nothing: files are delivered to the stack's bucket, nothing is read from billing."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class FileFeed(Protocol):
    """What a provider on the file path offers besides `Provider`: its map for an account."""

    name: ClassVar[str]
    account_model: ClassVar[type[BaseModel]]

    def feed_map(self, account: Any) -> FeedMap: ...


class FeedConnection:
    """A file provider has nothing to connect to; the registry asks nothing of it (empty
    capabilities), and these say why if something does."""

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def member_source(self) -> MemberSource:
        raise ProviderRefused(
            f"{self.provider} members arrive in delivered files (functions/feed_import), "
            "not by the sync schedules"
        )

    def record_source(self, sync_type: SyncType) -> RecordSource:
        raise ProviderRefused(f"{self.provider} offers no {sync_type.value} pull")

    def prospect_target(self) -> ProspectTarget:
        raise ProviderRefused(f"{self.provider} takes no prospect push from clubsync yet")

    def close(self) -> None:
        return None


FEED_CAPABILITIES = Capabilities(pulls=frozenset(), prospect_push=False)


class FeedProvider:
    name: ClassVar[str] = "feed"
    account_model: ClassVar[type[BaseModel]] = FeedAccount
    credentials_model: ClassVar[type[BaseModel]] = FeedCredentials
    prospect_rules: ClassVar[ProspectRules] = NO_PROSPECT_RULES
    capabilities: ClassVar[Capabilities] = FEED_CAPABILITIES

    def connect(
        self, account: FeedAccount, credentials: FeedCredentials, context: ConnectContext
    ) -> FeedConnection:
        return FeedConnection(self.name)

    def feed_map(self, account: FeedAccount) -> FeedMap:
        return shipped_map("clubsync.providers.feed", account.map)
