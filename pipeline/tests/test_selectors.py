import datetime
from decimal import Decimal

import pytest

from core.services import exchange_rate_set
from opportunities.deal_filters import DealFilters
from opportunities.services import opportunity_archive, opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory
from pipeline.selectors import pipeline_summary

pytestmark = pytest.mark.django_db


def test_summary_counts_and_sums_every_deal_of_each_stage(rep, other_rep, pipeline, stages):
    OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("100.10"))
    OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("200.20"))
    OpportunityFactory(owner=rep, stage=stages["Demo scheduled"], amount=Decimal("1000.00"))
    won = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("50.00"))
    opportunity_move_stage(opportunity=won, stage=stages["Won"], user=rep)
    archived = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("999.00"))
    opportunity_archive(opportunity=archived, user=rep)
    OpportunityFactory(owner=other_rep, stage=stages["New"], amount=Decimal("7.00"))

    summary = {row.stage.name: row for row in pipeline_summary(user=rep, pipeline=pipeline, filters=DealFilters())}

    assert list(summary) == [s.name for s in pipeline.stages.order_by("order")]
    assert (summary["New"].count, summary["New"].amount, summary["New"].weighted) == (
        2,
        Decimal("300.30"),
        Decimal("30.03"),
    )
    assert (summary["Demo scheduled"].amount, summary["Demo scheduled"].weighted) == (
        Decimal("1000.00"),
        Decimal("250.00"),
    )
    assert (summary["Won"].count, summary["Won"].weighted) == (1, Decimal("50.00"))
    assert summary["Lost"].count == 0


def test_amounts_without_a_rate_are_listed_apart_per_currency(rep, crm_admin, pipeline, stages):
    OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("100.00"))
    OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("40.00"), currency="USD")
    exchange_rate_set(currency="CHF", valid_from=datetime.date(2000, 1, 1), rate=Decimal("1.10"))
    OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("10.00"), currency="CHF")

    new = pipeline_summary(user=crm_admin, pipeline=pipeline, filters=DealFilters())[0]

    assert new.count == 3
    assert new.amount == Decimal("111.00")  # 100 EUR + 10 CHF × 1.10, never the 40 USD
    assert new.unconverted == {"USD": Decimal("40.00")}


@pytest.mark.parametrize("count", [2, 20])
def test_summary_query_count_does_not_depend_on_deals(
    rep, crm_admin, pipeline, stages, count, django_assert_num_queries
):
    for _ in range(count):
        OpportunityFactory(owner=rep, stage=stages["Qualifying"])
    with django_assert_num_queries(2):  # the kept totals, the stages
        pipeline_summary(user=crm_admin, pipeline=pipeline, filters=DealFilters(owners=(rep.pk,)))
    with django_assert_num_queries(3):  # the deals (two sums), the stages
        pipeline_summary(user=crm_admin, pipeline=pipeline, filters=DealFilters(search="Deal"))
