"""Finding the CRM person a billing record belongs to (spec/duplicates-faq.txt).

Order: the billing system's unique id first; then an account with an identical full name and
the same email or the same phone (keys from `domain.match_keys`). docs/matching.md describes
the rules and their limits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from clubsync.domain.match_keys import DEFAULT_REGION, email_key, name_key, phone_keys
from clubsync.domain.people import ContactData, PersonKind
from clubsync.store.entities import PersonIndexEntry


class MatchedBy(StrEnum):
    BILLING_ID = "billing_id"
    NAME_AND_EMAIL = "name_and_email"
    NAME_AND_PHONE = "name_and_phone"


@dataclass(frozen=True)
class Match:
    person_id: str
    matched_by: MatchedBy


class MatchIndex:
    """Built once per sync from the location's person index; kept current as the sync
    creates and links people, so a record seen twice in one sync finds its first result.

    `default_region` is the location's country: incoming phones without a country code are read
    in it, as the stored keys were (`PersonIndexEntry.of`)."""

    def __init__(
        self, entries: Iterable[PersonIndexEntry] = (), default_region: str = DEFAULT_REGION
    ) -> None:
        self.default_region = default_region
        self._entries: dict[str, PersonIndexEntry] = {}
        self._by_billing_id: dict[str, str] = {}
        self._by_name_email: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._by_name_phone: dict[tuple[str, str], set[str]] = defaultdict(set)
        # How many entries carry each name key: a record whose name nobody has cannot match by
        # name, so its email and phone keys (phone parsing is the costly part) are never made.
        self._names: Counter[str] = Counter()
        for entry in entries:
            self.put(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, person_id: str) -> PersonIndexEntry | None:
        return self._entries.get(person_id)

    def put(self, entry: PersonIndexEntry) -> None:
        previous = self._entries.get(entry.person_id)
        if previous is not None:
            self._forget(previous)
        self._entries[entry.person_id] = entry
        if entry.billing_member_id:
            self._by_billing_id[entry.billing_member_id] = entry.person_id
        if entry.name_key:
            self._names[entry.name_key] += 1
            if entry.email_key:
                self._by_name_email[(entry.name_key, entry.email_key)].add(entry.person_id)
            for phone in entry.phone_keys:
                self._by_name_phone[(entry.name_key, phone)].add(entry.person_id)

    def _forget(self, entry: PersonIndexEntry) -> None:
        if (
            entry.billing_member_id
            and self._by_billing_id.get(entry.billing_member_id) == entry.person_id
        ):
            del self._by_billing_id[entry.billing_member_id]
        if entry.name_key:
            self._names[entry.name_key] -= 1
            if not self._names[entry.name_key]:
                del self._names[entry.name_key]
            if entry.email_key:
                self._by_name_email[(entry.name_key, entry.email_key)].discard(entry.person_id)
            for phone in entry.phone_keys:
                self._by_name_phone[(entry.name_key, phone)].discard(entry.person_id)

    def person_with_billing_id(self, billing_member_id: str) -> PersonIndexEntry | None:
        person_id = self._by_billing_id.get(billing_member_id)
        return self._entries[person_id] if person_id is not None else None

    def find(self, billing_member_id: str, contact: ContactData) -> Match | None:
        person_id = self._by_billing_id.get(billing_member_id)
        if person_id is not None:
            return Match(person_id, MatchedBy.BILLING_ID)
        name = name_key(contact.first_name, contact.last_name)
        if not name or name not in self._names:
            return None
        email = email_key(contact.email)
        if email:
            found = self._best(self._by_name_email.get((name, email), set()))
            if found:
                return Match(found, MatchedBy.NAME_AND_EMAIL)
        for phone in sorted(phone_keys(contact, self.default_region)):
            found = self._best(self._by_name_phone.get((name, phone), set()))
            if found:
                return Match(found, MatchedBy.NAME_AND_PHONE)
        return None

    def linked_to_another_account(self, billing_member_id: str, contact: ContactData) -> str | None:
        """A person linked to *another* billing account with an identical name and the same
        email or phone (the lowest id): what an agreement policy that joins duplicate accounts
        (Club Hub's) attaches a second account to. `find` never returns these."""
        name = name_key(contact.first_name, contact.last_name)
        if not name or name not in self._names:
            return None
        candidates: set[str] = set()
        email = email_key(contact.email)
        if email:
            candidates |= self._by_name_email.get((name, email), set())
        for phone in phone_keys(contact, self.default_region):
            candidates |= self._by_name_phone.get((name, phone), set())
        linked = [
            pid
            for pid in candidates
            if self._entries[pid].billing_member_id not in (None, "", billing_member_id)
        ]
        return min(linked, default=None)

    def _best(self, candidates: set[str]) -> str | None:
        """Only accounts not yet linked to a billing account can be matched by name: one linked
        to another billing id is a different billing account (a duplicate for the duplicate
        report, not for a silent merge). Prospects come first, then the oldest id."""
        unlinked = [
            self._entries[pid] for pid in candidates if not self._entries[pid].billing_member_id
        ]
        if not unlinked:
            return None
        unlinked.sort(key=lambda e: (e.kind is not PersonKind.PROSPECT, e.person_id))
        return unlinked[0].person_id
