"""ABC check-ins: wire shape and the mapping of spec table "Check-ins".

Club OS field     <- ABC field
systemClubId      <- member|homeClub
checkInTimestamp  <- checkInTimestamp (club-local, stored as UTC)
"""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from pydantic import Field

from clubsync.domain.activity import BillingCheckIn
from clubsync.domain.windows import Sweep
from clubsync.providers.abc.client import AbcClient
from clubsync.providers.abc.resources import AbcResourceSource
from clubsync.providers.abc.wire import LocalTimestamp, Text, _Wire
from clubsync.providers.base import InvalidRecord

CHECKINS_PATH = "/clubs/checkins/details"
CHECKIN_RANGE = "checkInTimestampRange"


class AbcCheckInMember(_Wire):
    member_id: Text = Field(default=None, alias="memberId")
    home_club: Text = Field(default=None, alias="homeClub")


class AbcCheckIn(_Wire):
    check_in_id: str = Field(alias="checkInId", min_length=1)
    check_in_timestamp: LocalTimestamp = Field(default=None, alias="checkInTimestamp")
    check_in_status: Text = Field(default=None, alias="checkInStatus")
    station_name: Text = Field(default=None, alias="stationName")
    member: AbcCheckInMember = Field(default_factory=AbcCheckInMember)


def checkin_source(client: AbcClient | None, zone: ZoneInfo) -> AbcResourceSource:
    def mapping(wire: AbcCheckIn) -> BillingCheckIn:
        if wire.check_in_timestamp is None:
            raise InvalidRecord("checkInTimestamp: missing")
        local = wire.check_in_timestamp.replace(tzinfo=zone)
        return BillingCheckIn(
            checkin_id=wire.check_in_id,
            billing_member_id=wire.member.member_id,
            system_club_id=wire.member.home_club,
            checked_in_at=local.astimezone(UTC),
            local_day=local.date(),
            status=wire.check_in_status,
            station=wire.station_name,
        )

    return AbcResourceSource(
        client,
        zone,
        path=CHECKINS_PATH,
        list_key="checkins",
        id_field="checkInId",
        wire=AbcCheckIn,
        mapping=mapping,
        range_params={Sweep.OCCURRED: CHECKIN_RANGE},
    )
