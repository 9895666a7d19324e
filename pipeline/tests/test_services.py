"""The stage policy, enforced by the one stage-change service."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.exceptions import StaleVersionError
from core.models import OutboxEvent
from opportunities.models import Opportunity
from opportunities.services import opportunity_create, opportunity_move_stage, opportunity_update
from opportunities.tests.factories import OpportunityFactory
from pipeline.models import StageChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(rep, stages):
    return OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("1000.00"))


def move(deal, stage, user, **kwargs):
    return opportunity_move_stage(opportunity=deal, stage=stage, user=user, **kwargs)


def test_creating_a_deal_enters_its_first_stage_with_a_history_row(rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["Qualifying"])

    history = list(deal.stage_changes.all())
    assert len(history) == 1
    assert history[0].from_stage is None
    assert history[0].to_stage == stages["Qualifying"]
    assert history[0].changed_by == rep
    assert deal.probability == 20
    assert deal.status == "open"
    assert deal.closed_at is None


def test_a_new_deal_without_stage_starts_in_the_first_stage_of_the_default_pipeline(rep, stages):
    deal = OpportunityFactory(owner=rep)
    assert deal.stage == stages["New"]
    assert deal.probability == 10


def test_entering_an_open_stage_sets_its_default_probability(deal, rep, stages):
    moved = move(deal, stages["Demo scheduled"], rep)
    assert moved.probability == 25
    assert Opportunity.objects.get(pk=deal.pk).probability == 25


def test_a_probability_set_by_hand_is_kept_when_moving_between_open_stages(deal, rep, stages):
    deal = opportunity_update(opportunity=deal, user=rep, data={"probability": 60})
    assert deal.probability_is_manual

    moved = move(deal, stages["Demo scheduled"], rep)

    assert moved.probability == 60
    assert moved.probability_is_manual
    assert moved.stage_changes.order_by("-id").first().probability == 60


def test_winning_sets_certainty_stamps_closed_at_and_forgets_the_hand_set_probability(deal, rep, stages):
    deal = opportunity_update(opportunity=deal, user=rep, data={"probability": 60})
    before = timezone.now()

    won = move(deal, stages["Won"], rep)

    assert won.status == "won"
    assert won.probability == 100
    assert not won.probability_is_manual
    assert won.closed_at >= before


def test_losing_requires_a_lost_reason_and_changes_nothing_without_one(deal, rep, stages):
    with pytest.raises(ValidationError) as excinfo:
        move(deal, stages["Lost"], rep)

    assert "lost_reason" in excinfo.value.message_dict
    fresh = Opportunity.objects.get(pk=deal.pk)
    assert fresh.stage == stages["New"]
    assert fresh.version == deal.version
    assert fresh.stage_changes.count() == 1


def test_losing_with_a_reason_records_it_and_closes_the_deal(deal, rep, stages, lost_reason):
    lost = move(deal, stages["Lost"], rep, lost_reason=lost_reason, lost_note="Too expensive this year")

    assert lost.status == "lost"
    assert lost.probability == 0
    assert lost.lost_reason == lost_reason
    assert lost.lost_note == "Too expensive this year"
    assert lost.closed_at is not None
    assert lost.stage_changes.order_by("-id").first().lost_reason == lost_reason


def test_reopening_a_lost_deal_clears_closed_at_and_the_lost_reason(deal, rep, stages, lost_reason):
    lost = move(deal, stages["Lost"], rep, lost_reason=lost_reason)

    reopened = move(lost, stages["Qualifying"], rep)

    assert reopened.status == "open"
    assert reopened.closed_at is None
    assert reopened.lost_reason is None
    assert reopened.lost_note == ""
    assert reopened.probability == 20


def test_moving_from_won_to_lost_restamps_the_closing_date(deal, rep, stages, lost_reason):
    won = move(deal, stages["Won"], rep, at=timezone.now() - datetime.timedelta(days=3))
    lost = move(won, stages["Lost"], rep, lost_reason=lost_reason)
    assert lost.closed_at > won.closed_at


def test_every_stage_change_writes_one_history_row_with_amount_and_probability(deal, rep, stages):
    move(deal, stages["Qualifying"], rep)
    move(deal, stages["Demo scheduled"], rep)
    move(deal, stages["Won"], rep)

    rows = list(StageChange.objects.filter(opportunity=deal).order_by("id"))
    assert [(r.from_stage and r.from_stage.name, r.to_stage.name) for r in rows] == [
        (None, "New"),
        ("New", "Qualifying"),
        ("Qualifying", "Demo scheduled"),
        ("Demo scheduled", "Won"),
    ]
    assert [r.probability for r in rows] == [10, 20, 25, 100]
    assert all(r.amount == Decimal("1000.00") and r.changed_by == rep for r in rows)


def test_a_move_on_a_stale_version_is_refused_and_changes_nothing(deal, rep, manager, stages):
    first_copy_version = deal.version
    move(deal, stages["Qualifying"], manager, expected_version=first_copy_version)

    with pytest.raises(StaleVersionError) as excinfo:
        move(deal, stages["Won"], rep, expected_version=first_copy_version)

    assert excinfo.value.current.stage == stages["Qualifying"]
    fresh = Opportunity.objects.get(pk=deal.pk)
    assert fresh.stage == stages["Qualifying"]
    assert fresh.stage_changes.count() == 2


def test_each_move_bumps_the_version(deal, rep, stages):
    moved = move(deal, stages["Qualifying"], rep, expected_version=deal.version)
    assert moved.version == deal.version + 1


def test_moving_within_the_same_stage_only_reorders(deal, rep, stages):
    moved = move(deal, stages["New"], rep, position=42)
    assert moved.position == 42
    assert moved.version == deal.version
    assert moved.stage_changes.count() == 1


def test_a_moved_card_lands_on_top_of_its_new_column(rep, stages):
    first = OpportunityFactory(owner=rep, stage=stages["Qualifying"])
    second = OpportunityFactory(owner=rep, stage=stages["New"])
    moved = move(second, stages["Qualifying"], rep)
    assert moved.position < Opportunity.objects.get(pk=first.pk).position


def test_an_archived_deal_cannot_be_moved(deal, rep, stages):
    Opportunity.objects.filter(pk=deal.pk).update(archived_at=timezone.now())
    with pytest.raises(ValidationError):
        move(deal, stages["Won"], rep)


def test_a_stage_of_another_pipeline_is_refused_unless_that_pipeline_is_named(deal, rep, classic_stages):
    other = classic_stages["Quote sent"]
    with pytest.raises(ValidationError) as excinfo:
        move(deal, other, rep)
    assert "This stage belongs to another pipeline" in excinfo.value.message_dict["stage"][0]
    assert Opportunity.objects.get(pk=deal.pk).pipeline == deal.pipeline

    moved = move(deal, other, rep, pipeline=other.pipeline)  # the explicit pipeline + stage pair
    assert moved.pipeline == other.pipeline
    assert moved.probability == 60


def test_a_move_costs_a_fixed_number_of_queries(deal, rep, stages, django_assert_num_queries):
    # savepoint, lock, both stages, column top, update, history row, outbox event, release
    with django_assert_num_queries(8):
        move(deal.pk, stages["Qualifying"].pk, rep, expected_version=deal.version)


@pytest.mark.parametrize("stage", [999_999, "not a number", None])
def test_an_unknown_stage_is_a_clear_error(deal, rep, stage):
    with pytest.raises(ValidationError) as excinfo:
        move(deal, stage, rep)
    assert excinfo.value.message_dict == {"stage": ["This stage does not exist."]}
    assert Opportunity.objects.get(pk=deal.pk).stage == deal.stage


def test_side_effects_are_queued_in_the_outbox_in_the_same_transaction(deal, rep, stages, lost_reason):
    OutboxEvent.objects.all().delete()
    move(deal, stages["Lost"], rep, lost_reason=lost_reason)
    topics = sorted(OutboxEvent.objects.values_list("topic", flat=True))
    assert topics == ["opportunity.lost", "opportunity.stage_changed"]


def test_a_refused_move_queues_no_side_effect(deal, rep, stages):
    OutboxEvent.objects.all().delete()
    with pytest.raises(ValidationError):
        move(deal, stages["Lost"], rep)
    assert not OutboxEvent.objects.exists()


def test_side_effects_are_dispatched_once_after_commit(rep, stages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        deal = OpportunityFactory(owner=rep, stage=stages["New"])
        move(deal, stages["Won"], rep)
        # Nothing is delivered before the transaction commits.
        assert OutboxEvent.objects.filter(delivered_at__isnull=False).count() == 0
    # One dispatch for the whole transaction, however many events it wrote (created, 2 stage changes, won).
    assert OutboxEvent.objects.count() == 4
    assert len(callbacks) == 1


def test_editing_the_stage_in_the_form_goes_through_the_same_policy(deal, rep, stages, lost_reason):
    with pytest.raises(ValidationError):
        opportunity_update(opportunity=deal, user=rep, data={"stage": stages["Lost"]})

    updated = opportunity_update(
        opportunity=deal, user=rep, data={"stage": stages["Lost"], "lost_reason": lost_reason, "name": "Renamed"}
    )
    assert updated.status == "lost"
    assert updated.closed_at is not None
    assert updated.stage_changes.count() == 2


def test_a_deal_created_directly_as_won_is_closed(rep, stages):
    deal = opportunity_create(
        user=rep,
        name="Signed at first meeting",
        organization=OpportunityFactory(owner=rep).organization,
        stage=stages["Won"],
        amount=Decimal("500"),
    )
    assert deal.status == "won"
    assert deal.closed_at is not None
    assert deal.probability == 100
