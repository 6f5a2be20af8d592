"""The JSON the Club Hub sandbox writes: its own copy of the shape, so it never imports the
client it fakes (providers/clubhub/wire.py is clubsync's side of the same shape; the sandbox's
tests read what it writes with clubsync's models)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

_ID = Field(min_length=1, max_length=128)


class SandboxMember(BaseModel):
    """A member account; two accounts of one person are Club Hub's duplicate active members."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    member_id: str = _ID
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    mobile_phone: str | None = None
    home_phone: str | None = None
    is_active: bool = True


class SandboxMembership(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    membership_id: str = _ID
    pending: bool
    sale_date: date
    start_date: date | None = None
    end_date: date | None = None
    is_active: bool = True
    plan_name: str | None = None
    recurring_amount: Decimal | None = None
