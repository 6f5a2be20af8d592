"""ABC's own prospects (GET /{club}/prospects, reference/abc-api.md): read once, at a
location's initial integration, and translated to canonical `BillingProspect`s.

The record is a member-shaped `personal` block keyed by `prospectId`; where members say
`createTimestamp`, prospects say `personal.createdTimestamp`. Contact fields map as a member's
do (`member_mapping.map_contact`). The agreement block (tour date, visits, campaign group) is not
read: nothing in the CRM's prospect keeps it.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field

from clubsync.domain.billing import BillingProspect
from clubsync.providers.abc.client import AbcClient
from clubsync.providers.abc.member_mapping import map_contact, to_utc
from clubsync.providers.abc.resources import AbcResourceSource
from clubsync.providers.abc.wire import AbcPersonal, LocalTimestamp, _Wire

PROSPECTS_PATH = "/prospects"


class AbcProspectPersonal(AbcPersonal):
    created_timestamp: LocalTimestamp = Field(default=None, alias="createdTimestamp")


class AbcBillingProspect(_Wire):
    prospect_id: str = Field(alias="prospectId", min_length=1)
    personal: AbcProspectPersonal


def map_billing_prospect(prospect: AbcBillingProspect, zone: ZoneInfo) -> BillingProspect:
    personal = prospect.personal
    return BillingProspect(
        billing_prospect_id=prospect.prospect_id,
        contact=map_contact(personal),
        created_at=to_utc(personal.created_timestamp or personal.create_timestamp, zone),
    )


def billing_prospect_source(client: AbcClient | None, zone: ZoneInfo) -> AbcResourceSource:
    """Every prospect of the club: no range (the only filter ABC documents is on the last
    check-in, which would leave out prospects who never visited)."""
    return AbcResourceSource(
        client,
        zone,
        path=PROSPECTS_PATH,
        list_key="prospects",
        id_field="prospectId",
        wire=AbcBillingProspect,
        mapping=lambda wire: map_billing_prospect(wire, zone),
    )
