"""The ABC source of each sync type other than members, by sync type."""

from __future__ import annotations

from clubsync.domain.runs import SyncType
from clubsync.domain.settings import LocationSettings
from clubsync.providers.abc.campaigns import campaign_source
from clubsync.providers.abc.checkins import checkin_source
from clubsync.providers.abc.client import AbcClient
from clubsync.providers.abc.employees import employee_source
from clubsync.providers.abc.events import event_source
from clubsync.providers.abc.pos import pos_source
from clubsync.providers.abc.recurring_services import recurring_service_source
from clubsync.providers.abc.resources import AbcResourceSource


def abc_record_source(
    sync_type: SyncType, client: AbcClient | None, settings: LocationSettings
) -> AbcResourceSource:
    zone, location = settings.zone, settings.location_id
    if sync_type is SyncType.EMPLOYEES:
        return employee_source(client, zone)
    if sync_type is SyncType.CHECKINS:
        return checkin_source(client, zone)
    if sync_type is SyncType.EVENTS:
        return event_source(client, zone)
    if sync_type is SyncType.POS:
        return pos_source(client, zone, location)
    if sync_type is SyncType.SERVICE_AGREEMENTS:
        return recurring_service_source(client, zone, location)
    if sync_type is SyncType.MARKETING_SOURCES:
        return campaign_source(client, zone, location)
    raise ValueError(f"no ABC record source for sync type {sync_type.value}")
