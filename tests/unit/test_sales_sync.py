"""POS transactions, member service agreements, marketing sources and the PT follow-up rules
(spec: "Point of Sale Transactions", "Member Service Agreement", "Marketing Sources",
"PT Follow-Up and Opportunity Data")."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clubsync.domain.activity import PtFollowUp
from clubsync.domain.follow_up_rules import (
    PtSignal,
    status_after_agreement_ended,
    status_after_session_used,
    status_after_signal,
)
from clubsync.domain.people import FollowUpStatus
from clubsync.domain.runs import SyncType
from clubsync.domain.sales import Invoice, InvoiceItemUse, MarketingSource, ServiceAgreement
from clubsync.domain.settings import LocationSettings, Product
from clubsync.domain.windows import Sweep
from clubsync.providers.abc.recurring_services import repeat_type, service_description
from clubsync.resources.pos import SKIP_NO_PROFIT_CENTER, SKIP_PRODUCT_NOT_LISTED
from clubsync.store.entities import EntityRepository
from clubsync.store.items import MemoryItemTable
from clubsync.store.records import (
    INVOICE_DAY_PREFIX,
    MARKETING_SOURCE_PREFIX,
    PT_FOLLOW_UP_PREFIX,
    SERVICE_AGREEMENT_PREFIX,
    RecordRepository,
)
from clubsync.store.state import StateRepository
from tests.unit.sync_type_helpers import (
    NOW,
    employee,
    event,
    pos,
    pos_item,
    run_type,
    service,
    source_for,
    sync_members,
)

WATER = Product(name="Water Bottle", upc="012345678905")


def load(entities: EntityRepository, prefix: str, model: type) -> dict:  # type: ignore[type-arg]
    return RecordRepository(entities.table).load("springfield", prefix, model)


@pytest.fixture
def shop(settings: LocationSettings, state: StateRepository) -> LocationSettings:
    configured = settings.model_copy(update={"products": (WATER,)})
    state.put_location(configured)
    return configured


def test_pos_keeps_only_items_of_configured_profit_centers_and_listed_products(
    shop: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    sync_members(shop, entities, state)
    run = run_type(
        SyncType.POS,
        shop,
        entities,
        state,
        [
            pos(
                "t1",
                [
                    pos_item("i1", "Water Bottle", "Pro Shop", upc="012345678905"),
                    pos_item("i2", "Protein Bar", "Pro Shop", upc="036000291452"),
                    pos_item("i3", "Towel Service", "Amenities"),
                ],
            ),
            pos("t2", [pos_item("i4", "Towel Service", "Amenities")]),
        ],
    )
    assert (run.counts.created, run.counts.skipped) == (1, 1)
    assert run.skip_reasons[SKIP_NO_PROFIT_CENTER] == 2
    assert run.skip_reasons[SKIP_PRODUCT_NOT_LISTED] == 1
    invoice = RecordRepository(entities.table).load_between(
        "springfield", INVOICE_DAY_PREFIX, date.min, None, Invoice
    )["t1"]
    assert [(i.system_id, i.use) for i in invoice.items] == [("i1", InvoiceItemUse.PRODUCT)]


def test_pos_item_of_pt_profit_center_adds_sessions_and_sets_pt_active(
    shop: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    sync_members(shop, entities, state)
    item = pos_item("i1", "PT 5 Pack", "Personal Training", packageQuantity="5")
    run_type(SyncType.POS, shop, entities, state, [pos("t1", [item])])
    (record,) = load(entities, PT_FOLLOW_UP_PREFIX, PtFollowUp).values()
    assert record.session_balance == 5
    assert record.status is FollowUpStatus.PT_ACTIVE


def test_pos_full_sync_covers_the_last_30_days_in_club_time(
    shop: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    source = source_for(SyncType.POS, shop, [])
    run_type(SyncType.POS, shop, entities, state, source)
    # 30 days before midnight of 2026-11-21 in Chicago: 2026-10-22 00:00 CDT.
    assert source.queries[0].start == datetime(2026, 10, 22, 5, 0, tzinfo=UTC)


def test_service_agreement_description_and_repeat_type() -> None:
    assert service_description("Personal Training", "Monthly Draft") == (
        "Personal Training - Monthly Draft"
    )
    assert service_description("Tanning", None) == "Tanning"
    assert repeat_type("Bi-Weekly") == "BIWEEKLY"
    assert repeat_type("Monthly") == "MONTHLY"
    assert repeat_type("Paid in Full") == "ONCE"
    assert repeat_type("Every full moon") is None


def test_service_agreements_sold_in_30_days_plus_modified_sweep(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    sync_members(settings, entities, state)
    source = source_for(SyncType.SERVICE_AGREEMENTS, settings, [service("s1")])
    run = run_type(SyncType.SERVICE_AGREEMENTS, settings, entities, state, source)
    sold, modified = source.queries
    assert (sold.sweep, sold.start) == (Sweep.OCCURRED, datetime(2026, 10, 22, 5, 0, tzinfo=UTC))
    assert modified.sweep is Sweep.MODIFIED
    # ABC's source turns each window into its own range parameter, in club-local time.
    assert source.translator.params(sold) == {"saleTimestampRange": "2026-10-22 00:00:00,"}
    assert set(source.translator.params(modified)) == {"lastModifiedTimestampRange"}
    # Both sweeps return it: merged once.
    assert (run.counts.created, run.counts.unchanged) == (1, 1)
    stored = load(entities, SERVICE_AGREEMENT_PREFIX, ServiceAgreement)["s1"]
    assert stored.description == "Personal Training - Monthly Draft"
    assert stored.repeat_type == "MONTHLY"
    (record,) = load(entities, PT_FOLLOW_UP_PREFIX, PtFollowUp).values()
    assert record.status is FollowUpStatus.PT_ACTIVE
    # The next sync sweeps modifications since the last one (minus the margin).
    source = source_for(SyncType.SERVICE_AGREEMENTS, settings, [service("s1", status="Inactive")])
    later = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    run = run_type(SyncType.SERVICE_AGREEMENTS, settings, entities, state, source, now=later)
    assert source.queries[1].start == datetime(2026, 11, 22, 2, 45, tzinfo=UTC)
    assert run.counts.updated == 1
    assert not load(entities, SERVICE_AGREEMENT_PREFIX, ServiceAgreement)["s1"].is_active


def test_session_balance_falling_below_threshold_makes_pt_opportunity(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    sync_members(settings, entities, state)
    run_type(SyncType.EMPLOYEES, settings, entities, state, [employee("e1")])
    run_type(SyncType.SERVICE_AGREEMENTS, settings, entities, state, [service("s1")])
    pack = pos_item("i1", "PT 2 Pack", "Personal Training", packageQuantity="2")
    run_type(SyncType.POS, settings, entities, state, [pos("t1", [pack])])
    run_type(SyncType.EVENTS, settings, entities, state, [event("v1", attended="Attended")])
    (record,) = load(entities, PT_FOLLOW_UP_PREFIX, PtFollowUp).values()
    assert record.session_balance == 1
    assert record.status is FollowUpStatus.PT_OPPORTUNITY


def test_follow_up_rules() -> None:
    assert status_after_signal(None, PtSignal.ORIENTATION_BOOKED) is FollowUpStatus.FC_BOOKED
    assert (
        status_after_signal(FollowUpStatus.FC_BOOKED, PtSignal.ORIENTATION_ATTENDED)
        is FollowUpStatus.PT_OPPORTUNITY
    )
    assert (
        status_after_signal(FollowUpStatus.PT_ACTIVE, PtSignal.ORIENTATION_BOOKED)
        is FollowUpStatus.PT_ACTIVE
    )
    assert status_after_signal(None, PtSignal.PT_PURCHASED) is FollowUpStatus.PT_ACTIVE
    assert (
        status_after_session_used(
            FollowUpStatus.PT_ACTIVE,
            has_active_agreement=True,
            balance_before=2,
            balance_after=1,
            opportunity_threshold=2,
        )
        is FollowUpStatus.PT_OPPORTUNITY
    )
    assert (
        status_after_session_used(
            FollowUpStatus.PT_ACTIVE,
            has_active_agreement=False,
            balance_before=2,
            balance_after=1,
            opportunity_threshold=2,
        )
        is FollowUpStatus.PT_ACTIVE
    )

    def ended(last_session: date) -> FollowUpStatus | None:
        return status_after_agreement_ended(
            FollowUpStatus.PT_ACTIVE,
            has_active_agreement=False,
            balance=0,
            last_session_day=last_session,
            today=date(2026, 11, 21),
            inactive_after_days=30,
        )

    assert ended(date(2026, 10, 1)) is FollowUpStatus.PT_INACTIVE
    assert ended(date(2026, 11, 20)) is FollowUpStatus.PT_ACTIVE


def test_marketing_sources_only_with_the_option_on(
    settings: LocationSettings, entities: EntityRepository, state: StateRepository
) -> None:
    campaigns = [
        {"campaignId": "c1", "campaignName": "Referral", "campaignType": "PON"},
        {"campaignId": "c2", "campaignName": "Radio", "campaignType": "MISC"},
    ]
    source = source_for(SyncType.MARKETING_SOURCES, settings, campaigns)
    run = run_type(SyncType.MARKETING_SOURCES, settings, entities, state, source)
    assert source.queries == [] and run.counts.fetched == 0
    enabled = settings.model_copy(update={"sync_marketing_sources": True})
    run = run_type(SyncType.MARKETING_SOURCES, enabled, entities, state, campaigns)
    assert run.counts.created == 2
    stored = load(entities, MARKETING_SOURCE_PREFIX, MarketingSource)
    assert stored["c1"].usable_for_prospects and not stored["c2"].usable_for_prospects


def test_sales_replay_writes_nothing(
    shop: LocationSettings,
    entities: EntityRepository,
    entity_table: MemoryItemTable,
    state: StateRepository,
) -> None:
    sync_members(shop, entities, state)
    enabled = shop.model_copy(update={"sync_marketing_sources": True})
    batches = {
        SyncType.POS: [pos("t1", [pos_item("i1", "PT", "Personal Training")])],
        SyncType.SERVICE_AGREEMENTS: [service("s1"), service("s2", item="Tanning")],
        SyncType.MARKETING_SOURCES: [{"campaignId": "c1", "campaignName": "R"}],
    }
    for sync_type, records in batches.items():
        run_type(sync_type, enabled, entities, state, records)
    entity_table.usage.reset()
    for sync_type, records in batches.items():
        run = run_type(sync_type, enabled, entities, state, records, now=NOW)
        assert run.counts.created == run.counts.updated == 0
    assert entity_table.usage.items_written == 0
