"""People and agreements in the entities table (keys: docs/data-model.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from clubsync.domain.match_keys import DEFAULT_REGION, email_key, name_key, phone_key, phone_keys
from clubsync.domain.people import MembershipAgreement, Person, PersonKind
from clubsync.store.items import Item, ItemTable, Key
from clubsync.store.tables import BILLING_ID_INDEX

PERSON_PREFIX = "PERSON#"
AGREEMENT_PREFIX = "AGREEMENT#"
# Version of the keys in the `match` attribute. 1 (no marker): phones as their last ten digits;
# 2: phones in E.164. Version 1 entries are converted when read (see `from_item`).
MATCH_KEYS_VERSION = 2


def location_pk(location_id: str) -> str:
    return f"LOC#{location_id}"


def person_key(location_id: str, person_id: str) -> Key:
    return (location_pk(location_id), f"{PERSON_PREFIX}{person_id}")


def agreement_key_of(location_id: str, agreement_key: str) -> Key:
    return (location_pk(location_id), f"{AGREEMENT_PREFIX}{agreement_key}")


def billing_id_index_key(location_id: str, billing_member_id: str) -> str:
    return f"BILLING#{location_id}#{billing_member_id}"


def name_index_key(location_id: str, name: str) -> str:
    """The by-billing-id index also holds the people *not* linked to billing, by name key:
    what a partial member sync matches a new billing record against (spec: identical full
    name and the same email or phone), without reading the location's whole person index."""
    return f"NAME#{location_id}#{name}"


# Written by the full member sync once every unlinked person of the location carries its
# name entry (people stored before there were any get it then); until it exists, a partial
# sync reads the whole person index as before.
NAME_INDEX_MARKER = "PERSONINDEX#names"


@dataclass(frozen=True, slots=True)
class PersonIndexEntry:
    """What the sync keeps in memory for every person of a location, read once per sync:
    enough to match billing records and to skip unchanged ones without reading whole items.
    The match keys are stored on each person item as one compact attribute (`match`)."""

    person_id: str
    kind: PersonKind
    billing_member_id: str | None = None
    source_hash: str | None = None
    raw_hash: str | None = None
    name_key: str | None = None
    email_key: str | None = None
    phone_keys: tuple[str, ...] = ()

    @classmethod
    def of(cls, person: Person, default_region: str = DEFAULT_REGION) -> PersonIndexEntry:
        """`default_region`: the location's country, for phone numbers without a country code."""
        contact = person.contact
        return cls(
            person_id=person.person_id,
            kind=person.kind,
            billing_member_id=person.billing_member_id,
            source_hash=person.source_hash,
            raw_hash=person.raw_hash,
            name_key=name_key(contact.first_name, contact.last_name),
            email_key=email_key(contact.email),
            phone_keys=phone_keys(contact, default_region),
        )

    def match_attribute(self) -> str:
        """The match keys as one compact value; id, billing id and hash are attributes already."""
        keys = [
            self.kind.value,
            self.name_key,
            self.email_key,
            list(self.phone_keys),
            MATCH_KEYS_VERSION,
        ]
        return json.dumps(keys, separators=(",", ":"))

    @classmethod
    def from_item(cls, item: Item, default_region: str = DEFAULT_REGION) -> PersonIndexEntry:
        kind, name, email, phones, *version = json.loads(item["match"])
        if not version:
            # Written before phones were E.164: the stored key is the number's last ten digits,
            # which read in the location's region gives the new key for national numbers (all
            # of a US club's). The item gets the new keys the next time it is written.
            phones = sorted({key for p in phones if (key := phone_key(p, default_region))})
        return cls(
            person_id=item["sk"].removeprefix(PERSON_PREFIX),
            kind=PersonKind(kind),
            billing_member_id=item.get("billing_member_id"),
            source_hash=item.get("source_hash"),
            raw_hash=item.get("raw_hash"),
            name_key=name,
            email_key=email,
            phone_keys=tuple(phones),
        )


_INDEX_PROJECTION = ("sk", "billing_member_id", "source_hash", "raw_hash", "match")


def person_to_item(
    person: Person, default_region: str = DEFAULT_REGION, entry: PersonIndexEntry | None = None
) -> Item:
    """`entry`: the person's index entry if the caller made it already (its phone keys are
    the costly part: parsed once per record)."""
    if entry is None or entry.person_id != person.person_id:
        entry = PersonIndexEntry.of(person, default_region)
    item: Item = {
        "pk": location_pk(person.location_id),
        "sk": f"{PERSON_PREFIX}{person.person_id}",
        "entity": "person",
        # Empty fields are left out: a person stays under 1 KB, one write unit.
        **person.model_dump(mode="json", exclude_none=True),
        "match": entry.match_attribute(),
    }
    if person.billing_member_id:
        item["gsi1pk"] = billing_id_index_key(person.location_id, person.billing_member_id)
        item["gsi1sk"] = item["sk"]
    elif name := name_key(person.contact.first_name, person.contact.last_name):
        item["gsi1pk"] = name_index_key(person.location_id, name)
        item["gsi1sk"] = item["sk"]
    return item


def agreement_to_item(agreement: MembershipAgreement) -> Item:
    return {
        "pk": location_pk(agreement.location_id),
        "sk": f"{AGREEMENT_PREFIX}{agreement.agreement_key}",
        "entity": "agreement",
        **agreement.model_dump(mode="json", exclude_none=True),
    }


def _fields(item: Item, model: type[BaseModel]) -> dict[str, Any]:
    return {name: item[name] for name in model.model_fields if name in item}


class EntityRepository:
    def __init__(self, table: ItemTable) -> None:
        self.table = table

    def person_index(
        self, location_id: str, default_region: str = DEFAULT_REGION
    ) -> list[PersonIndexEntry]:
        # One query for the whole location, projected to four attributes: read units are those
        # of whole items, but parsing four values per person instead of every field is what
        # keeps the daily full sync of an unchanged club cheap.
        return [
            PersonIndexEntry.from_item(item, default_region)
            for item in self.table.query(location_pk(location_id), PERSON_PREFIX, _INDEX_PROJECTION)
        ]

    def person_of_billing_id(self, location_id: str, billing_member_id: str) -> str | None:
        """The person linked to a billing id, by the by-billing-id index (eventually
        consistent: a person linked in the last second may not be found yet)."""
        key = billing_id_index_key(location_id, billing_member_id)
        for entry in self.table.query_index(BILLING_ID_INDEX, key):
            if entry["sk"].startswith(PERSON_PREFIX):
                return str(entry["sk"].removeprefix(PERSON_PREFIX))
        return None

    def unlinked_named(self, location_id: str, name: str) -> list[str]:
        """Person ids of the people not linked to billing with this name key (the index)."""
        return [
            str(entry["sk"].removeprefix(PERSON_PREFIX))
            for entry in self.table.query_index(BILLING_ID_INDEX, name_index_key(location_id, name))
            if entry["sk"].startswith(PERSON_PREFIX)
        ]

    def people_missing_name_entry(self, location_id: str) -> list[str]:
        """Unlinked people stored before the index held names (see `NAME_INDEX_MARKER`)."""
        return [
            item["sk"].removeprefix(PERSON_PREFIX)
            for item in self.table.query(
                location_pk(location_id), PERSON_PREFIX, (*_INDEX_PROJECTION, "gsi1pk")
            )
            if not item.get("billing_member_id")
            and "gsi1pk" not in item
            and json.loads(item["match"])[1]
        ]

    def name_index_ready(self, location_id: str) -> bool:
        return self.table.get((location_pk(location_id), NAME_INDEX_MARKER)) is not None

    def mark_name_index_ready(self, location_id: str) -> None:
        self.table.put({"pk": location_pk(location_id), "sk": NAME_INDEX_MARKER})

    def get_people(self, location_id: str, person_ids: Iterable[str]) -> dict[str, Person]:
        items = self.table.batch_get([person_key(location_id, pid) for pid in person_ids])
        people = (Person.model_validate(_fields(item, Person)) for item in items)
        return {person.person_id: person for person in people}

    def get_agreements(
        self, location_id: str, agreement_keys: Iterable[str]
    ) -> dict[str, MembershipAgreement]:
        items = self.table.batch_get([agreement_key_of(location_id, k) for k in agreement_keys])
        agreements = (
            MembershipAgreement.model_validate(_fields(i, MembershipAgreement)) for i in items
        )
        return {agreement.agreement_key: agreement for agreement in agreements}

    def save(
        self,
        people: Sequence[Person] = (),
        agreements: Sequence[MembershipAgreement] = (),
        default_region: str = DEFAULT_REGION,
    ) -> None:
        self.table.batch_write(
            [person_to_item(person, default_region) for person in people]
            + [agreement_to_item(agreement) for agreement in agreements]
        )

    def people(self, location_id: str) -> list[Person]:
        return [
            Person.model_validate(_fields(item, Person))
            for item in self.table.query(location_pk(location_id), PERSON_PREFIX)
        ]

    def agreements(self, location_id: str) -> list[MembershipAgreement]:
        return [
            MembershipAgreement.model_validate(_fields(item, MembershipAgreement))
            for item in self.table.query(location_pk(location_id), AGREEMENT_PREFIX)
        ]
