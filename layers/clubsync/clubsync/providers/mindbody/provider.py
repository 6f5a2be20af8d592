"""Mindbody as a `Provider` (docs/providers/mindbody.md): a location's account is its site
(SiteId), its credentials the integrator's API key and the site's staff login; it pulls clients
(members and prospects), staff, visits (check-ins and events) and packs, and takes prospects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.runs import SyncType
from clubsync.providers.base import (
    Capabilities,
    ConnectContext,
    MemberSource,
    RecordSource,
    SourceError,
)
from clubsync.providers.mindbody.budget import DailyCallBudget
from clubsync.providers.mindbody.client import (
    MindbodyClient,
    MindbodyClientConfig,
    MindbodyCredentials,
    MindbodyError,
)
from clubsync.providers.mindbody.contact_logs import MindbodyContactLogTarget
from clubsync.providers.mindbody.members import MindbodyMemberSource
from clubsync.providers.mindbody.prospects import MindbodyProspectTarget
from clubsync.providers.mindbody.sales_detail import SalesDetail
from clubsync.providers.mindbody.site import site_zone_mismatch
from clubsync.providers.mindbody.sources import billing_prospect_source, mindbody_record_source
from clubsync.providers.mindbody.wire import MbSite
from clubsync.providers.prospects import NO_PROSPECT_RULES, ProspectRules

# Mindbody's free allowance is quoted as 1,000 calls a day per key [one]; a site gets it all
# unless its account says otherwise (docs/providers/mindbody.md, "Call budget").
DEFAULT_DAILY_CALL_BUDGET = 1000


class MindbodySite(BaseModel):
    """A location's Mindbody site and its per-location options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site_id: str = Field(
        pattern=r"^-?\d{1,10}$", description="Mindbody SiteId ('-99' is Mindbody's sandbox site)."
    )
    daily_call_budget: int = Field(
        default=DEFAULT_DAILY_CALL_BUDGET,
        ge=1,
        description="Most Mindbody calls this site's syncs may make in one UTC day.",
    )
    # The "sales detail" mode: service categories whose non-contract sales convert a client.
    # A location's account holds strings and numbers only: the category ids comma-separated.
    sales_detail_categories: str = Field(
        default="",
        pattern=r"^(\d+(,\d+)*)?$",
        description="Mindbody service category ids, comma-separated ('3,8'); empty: off.",
    )
    sales_detail_lookback_days: int = Field(default=365, ge=1, le=3650)


class MindbodyConnection:
    provider = "mindbody"

    def __init__(
        self,
        site: MindbodySite,
        client: MindbodyClient,
        context: ConnectContext,
        budget: DailyCallBudget | None,
        now: Callable[[], datetime],
    ) -> None:
        self.site = site
        self.client = client
        self.context = context
        self.budget = budget
        self._now = now

    def member_source(self) -> MemberSource:
        sales_detail = None
        if self.site.sales_detail_categories:
            sales_detail = SalesDetail(
                self.client,
                frozenset(int(c) for c in self.site.sales_detail_categories.split(",")),
                lookback_days=self.site.sales_detail_lookback_days,
                now=self._now,
            )
        zone = self.context.location.zone
        return MindbodyMemberSource(
            self.client,
            zone,
            sales_detail=sales_detail,
            now=self._now,
        )

    def record_source(self, sync_type: SyncType) -> RecordSource:
        source: RecordSource = mindbody_record_source(
            sync_type, self.client, self.context.location.zone, self.context.location.location_id
        )
        return source

    def prospect_target(self) -> MindbodyProspectTarget:
        return MindbodyProspectTarget(self.client, self.context.location.zone)

    def prospect_source(self) -> RecordSource:
        source: RecordSource = billing_prospect_source(self.client, self.context.location.zone)
        return source

    def contact_log_target(self) -> MindbodyContactLogTarget:
        return MindbodyContactLogTarget(self.client)

    def check_zone(self) -> str | None:
        try:
            records = self.client.get_all(
                "/site/sites", "Sites", {"request.siteIds": self.site.site_id}
            )
        except MindbodyError as error:
            raise SourceError(str(error)) from error
        sites = [MbSite.model_validate(r) for r in records if isinstance(r.get("Id"), int)]
        site = next((s for s in sites if str(s.id) == self.site.site_id), None)
        return site_zone_mismatch(site, self.context.location.zone, site_id=self.site.site_id)

    def close(self) -> None:
        if self.budget is not None:
            self.budget.record(self.client.request_count)
        self.client.close()


class MindbodyProvider:
    name: ClassVar[str] = "mindbody"
    account_model: ClassVar[type[BaseModel]] = MindbodySite
    credentials_model: ClassVar[type[BaseModel]] = MindbodyCredentials
    prospect_rules: ClassVar[ProspectRules] = NO_PROSPECT_RULES
    capabilities: ClassVar[Capabilities] = Capabilities(
        pulls=frozenset(
            {
                SyncType.MEMBERS,
                SyncType.EMPLOYEES,
                SyncType.CHECKINS,
                SyncType.EVENTS,
                SyncType.SERVICE_AGREEMENTS,
            }
        ),
        prospect_push=True,
    )

    def connect(
        self, account: MindbodySite, credentials: MindbodyCredentials, context: ConnectContext
    ) -> MindbodyConnection:
        now: Callable[[], datetime] = context.clock or (lambda: datetime.now(UTC))
        budget = None
        if context.call_ledger is not None:
            budget = DailyCallBudget(
                context.call_ledger, f"mindbody#{account.site_id}", account.daily_call_budget, now
            )
        if budget is not None:
            spent = budget.spent()
            call_budget = max(0, account.daily_call_budget - spent)
            source = (
                f"{account.daily_call_budget} calls a day, {spent} spent on {budget.day} UTC "
                "before this run"
            )
        else:
            call_budget = account.daily_call_budget
            source = f"{call_budget} calls, this run's whole daily budget"
        client = MindbodyClient(
            account.site_id,
            credentials,
            MindbodyClientConfig(**context.options),
            call_budget=call_budget,
            budget_source=source,
            transport=context.transport,
            seconds_left=context.seconds_left,
            # The connection's clock: a token's Expires is read against the same time.
            now=now,
        )
        return MindbodyConnection(account, client, context, budget, now)
