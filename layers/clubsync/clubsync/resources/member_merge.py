"""Merging one billing member into the CRM: create, convert, update, or leave alone.

Pure: given the billing record, the matched person (if any) with their agreements and the
location's settings, it returns what to write. The rules themselves live in `domain.rules`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from clubsync.domain.agreement_policy import (
    ONE_CURRENT_AGREEMENT,
    AgreementPolicy,
    DuplicateAccountsFinding,
)
from clubsync.domain.billing import BillingMember
from clubsync.domain.follow_up_rules import status_after_membership_sale
from clubsync.domain.people import (
    ContactData,
    FollowUpStatus,
    MembershipAgreement,
    OptIns,
    Person,
    PersonKind,
)
from clubsync.domain.rules import (
    lead_notes_with,
    member_is_active,
    merge_contact,
    opt_ins_at_conversion,
)
from clubsync.domain.settings import LocationSettings

# Bump when the merge changes meaning, so every stored hash is treated as changed once.
MERGE_VERSION = 1

# Settings that change what a merge produces; part of the content hash so that changing one
# re-evaluates every record once.
_MERGE_SETTINGS = (
    "ignored_membership_types",
    "record_owner",
    "override_opt_ins_at_conversion",
    "count_renewals_as_new_agreements",
    "count_rewrites_as_new_agreements",
    "exclude_secondary_memberships",
)


class Outcome(StrEnum):
    CREATED = "created"
    CONVERTED = "converted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    IGNORED = "ignored"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class MergeResult:
    outcome: Outcome
    person: Person | None = None
    agreements: tuple[MembershipAgreement, ...] = ()
    reason: str = ""
    writes_person: bool = False
    # The agreement policy's own name for what it did ("replaced_pending"), if it ran.
    detail: str = ""
    findings: tuple[DuplicateAccountsFinding, ...] = ()


def canonical_content(member: BillingMember) -> bytes:
    """What of a billing member its content hash covers: the canonical record the provider's
    mapping produced, without its modification time. So a field the mapping does not carry
    (ABC's lastCheckInTimestamp, totalCheckInCount) or a bumped timestamp alone re-merges
    nothing, for every provider alike."""
    return member.model_dump_json(exclude=_NOT_HASHED).encode()


_NOT_HASHED = {"modified_at"}


def merge_fingerprint(settings: LocationSettings) -> bytes:
    """What besides the billing record decides a merge's result: the merge version and the
    settings that shape it. Part of every content hash, so changing one of those settings
    re-evaluates every member once."""
    relevant = settings.model_dump(mode="json", include=set(_MERGE_SETTINGS))
    return json.dumps([MERGE_VERSION, relevant], sort_keys=True).encode()


def person_id_for_billing_member(provider: str, billing_member_id: str) -> str:
    """People created from billing get a key made from the provider's own id, so a replay
    that creates them again writes the same item."""
    return f"{provider}-{billing_member_id}"


def merge_member(
    incoming: BillingMember,
    *,
    existing: Person | None,
    existing_agreements: Mapping[str, MembershipAgreement],
    settings: LocationSettings,
    provider: str,
    now: datetime,
    content_hash: str | None,
    agreement_owner: str | None = None,
    holder: MembershipAgreement | None = None,
    policy: AgreementPolicy = ONE_CURRENT_AGREEMENT,
    joined_account: bool = False,
) -> MergeResult:
    """`agreement_owner` is the person who already holds the incoming agreement (same id and
    sign date) at this location, if any; `holder` that agreement itself. `policy`: what the
    agreement does to the person's agreements (the provider's). `content_hash`: stored on the
    person (None: the provider's records are not one per person, the person carries none).
    `joined_account`: `existing` is linked to another billing account with the same name and
    email or phone, and the policy joins duplicate accounts: only the agreement is applied."""
    agreement = incoming.agreement
    if agreement_owner is None and holder is not None:
        agreement_owner = holder.person_id
    ignored_type = agreement is not None and settings.is_ignored_membership_type(
        agreement.agreement_type
    )
    if incoming.is_prospect:
        return MergeResult(
            Outcome.SKIPPED,
            reason="billing lists the account as a prospect; prospects come from the CRM",
        )
    own_id = (
        existing.person_id
        if existing
        else person_id_for_billing_member(provider, incoming.billing_member_id)
    )
    if agreement_owner is not None and agreement_owner != own_id:
        # One agreement, two billing accounts: keeping a second copy is the duplicated-agreement
        # bug (spec/clubhub-duplicated-agreements.txt). The agreement stays with its holder.
        held = (
            policy.held_by_another(own_id, incoming.billing_member_id, agreement, holder)
            if agreement is not None and holder is not None
            else None
        )
        return MergeResult(
            Outcome.SKIPPED,
            reason="agreement already belongs to another member account (duplicate accounts "
            "in billing)",
            detail="held_by_another_person",
            findings=(held,) if held else (),
        )
    if joined_account and existing is not None:
        return _joined(incoming, existing, existing_agreements, settings, now, policy)
    if existing is None:
        if ignored_type:
            return MergeResult(Outcome.IGNORED, reason=_ignored_reason(incoming))
        created = Person(
            person_id=own_id,
            location_id=settings.location_id,
            kind=PersonKind.MEMBER,
            follow_up_status=FollowUpStatus.NEW_MEMBER,
            created_from_billing=True,
            created_at=incoming.created_at or now,
        )
        return _as_member(
            created, incoming, {}, settings, now, content_hash, Outcome.CREATED, policy
        )
    if existing.kind is PersonKind.PROSPECT:
        if ignored_type:
            return MergeResult(Outcome.IGNORED, reason=_ignored_reason(incoming))
        if agreement is None:
            return MergeResult(
                Outcome.SKIPPED, reason="prospect has no membership agreement in billing yet"
            )
        converting = existing.model_copy(
            update={
                "kind": PersonKind.MEMBER,
                "follow_up_status": status_after_membership_sale(existing.follow_up_status),
                "converted_at": now,
                "is_active": False,
            }
        )
        return _as_member(
            converting,
            incoming,
            existing_agreements,
            settings,
            now,
            content_hash,
            Outcome.CONVERTED,
            policy,
        )
    result = _as_member(
        existing,
        incoming,
        existing_agreements,
        settings,
        now,
        content_hash,
        Outcome.UPDATED,
        policy,
    )
    unchanged = result.person is not None and _same_except_hash(result.person, existing)
    if unchanged and not result.agreements:
        return MergeResult(
            Outcome.UNCHANGED,
            person=result.person,
            reason=result.reason,
            writes_person=existing.source_hash != content_hash,
            detail=result.detail,
            findings=result.findings,
        )
    return result


def _joined(
    incoming: BillingMember,
    existing: Person,
    existing_agreements: Mapping[str, MembershipAgreement],
    settings: LocationSettings,
    now: datetime,
    policy: AgreementPolicy,
) -> MergeResult:
    """A second billing account of a person linked to another one (Club Hub's duplicate active
    accounts): its agreement goes through the policy, which never copies one; the person's own
    fields follow the account they are linked to, not this one. The accounts are a finding."""
    accounts = DuplicateAccountsFinding(
        membership_id="",
        sale_date=now.date(),
        accounts=tuple(sorted({incoming.billing_member_id, existing.billing_member_id or ""})),
        person_ids=(existing.person_id,),
    )
    if incoming.agreement is None:
        return MergeResult(Outcome.UNCHANGED, person=existing, findings=(accounts,))
    change = policy.apply(existing, existing_agreements, incoming.agreement, settings)
    person = existing.model_copy(
        update={
            "current_agreement_key": change.current_agreement_key,
            "agreement_keys": list(change.agreement_keys),
        }
    )
    changed = bool(change.agreements) or person != existing
    return MergeResult(
        Outcome.UPDATED if changed else Outcome.UNCHANGED,
        person=person,
        agreements=change.agreements,
        reason=change.reason,
        writes_person=person != existing,
        detail=change.detail,
        findings=(accounts, *((change.finding,) if change.finding else ())),
    )


def _ignored_reason(incoming: BillingMember) -> str:
    agreement_type = incoming.agreement.agreement_type if incoming.agreement else ""
    return f"membership type {agreement_type!r} is ignored at this location"


def _same_except_hash(left: Person, right: Person) -> bool:
    return left.model_copy(update={"source_hash": None}) == right.model_copy(
        update={"source_hash": None}
    )


def _as_member(
    base: Person,
    incoming: BillingMember,
    existing_agreements: Mapping[str, MembershipAgreement],
    settings: LocationSettings,
    now: datetime,
    content_hash: str | None,
    outcome: Outcome,
    policy: AgreementPolicy,
) -> MergeResult:
    becoming_member = outcome in (Outcome.CREATED, Outcome.CONVERTED)
    contact: ContactData = merge_contact(base.contact, incoming.contact, settings.record_owner)
    opt_ins: OptIns = (
        opt_ins_at_conversion(base.opt_ins, incoming.opt_ins, settings)
        if becoming_member
        else base.opt_ins
    )
    person = base.model_copy(
        update={
            "contact": contact,
            "opt_ins": opt_ins,
            "is_active": member_is_active(
                was_active=base.is_active,
                billing_is_active=incoming.is_active,
                alerts=incoming.alerts,
            ),
            "billing_member_id": incoming.billing_member_id,
            "billing_club": incoming.billing_club or base.billing_club,
            "marketing_source": base.marketing_source or incoming.marketing_source,
            "notes": lead_notes_with(base.notes, incoming.notes),
            # Billing's photo, as billing has it now (billing is where staff take it).
            "photo_url": incoming.photo_url or base.photo_url,
            "created_at": base.created_at or incoming.created_at,
            "join_date": base.join_date or incoming.join_date,
            "source_hash": content_hash,
        }
    )
    changed: tuple[MembershipAgreement, ...] = ()
    detail, reason = "", ""
    findings: tuple[DuplicateAccountsFinding, ...] = ()
    if incoming.agreement is not None:
        change = policy.apply(person, existing_agreements, incoming.agreement, settings)
        changed, detail, reason = change.agreements, change.detail, change.reason
        findings = (change.finding,) if change.finding else ()
        person = person.model_copy(
            update={
                "current_agreement_key": change.current_agreement_key,
                "agreement_keys": list(change.agreement_keys),
            }
        )
    return MergeResult(
        outcome,
        person=person,
        agreements=changed,
        reason=reason,
        writes_person=True,
        detail=detail,
        findings=findings,
    )
