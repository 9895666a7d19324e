"""Moving many deals at once (``opportunities_move_stage_bulk``, what a bulk action calls) does to
each deal what ``opportunity_move_stage`` does to one: the stage policy, one history row, a new
version, the events; it refuses what the caller may not change with a reason, and the totals the
database keeps stay equal to the deals."""

from decimal import Decimal

import pytest

from core.exceptions import ValidationError
from core.models import OutboxEvent
from opportunities.models import Opportunity
from opportunities.services import (
    opportunities_move_stage_bulk,
    opportunity_archive,
    opportunity_move_stage,
)
from opportunities.tests.factories import OpportunityFactory
from opportunities.tests.test_rollups import assert_totals_agree
from pipeline.models import StageChange

pytestmark = pytest.mark.django_db

# What a move changes on a deal, compared between the one-deal and the many-deal paths.
POLICY_FIELDS = (
    "pipeline_id",
    "stage_id",
    "status",
    "probability",
    "probability_is_manual",
    "lost_reason_id",
    "lost_note",
    "lost_from_stage_id",
    "version",
    "amount_base",
    "stages_entered",
)


def test_moves_every_deal_with_one_history_row_each_and_keeps_totals(manager, rep, teammate, stages):
    deals = [OpportunityFactory(owner=owner, stage=stages["New"]) for owner in (rep, teammate) * 5]
    before = StageChange.objects.count()

    result = opportunities_move_stage_bulk(
        opportunities=[d.pk for d in deals], stage=stages["Demo scheduled"], user=manager
    )

    assert (len(result.moved), len(result.unchanged), result.refused) == (10, 0, {})
    assert StageChange.objects.count() - before == 10
    assert set(
        StageChange.objects.filter(opportunity__in=deals, to_stage=stages["Demo scheduled"]).values_list(
            "opportunity", "from_stage", "changed_by"
        )
    ) == {(d.pk, stages["New"].pk, manager.pk) for d in deals}
    moved = Opportunity.objects.filter(pk__in=[d.pk for d in deals])
    assert {(o.stage_id, o.version) for o in moved} == {(stages["Demo scheduled"].pk, 2)}
    assert (
        OutboxEvent.objects.filter(
            topic="opportunity.stage_changed", payload__to_stage=stages["Demo scheduled"].pk
        ).count()
        == 10
    )
    assert_totals_agree()


def test_same_policy_as_moving_one_deal(manager, rep, stages, lost_reason):
    one = OpportunityFactory(owner=rep, stage=stages["Demo scheduled"], amount=Decimal("2500.00"))
    many = OpportunityFactory(owner=rep, stage=stages["Demo scheduled"], amount=Decimal("2500.00"))
    Opportunity.objects.filter(pk__in=[one.pk, many.pk]).update(probability=55, probability_is_manual=True)

    opportunity_move_stage(opportunity=one.pk, stage=stages["Lost"], user=manager, lost_reason=lost_reason)
    opportunities_move_stage_bulk(
        opportunities=[many.pk], stage=stages["Lost"], user=manager, lost_reason=lost_reason.pk
    )

    one.refresh_from_db()
    many.refresh_from_db()
    assert [getattr(many, f) for f in POLICY_FIELDS] == [getattr(one, f) for f in POLICY_FIELDS]
    assert many.closed_at is not None and many.probability == 0
    assert OutboxEvent.objects.filter(topic="opportunity.lost", payload__opportunity__id=many.pk).count() == 1
    assert_totals_agree()


def test_refuses_what_the_caller_may_not_change_and_counts_it(rep, teammate, other_rep, stages, classic_stages):
    mine = [OpportunityFactory(owner=rep, stage=stages["New"]) for _ in range(3)]
    theirs = [OpportunityFactory(owner=teammate, stage=stages["New"]), OpportunityFactory(owner=other_rep)]
    archived = OpportunityFactory(owner=rep, stage=stages["New"])
    opportunity_archive(opportunity=archived.pk, user=rep)
    already = OpportunityFactory(owner=rep, stage=stages["Demo scheduled"])
    elsewhere = OpportunityFactory(owner=rep, stage=classic_stages["Prospecting"])
    ids = [d.pk for d in [*mine, *theirs, archived, already, elsewhere]] + [999_999]

    result = opportunities_move_stage_bulk(opportunities=ids, stage=stages["Demo scheduled"].pk, user=rep)

    assert sorted(result.moved) == sorted(d.pk for d in mine)
    assert result.unchanged == [already.pk]
    assert set(result.refused) == {*(d.pk for d in theirs), archived.pk, elsewhere.pk, 999_999}
    assert "only its owner and their managers" in result.refused[theirs[0].pk]
    assert "archived" in result.refused[archived.pk]
    assert "another pipeline" in result.refused[elsewhere.pk]
    assert Opportunity.objects.filter(pk__in=[d.pk for d in theirs], stage=stages["Demo scheduled"]).count() == 0
    assert StageChange.objects.filter(to_stage=stages["Demo scheduled"]).count() == 4  # 3 moved + `already`
    assert_totals_agree()


def test_a_lost_stage_needs_a_reason_and_nothing_moves_without_one(rep, stages):
    deals = [OpportunityFactory(owner=rep, stage=stages["New"]) for _ in range(2)]
    with pytest.raises(ValidationError) as refused:
        opportunities_move_stage_bulk(opportunities=[d.pk for d in deals], stage=stages["Lost"], user=rep)
    assert "lost_reason" in refused.value.message_dict
    with pytest.raises(ValidationError) as missing:
        opportunities_move_stage_bulk(opportunities=[d.pk for d in deals], stage=0, user=rep)
    assert "stage" in missing.value.message_dict
    assert Opportunity.objects.filter(pk__in=[d.pk for d in deals], stage=stages["New"]).count() == 2


def test_moved_cards_go_on_top_of_the_column_in_order(rep, stages):
    waiting = OpportunityFactory(owner=rep, stage=stages["Demo scheduled"])
    deals = [OpportunityFactory(owner=rep, stage=stages["New"]) for _ in range(3)]
    opportunities_move_stage_bulk(opportunities=[d.pk for d in deals], stage=stages["Demo scheduled"], user=rep)
    column = Opportunity.objects.filter(stage=stages["Demo scheduled"]).order_by("position", "pk")
    assert list(column.values_list("pk", flat=True)) == [*(d.pk for d in deals), waiting.pk]


def test_queries_do_not_grow_with_the_deals(rep, stages, django_assert_num_queries):
    few = [OpportunityFactory(owner=rep, stage=stages["New"]).pk for _ in range(2)]
    more = [OpportunityFactory(owner=rep, stage=stages["New"]).pk for _ in range(12)]
    # stage, lock, editable, current stages, column top, UPDATE, history INSERT, outbox INSERT and
    # the savepoint pair of the atomic block.
    with django_assert_num_queries(10):
        opportunities_move_stage_bulk(opportunities=few, stage=stages["Demo scheduled"].pk, user=rep)
    with django_assert_num_queries(10):
        opportunities_move_stage_bulk(opportunities=more, stage=stages["Demo scheduled"].pk, user=rep)
