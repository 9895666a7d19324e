"""The benchmark generator writes valid data: every constraint holds and the stage policy is kept."""

import io

import pytest
from django.db.models import Count, Q

from bench.generate import generate
from opportunities.models import Opportunity
from pipeline.models import StageChange

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_generate_a_small_valid_data_set(pipeline):
    result = generate(open_deals=300, closed_deals=700, out=io.StringIO())

    assert Opportunity.objects.count() == 1000
    assert Opportunity.objects.filter(status="open").count() == 300
    assert not Opportunity.objects.filter(status="lost", lost_reason__isnull=True).exists()
    assert not Opportunity.objects.filter(~Q(status="open"), closed_at__isnull=True).exists()
    # Every deal's history starts with one entry row and ends in its current stage.
    firsts = StageChange.objects.filter(from_stage=None).values("opportunity").annotate(n=Count("id"))
    assert firsts.count() == 1000 and all(row["n"] == 1 for row in firsts)
    sample = Opportunity.objects.order_by("?")[:20]
    for deal in sample:
        assert deal.stage_changes.order_by("changed_at", "id").last().to_stage_id == deal.stage_id
        assert deal.probability == deal.stage.probability
    assert result["stage_changes"] == StageChange.objects.count()
