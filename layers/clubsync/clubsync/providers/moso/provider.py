"""MoSo (Motionsoft) as a `Provider` (docs/providers/moso.md): spreadsheet-like extract files,
read through the file-feed path with the map of the club's extract version.

What is MoSo's (reference/providers.md): the extract version (2.x, 2.5.x or 3.x) is set once
per club, not per location; one delivery covers every location of the club, its rows carrying
the location; extracts hold members with their agreements, and employees (only those who made a
sale appear); nothing else (no check-ins, events, products, sources). The column layouts are
stand-ins (maps/*.toml) until confirmed against a vendor sample.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, Json

from clubsync.providers.base import Capabilities, ConnectContext
from clubsync.providers.feed.mapping import FeedMap, FeedValues, shipped_map
from clubsync.providers.feed.provider import (
    CLUB_PATTERN,
    FEED_CAPABILITIES,
    FeedConnection,
    FeedCredentials,
)
from clubsync.providers.prospects import NO_PROSPECT_RULES, ProspectRules

PROVIDER = "moso"
ExtractVersion = Literal["2.x", "2.5.x", "3.x"]
EXTRACT_VERSIONS: tuple[ExtractVersion, ...] = ("2.x", "2.5.x", "3.x")


class MosoAccount(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    club_id: str = Field(pattern=CLUB_PATTERN, description="The MoSo club the extracts are of.")
    location_code: str = Field(
        min_length=1, max_length=64, description="The location's code in the extracts' rows."
    )
    extract_version: ExtractVersion = Field(
        description="The club's extract version (the same for every location of the club)."
    )
    # JSON text: a location's account holds flat fields only (LocationSettings.account).
    values: Json[FeedValues] | None = Field(
        default=None,
        description="The club's own membership type, member, agreement status values (JSON)",
    )


def moso_map(version: ExtractVersion) -> FeedMap:
    return shipped_map("clubsync.providers.moso", f"moso-{version}")


class MosoProvider:
    name: ClassVar[str] = PROVIDER
    account_model: ClassVar[type[BaseModel]] = MosoAccount
    credentials_model: ClassVar[type[BaseModel]] = FeedCredentials
    prospect_rules: ClassVar[ProspectRules] = NO_PROSPECT_RULES
    capabilities: ClassVar[Capabilities] = FEED_CAPABILITIES

    def connect(
        self, account: MosoAccount, credentials: FeedCredentials, context: ConnectContext
    ) -> FeedConnection:
        return FeedConnection(self.name)

    def feed_map(self, account: MosoAccount) -> FeedMap:
        return moso_map(account.extract_version)
