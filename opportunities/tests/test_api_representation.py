"""The deal list's fast representation (plain values) is the same as DRF's field by field one.
(Moved from integrations/tests/test_api.py: it tests the opportunities' serializer.)"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone as tz_utils

from opportunities.api.serializers import OpportunitySerializer
from opportunities.selectors import opportunity_get
from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("tz", ["Europe/Rome", "UTC"])
def test_the_fast_deal_representation_equals_drfs_field_by_field_one(rep, stages, lost_reason, settings, tz):
    settings.TIME_ZONE = tz
    tz_utils.activate(tz)
    deal = OpportunityFactory(
        owner=rep,
        stage=stages["New"],
        amount=Decimal("1234.50"),
        expected_close_date=datetime.date(2026, 12, 31),
        next_step="Call",
    )
    opportunity_move_stage(opportunity=deal, stage=stages["Lost"], user=rep, lost_reason=lost_reason, lost_note="x")
    for obj in (opportunity_get(user=rep, pk=deal.pk), OpportunityFactory(owner=rep, stage=stages["New"])):
        serializer = OpportunitySerializer(obj)
        assert serializer.to_representation(obj) == serializer.to_representation_by_fields(obj)
    tz_utils.deactivate()
