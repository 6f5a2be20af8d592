"""Club Hub (Anytime Fitness) payloads as clubsync receives them.

Club Hub's webhook and API shapes are not public (reference/abc-api.md, "Other billing
systems"). This module is the one place that defines the shape clubsync accepts; when the real
contract is known, only this file and `mapping.py` change. The shape carries what the
duplicated-agreements article (spec/clubhub-duplicated-agreements.txt) says Club Hub has: member
accounts, memberships with an id and a sale date, and pending memberships that are later replaced
by a real one with another id and no link between the two.

A delivery:

    {
      "delivery_id": "d-...",            # unique per delivery; the same on redelivery
      "event": "membership.updated",     # or "member.updated" (no membership)
      "club_id": "AF-1203",              # Club Hub's club; LocationSettings.club_number
      "occurred_at": "2022-01-03T15:04:05Z",
      "member": {"member_id", "first_name", "last_name", "email", "mobile_phone",
                 "home_phone", "is_active"},
      "membership": {"membership_id", "pending", "sale_date", "start_date", "end_date",
                     "is_active", "plan_name", "recurring_amount"}
    }
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

_ID = Field(min_length=1, max_length=128)


class ClubHubEvent(StrEnum):
    MEMBER_UPDATED = "member.updated"
    MEMBERSHIP_UPDATED = "membership.updated"


class ClubHubMember(BaseModel):
    """A Club Hub member account. Two accounts of one person ("duplicate active members") are
    two of these with different ids and the same name and contact data."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    member_id: str = _ID
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    mobile_phone: str | None = None
    home_phone: str | None = None
    is_active: bool = True


class ClubHubMembership(BaseModel):
    """A membership of one account. `pending`: Anytime's temporary membership created at the
    time of sale, replaced later by the real one (new id, nothing linking the two)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    membership_id: str = _ID
    pending: bool
    sale_date: date
    start_date: date | None = None
    end_date: date | None = None
    is_active: bool = True
    plan_name: str | None = Field(default=None, max_length=200)
    recurring_amount: Decimal | None = None


class ClubHubDelivery(BaseModel):
    """One webhook delivery (also the unit a full pull yields, without delivery id)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    delivery_id: str = _ID
    event: ClubHubEvent
    club_id: str = _ID
    occurred_at: datetime
    member: ClubHubMember
    membership: ClubHubMembership | None = None

    @model_validator(mode="after")
    def _membership_when_announced(self) -> ClubHubDelivery:
        if self.event is ClubHubEvent.MEMBERSHIP_UPDATED and self.membership is None:
            raise ValueError("membership is required for membership.updated")
        return self
