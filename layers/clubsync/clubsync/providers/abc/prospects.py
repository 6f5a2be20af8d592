"""The prospect push to ABC: `ProspectTarget` over `AbcClient` (reference/abc-api.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from clubsync.domain.people import ContactData, Person
from clubsync.providers.abc.client import (
    AbcClient,
    AbcError,
    AbcOutcomeUnknown,
    AbcRejected,
    abc_range,
)
from clubsync.providers.abc.prospect_mapping import (
    is_salesperson_rejection,
    prospect_request,
    to_abc_prospect,
)
from clubsync.providers.prospects import (
    BillingProspect,
    PushOutcomeUnknown,
    PushRejected,
    PushTransient,
    SalespersonRefused,
)


@contextmanager
def _translated_errors() -> Iterator[None]:
    """ABC's errors as the push's: rejected, unknown outcome, or transient."""
    try:
        yield
    except AbcRejected as error:
        if is_salesperson_rejection(str(error)):
            raise SalespersonRefused(str(error)) from error
        raise PushRejected(str(error)) from error
    except AbcOutcomeUnknown as error:
        raise PushOutcomeUnknown(str(error)) from error
    except AbcError as error:
        raise PushTransient(str(error)) from error


class AbcProspectTarget:
    provider = "abc"

    def __init__(self, client: AbcClient, zone: ZoneInfo) -> None:
        self.client = client
        self.zone = zone
        self._campaign_types: dict[str, str] | None = None

    def create(self, person: Person, salesperson_id: str) -> str:
        body = prospect_request(to_abc_prospect(person, salesperson_id, create=True))
        with _translated_errors():
            billing_id = self.client.post_prospect(body)
        return billing_id

    def update(self, billing_id: str, person: Person, salesperson_id: str) -> None:
        body = prospect_request(to_abc_prospect(person, salesperson_id, create=False))
        with _translated_errors():
            self.client.put_prospect(billing_id, body)

    def created_since(self, since: datetime) -> list[BillingProspect]:
        params = {
            "joinStatus": "prospect",
            "createdTimestampRange": abc_range(since, None, self.zone),
        }
        found: list[BillingProspect] = []
        with _translated_errors():
            for page in self.client.iter_pages("/members", "members", params):
                for record in page.records:
                    personal = record.get("personal") or {}
                    contact = ContactData(
                        first_name=personal.get("firstName"),
                        last_name=personal.get("lastName"),
                        email=personal.get("email"),
                        mobile_phone=personal.get("mobilePhone"),
                        home_phone=personal.get("primaryPhone"),
                    )
                    found.append(BillingProspect(str(record.get("memberId", "")), contact))
        return found

    def campaign_type(self, campaign_id: str) -> str | None:
        if self._campaign_types is None:
            # Campaigns change rarely: read once per target (one Lambda invocation).
            types: dict[str, str] = {}
            with _translated_errors():
                for page in self.client.iter_pages("/clubs/campaigns", "campaigns", {}):
                    for record in page.records:
                        types[str(record.get("campaignId", ""))] = str(
                            record.get("campaignType", "")
                        )
            self._campaign_types = types
        return self._campaign_types.get(campaign_id)
