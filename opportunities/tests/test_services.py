import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.exceptions import StaleVersionError
from core.models import OutboxEvent
from core.outbox import outbox_deliver_pending
from core.services import exchange_rate_set
from opportunities.models import Opportunity
from opportunities.services import (
    opportunity_archive,
    opportunity_line_add,
    opportunity_lines_total,
    opportunity_move_stage,
    opportunity_restore,
    opportunity_update,
)
from opportunities.tests.factories import OpportunityFactory
from products.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(rep, stages):
    return OpportunityFactory(owner=rep, stage=stages["Qualifying"], amount=Decimal("1000.00"))


def test_update_changes_fields_bumps_the_version_and_reports_what_changed(deal, rep):
    updated = opportunity_update(
        opportunity=deal, user=rep, data={"name": "  Bigger deal ", "amount": Decimal("2500.00")}
    )
    assert updated.name == "Bigger deal"
    assert updated.version == deal.version + 1
    assert updated.changes == {
        "name": (deal.name, "Bigger deal"),
        "amount": (Decimal("1000.00"), Decimal("2500.00")),
    }
    assert OutboxEvent.objects.filter(topic="opportunity.updated").count() == 1


def test_update_without_change_saves_nothing(deal, rep):
    same = opportunity_update(opportunity=deal, user=rep, data={"name": deal.name})
    assert same.version == deal.version
    assert same.changes == {}


def test_an_edit_made_on_a_stale_copy_is_refused_and_nothing_is_overwritten(deal, rep, manager):
    opened_version = deal.version
    opportunity_update(
        opportunity=deal, user=manager, data={"next_step": "Call Monday"}, expected_version=opened_version
    )

    with pytest.raises(StaleVersionError):
        opportunity_update(
            opportunity=deal, user=rep, data={"next_step": "Send quote"}, expected_version=opened_version
        )

    assert Opportunity.objects.get(pk=deal.pk).next_step == "Call Monday"


def test_an_edit_after_a_move_by_someone_else_is_refused(deal, rep, manager, stages):
    opened_version = deal.version
    opportunity_move_stage(opportunity=deal, stage=stages["Demo scheduled"], user=manager)
    with pytest.raises(StaleVersionError):
        opportunity_update(opportunity=deal, user=rep, data={"amount": Decimal(1)}, expected_version=opened_version)


def test_changing_the_probability_marks_it_as_set_by_hand(deal, rep):
    updated = opportunity_update(opportunity=deal, user=rep, data={"probability": 35})
    assert updated.probability == 35
    assert updated.probability_is_manual


def test_resetting_the_probability_returns_to_the_stage_default(deal, rep):
    deal = opportunity_update(opportunity=deal, user=rep, data={"probability": 35})
    reset = opportunity_update(opportunity=deal, user=rep, data={"probability_is_manual": False})
    assert reset.probability == 20
    assert not reset.probability_is_manual


def test_fields_owned_by_the_stage_service_cannot_be_set_directly(deal, rep):
    with pytest.raises(ValidationError) as excinfo:
        opportunity_update(opportunity=deal, user=rep, data={"status": "won", "closed_at": timezone.now()})
    assert set(excinfo.value.message_dict) == {"status", "closed_at"}


def test_archiving_keeps_the_deal_and_its_history_and_restore_brings_it_back(deal, rep):
    archived = opportunity_archive(opportunity=deal, user=rep)
    assert archived.is_archived
    assert not Opportunity.objects.active().filter(pk=deal.pk).exists()
    assert archived.stage_changes.count() == 1

    with pytest.raises(ValidationError):
        opportunity_update(opportunity=deal, user=rep, data={"name": "Edited while archived"})

    restored = opportunity_restore(opportunity=deal, user=rep)
    assert not restored.is_archived
    assert Opportunity.objects.active().filter(pk=deal.pk).exists()


def test_lines_total_and_default_price_from_the_product(deal, rep):
    product = ProductFactory(unit_price=Decimal("480.00"))
    opportunity_line_add(opportunity=deal, user=rep, product=product, quantity=Decimal(3), discount_percent=Decimal(10))
    opportunity_line_add(opportunity=deal, user=rep, description="Set-up", unit_price=Decimal("99.90"))
    assert opportunity_lines_total(deal) == Decimal("1395.90")  # 1440 × 0.9 + 99.90


def test_a_line_without_product_needs_a_price(deal, rep):
    with pytest.raises(ValidationError) as excinfo:
        opportunity_line_add(opportunity=deal, user=rep, description="Something")
    assert "unit_price" in excinfo.value.message_dict


# --- Amounts in the base currency ----------------------------------------------------------------


def test_a_deal_in_the_base_currency_needs_no_rate(deal):
    assert deal.amount_base == Decimal("1000.00")


def test_a_deal_in_another_currency_without_rate_has_no_converted_amount(rep, stages):
    deal = OpportunityFactory(owner=rep, currency="USD", amount=Decimal("100.00"))
    assert deal.amount_base is None


def test_converted_amounts_use_the_rate_valid_on_the_reference_date(rep, stages):
    exchange_rate_set(currency="USD", valid_from=datetime.date(2026, 1, 1), rate=Decimal("0.90"))
    exchange_rate_set(currency="USD", valid_from=datetime.date(2026, 6, 1), rate=Decimal("0.80"))
    deal = OpportunityFactory(
        owner=rep, currency="USD", amount=Decimal("100.00"), expected_close_date=datetime.date(2026, 3, 15)
    )
    assert deal.amount_base == Decimal("90.00")

    won = opportunity_move_stage(
        opportunity=deal,
        stage=stages["Won"],
        user=rep,
        at=timezone.make_aware(datetime.datetime(2026, 7, 2, 10, 0)),
    )
    assert won.amount_base == Decimal("80.00")


def test_a_new_rate_recomputes_converted_amounts_through_the_outbox(rep, stages):
    deal = OpportunityFactory(owner=rep, currency="CHF", amount=Decimal("200.00"))
    assert deal.amount_base is None

    exchange_rate_set(currency="CHF", valid_from=datetime.date(2020, 1, 1), rate=Decimal("1.05"))
    outbox_deliver_pending()

    assert Opportunity.objects.get(pk=deal.pk).amount_base == Decimal("210.00")
