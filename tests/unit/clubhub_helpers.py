"""An in-memory location for Club Hub membership tests: people, agreements, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from clubsync.domain.people import ContactData, MembershipAgreement, Person, PersonKind
from clubsync.domain.settings import LocationSettings
from clubsync.providers.clubhub.mapping import MembershipObservation
from clubsync.providers.clubhub.memberships import (
    DuplicateAccountsFinding,
    MembershipChange,
    apply_membership,
)

LOCATION = "springfield"


# A Club Hub location: club 0451, as the deliveries of these tests name it.
CLUBHUB_LOCATION = LocationSettings(
    location_id="springfield",
    provider="clubhub",
    account={"club_id": "0451"},
    time_zone="America/Chicago",
)


def observation(
    account: str, membership: str, sold: date, *, pending: bool, active: bool = True
) -> MembershipObservation:
    return MembershipObservation(
        account_id=account,
        membership_id=membership,
        sale_date=sold,
        pending=pending,
        is_active=active,
        plan_name="Pending" if pending else "Monthly",
    )


@dataclass
class Location:
    """Applies observations the way the webhook service does: the account's person, the
    person's agreements, the holder of the key; then writes the change."""

    person_of_account: dict[str, str]
    people: dict[str, Person] = field(default_factory=dict)
    agreements: dict[str, MembershipAgreement] = field(default_factory=dict)
    findings: list[DuplicateAccountsFinding] = field(default_factory=list)
    writes: int = 0

    def __post_init__(self) -> None:
        for person_id in set(self.person_of_account.values()):
            self.people[person_id] = Person(
                person_id=person_id,
                location_id=LOCATION,
                kind=PersonKind.MEMBER,
                contact=ContactData(first_name="Mary", last_name="Member"),
            )

    def apply(self, seen: MembershipObservation) -> MembershipChange:
        person = self.people[self.person_of_account[seen.account_id]]
        own = {k: self.agreements[k] for k in person.agreement_keys}
        key = f"{seen.membership_id}#{seen.sale_date.isoformat()}"
        change = apply_membership(person, own, seen, holder=self.agreements.get(key))
        for agreement in change.puts:
            self.agreements[agreement.agreement_key] = agreement
        if change.person_changed:
            self.people[person.person_id] = change.person
        if change.finding:
            self.findings.append(change.finding)
        self.writes += len(change.puts) + int(change.person_changed)
        return change

    def ids(self) -> list[str]:
        """Live agreements (archived ones are out of analytics and reports)."""
        return sorted(a.system_id for a in self.agreements.values() if not a.archived)

    def of(self, person_id: str) -> list[str]:
        return sorted(
            f"{a.system_id}{'(pending)' if a.billing_status == 'pending' else ''}"
            for a in self.agreements.values()
            if a.person_id == person_id and not a.archived
        )

    def archived(self) -> list[str]:
        return sorted(a.system_id for a in self.agreements.values() if a.archived)
