"""People and agreements in the entities table (keys: docs/data-model.md)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from clubsync.domain.people import ContactData, MembershipAgreement, Person, PersonKind
from clubsync.store.items import Item, ItemTable, Key

PERSON_PREFIX = "PERSON#"
AGREEMENT_PREFIX = "AGREEMENT#"


def location_pk(location_id: str) -> str:
    return f"LOC#{location_id}"


def person_key(location_id: str, person_id: str) -> Key:
    return (location_pk(location_id), f"{PERSON_PREFIX}{person_id}")


def agreement_key_of(location_id: str, agreement_key: str) -> Key:
    return (location_pk(location_id), f"{AGREEMENT_PREFIX}{agreement_key}")


def billing_id_index_key(location_id: str, billing_member_id: str) -> str:
    return f"BILLING#{location_id}#{billing_member_id}"


class PersonIndexEntry(BaseModel):
    """The few attributes of a person the sync reads for every person of a location, once per
    sync, to match and to skip unchanged records without reading whole items."""

    model_config = ConfigDict(frozen=True)

    person_id: str
    kind: PersonKind
    billing_member_id: str | None = None
    source_hash: str | None = None
    contact: ContactData = ContactData()


def person_to_item(person: Person) -> Item:
    item: Item = {
        "pk": location_pk(person.location_id),
        "sk": f"{PERSON_PREFIX}{person.person_id}",
        "entity": "person",
        **person.model_dump(mode="json"),
    }
    if person.billing_member_id:
        item["gsi1pk"] = billing_id_index_key(person.location_id, person.billing_member_id)
        item["gsi1sk"] = item["sk"]
    return item


def agreement_to_item(agreement: MembershipAgreement) -> Item:
    return {
        "pk": location_pk(agreement.location_id),
        "sk": f"{AGREEMENT_PREFIX}{agreement.agreement_key}",
        "entity": "agreement",
        **agreement.model_dump(mode="json"),
    }


def _fields(item: Item, model: type[BaseModel]) -> dict[str, Any]:
    return {name: item[name] for name in model.model_fields if name in item}


class EntityRepository:
    def __init__(self, table: ItemTable) -> None:
        self.table = table

    def person_index(self, location_id: str) -> list[PersonIndexEntry]:
        # One query for the whole location; items are read whole (a projection saves network
        # but not read units in DynamoDB, and costs moto twice the time).
        return [
            PersonIndexEntry.model_validate(item)
            for item in self.table.query(location_pk(location_id), PERSON_PREFIX)
        ]

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
    ) -> None:
        self.table.batch_write(
            [person_to_item(person) for person in people]
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
