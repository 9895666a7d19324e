"""Small hand-built data: every figure of the reports can be worked out on paper from it."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from opportunities.services import opportunity_line_add
from opportunities.tests.factories import OpportunityFactory
from products.tests.factories import ProductFactory


def at(day: str, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.fromisoformat(day).replace(hour=hour))


def closed_deal(owner, stage, amount, created, closed, *, lost_reason=None, currency="EUR", product=None, **extra):
    deal = OpportunityFactory(
        owner=owner,
        stage=stage,
        amount=Decimal(amount),
        currency=currency,
        created_at=at(created),
        closed_at=at(closed),
        lost_reason=lost_reason,
        **extra,
    )
    if product is not None:
        opportunity_line_add(opportunity=deal, user=owner, product=product, unit_price=Decimal(amount))
    return deal


@pytest.fixture
def products(db):
    return {"Alpha": ProductFactory(name="Alpha"), "Beta": ProductFactory(name="Beta")}


@pytest.fixture
def closed_deals(rep, teammate, other_rep, stages, lost_reason, products):
    """Team Nord: rep won 1000.00 (10 days) and 500.25 (30 days), lost 300.10; teammate lost
    200.00 and won USD 700.00 (no USD rate: not convertible). Team Sud: other_rep won 999.00."""
    won, lost = stages["Won"], stages["Lost"]
    return {
        "a": closed_deal(
            rep,
            won,
            "1000.00",
            "2024-01-01",
            "2024-01-11",
            product=products["Alpha"],
            type="new_business",
            lead_source="website",
        ),
        "b": closed_deal(
            rep,
            won,
            "500.25",
            "2024-01-05",
            "2024-02-04",
            product=products["Beta"],
            type="existing_business",
            lead_source="referral",
        ),
        "c": closed_deal(
            rep,
            lost,
            "300.10",
            "2024-01-20",
            "2024-02-10",
            lost_reason=lost_reason,
            product=products["Alpha"],
            type="new_business",
            lead_source="website",
        ),
        "d": closed_deal(
            teammate,
            lost,
            "200.00",
            "2024-03-01",
            "2024-04-02",
            lost_reason=lost_reason,
            type="new_business",
        ),
        "e": closed_deal(teammate, won, "700.00", "2024-03-01", "2024-04-03", currency="USD", type="new_business"),
        "f": closed_deal(other_rep, won, "999.00", "2024-02-01", "2024-03-01", product=products["Beta"]),
    }
