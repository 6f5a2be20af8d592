"""ABC campaigns as CRM marketing sources (spec: "Marketing Sources"). The response shape is a
guess (reference/abc-api.md): `{campaignId, campaignName, campaignType}` under `campaigns`."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field

from clubsync.domain.sales import MarketingSource
from clubsync.providers.abc.client import AbcClient
from clubsync.providers.abc.resources import AbcResourceSource
from clubsync.providers.abc.wire import Text, _Wire
from clubsync.providers.base import InvalidRecord

CAMPAIGNS_PATH = "/clubs/campaigns"
PROSPECT_CAMPAIGN_TYPES = frozenset({"PON", "PFA"})


class AbcCampaign(_Wire):
    campaign_id: str = Field(alias="campaignId", min_length=1)
    campaign_name: Text = Field(default=None, alias="campaignName")
    campaign_type: Text = Field(default=None, alias="campaignType")


def campaign_source(
    client: AbcClient | None, zone: ZoneInfo, location_id: str
) -> AbcResourceSource:
    def mapping(wire: AbcCampaign) -> MarketingSource:
        if not wire.campaign_name:
            raise InvalidRecord("campaignName: missing")
        kind = (wire.campaign_type or "").upper() or None
        return MarketingSource(
            system_id=wire.campaign_id,
            location_id=location_id,
            name=wire.campaign_name,
            campaign_type=kind,
            usable_for_prospects=kind in PROSPECT_CAMPAIGN_TYPES,
        )

    return AbcResourceSource(
        client,
        zone,
        path=CAMPAIGNS_PATH,
        list_key="campaigns",
        id_field="campaignId",
        wire=AbcCampaign,
        mapping=mapping,
    )
