"""`GET /api/v1/opportunities/` reads its rows as plain values, not model instances: every row must
be exactly the dict DRF's field-by-field serializer builds for the same deal."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.tests.factories import ContactFactory
from opportunities.api.serializers import OpportunitySerializer
from opportunities.selectors import opportunity_get
from opportunities.services import opportunity_move_stage, opportunity_update
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied_deals(rep, teammate, stages, lost_reason):
    contact = ContactFactory(first_name="Ada", last_name="", owner=rep, organization=None)
    deals = [
        OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("1234.50"), next_step="Call"),
        OpportunityFactory(
            owner=teammate,
            organization=None,
            contact=contact,
            stage=stages["Qualifying"],
            amount=Decimal("0.05"),
            probability=33,  # set by hand
            expected_close_date=datetime.date(2026, 12, 31),
            currency="USD",  # no rate: no amount in the base currency
        ),
    ]
    lost = OpportunityFactory(owner=rep, stage=stages["Demo scheduled"], amount=Decimal("99.99"))
    deals.append(
        opportunity_move_stage(opportunity=lost, stage=stages["Lost"], user=rep, lost_reason=lost_reason, lost_note="x")
    )
    won = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("10.00"))
    deals.append(opportunity_move_stage(opportunity=won, stage=stages["Won"], user=rep))
    deals.append(opportunity_update(opportunity=deals[0].pk, user=rep, data={"description": "Long\ntext"}))
    return deals


@pytest.mark.parametrize("tz", ["Europe/Rome", "UTC", "America/New_York"])
def test_every_row_of_the_list_equals_the_serializers_representation(rep, varied_deals, settings, tz):
    settings.TIME_ZONE = tz
    api = APIClient()
    api.force_authenticate(rep)
    with timezone.override(tz):
        rows = api.get("/api/v1/opportunities/", {"page_size": 200}).json()["results"]
        assert len(rows) == len({d.pk for d in varied_deals})
        for row in rows:
            deal = opportunity_get(user=rep, pk=row["id"])
            serializer = OpportunitySerializer(deal)
            assert row == serializer.to_representation_by_fields(deal)
            assert row == serializer.to_representation(deal)


@pytest.mark.parametrize("rows", [3, 60])
def test_a_filtered_page_costs_the_same_queries_whatever_its_size(rep, stages, rows, django_assert_num_queries):
    for _ in range(rows):
        OpportunityFactory(owner=rep, stage=stages["New"])
    api = APIClient()
    api.force_authenticate(rep)
    # the user's managed teams (visibility), the count, the page of rows with their joins, their tags
    with django_assert_num_queries(4):
        response = api.get("/api/v1/opportunities/", {"page_size": 200, "q": "Deal"})
    assert response.status_code == 200 and len(response.json()["results"]) == rows
