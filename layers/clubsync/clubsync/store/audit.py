"""Duplicate handling in the state table: the audit trail of resolutions, the stored weekly
duplicate reports and billing findings (keys: docs/duplicates.md).

| item                  | pk             | sk                                        |
|-----------------------|----------------|-------------------------------------------|
| resolution audit      | `LOC#{loc}`    | `AUDIT#{timestamp}#{audit_id}`            |
| weekly report result  | `LOC#{loc}`    | `DUPLICATES#{date}`                       |
| billing finding       | `LOC#{loc}`    | `FINDING#{provider}#{subject}`            |

Findings are written by the member sync (`finding_item`), from its agreement policy.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clubsync.domain.agreement_policy import DuplicateAccountsFinding
from clubsync.store.entities import location_pk
from clubsync.store.items import Item, ItemTable

AUDIT_PREFIX = "AUDIT#"
REPORT_PREFIX = "DUPLICATES#"
FINDING_PREFIX = "FINDING#"
REPORT_RETENTION = timedelta(days=400)


class ItemChange(BaseModel):
    """One entities-table item before and after a resolution: what makes it reversible."""

    model_config = ConfigDict(extra="forbid")

    key: tuple[str, str]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audit_id: str
    location_id: str
    at: datetime
    action: str
    group_id: str
    reason: str = ""
    changes: list[ItemChange] = Field(default_factory=list)
    undone_at: datetime | None = None
    undoes: str | None = Field(default=None, description="The audit id this entry reverted.")


class AuditRepository:
    def __init__(self, table: ItemTable) -> None:
        self.table = table

    def put(self, entry: AuditEntry) -> None:
        self.table.put(
            {
                "pk": location_pk(entry.location_id),
                "sk": f"{AUDIT_PREFIX}{entry.at.isoformat()}#{entry.audit_id}",
                **entry.model_dump(mode="json"),
            }
        )

    def entries(self, location_id: str) -> list[AuditEntry]:
        return [
            AuditEntry.model_validate(_model_fields(item, AuditEntry))
            for item in self.table.query(location_pk(location_id), AUDIT_PREFIX)
        ]

    def get(self, location_id: str, audit_id: str) -> AuditEntry | None:
        # Audit ids are unique and a location has few resolutions: a query, not an index.
        return next((e for e in self.entries(location_id) if e.audit_id == audit_id), None)

    # -- weekly reports ------------------------------------------------------------------------
    def put_report(self, location_id: str, report_date: str, report: dict[str, Any]) -> None:
        self.table.put(
            {
                "pk": location_pk(location_id),
                "sk": f"{REPORT_PREFIX}{report_date}",
                "expires_at": int(
                    (datetime.fromisoformat(report_date) + REPORT_RETENTION).timestamp()
                ),
                "report": report,
            }
        )

    def has_report(self, location_id: str, report_date: str) -> bool:
        return (
            self.table.get((location_pk(location_id), f"{REPORT_PREFIX}{report_date}")) is not None
        )

    def reports(self, location_id: str) -> list[dict[str, Any]]:
        return [
            item["report"] for item in self.table.query(location_pk(location_id), REPORT_PREFIX)
        ]

    # -- billing findings ----------------------------------------------------------------------
    def findings(self, location_id: str) -> list[Item]:
        return list(self.table.query(location_pk(location_id), FINDING_PREFIX))


def _model_fields(item: Item, model: type[BaseModel]) -> dict[str, Any]:
    return {name: item[name] for name in model.model_fields if name in item}


def finding_item(
    location_id: str, provider: str, finding: DuplicateAccountsFinding, now: datetime
) -> Item:
    """A duplicate-accounts finding in the state table, one per membership + sale date (or per
    set of accounts), read by the duplicate report (features/duplicates.py). Ids only."""
    subject = (
        f"MEMBERSHIP#{finding.membership_id}#{finding.sale_date.isoformat()}"
        if finding.membership_id
        else f"ACCOUNTS#{'+'.join(finding.accounts)}"
    )
    return {
        "pk": location_pk(location_id),
        "sk": f"{FINDING_PREFIX}{provider}#{subject}",
        "provider": provider,
        "membership_id": finding.membership_id,
        "sale_date": finding.sale_date.isoformat(),
        "accounts": list(finding.accounts),
        "person_ids": list(finding.person_ids),
        "reason": finding.reason,
        "seen_at": now.isoformat(),
    }
