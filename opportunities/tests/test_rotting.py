"""Rotting (issue 18): per-stage days to rot, counted from the later of entering the stage and the
last done activity; the "no planned activity" marker; both as filters and home counts."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.services import activity_create, activity_set_done
from activities.tests.factories import ActivityFactory
from opportunities.models import Opportunity
from opportunities.services import opportunity_move_stage
from opportunities.services.rotting import stage_rot_days_apply
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _age(deal, days):
    """The deal entered its stage ``days`` ago (as the stage service would have recorded it)."""
    at = timezone.now() - days * DAY
    Opportunity.objects.filter(pk=deal.pk).update(
        stage_entered_at=at, rots_at=at + deal.stage.stale_after_days * DAY if deal.stage.stale_after_days else None
    )
    deal.refresh_from_db()
    return deal


def test_a_deal_rots_after_its_stage_days_and_a_done_activity_restarts_the_clock(rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])  # rots after 7 days
    assert deal.rots_at is not None and not deal.is_stale
    deal = _age(deal, 8)
    assert deal.is_stale
    assert list(Opportunity.objects.rotten()) == [deal]

    activity = activity_create(user=rep, subject="Call", opportunity=deal, due_at=timezone.now())
    activity = activity_set_done(activity=activity, user=rep)
    deal.refresh_from_db()
    assert not deal.is_stale
    assert deal.last_activity_at == activity.done_at
    assert deal.rots_at == activity.done_at + 7 * DAY
    assert not Opportunity.objects.rotten().exists()


def test_won_and_lost_deals_never_rot(rep, stages, lost_reason):
    deal = _age(OpportunityFactory(owner=rep, stage=stages["New"]), 30)
    won = opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=rep, expected_version=deal.version)
    assert won.rots_at is None and not won.is_stale
    assert stages["Won"].stale_after_days is None and stages["Lost"].stale_after_days is None


def test_a_won_stage_refuses_days_to_rot(stages):
    from django.core.exceptions import ValidationError

    stage = stages["Won"]
    stage.stale_after_days = 5
    with pytest.raises(ValidationError) as excinfo:
        stage.full_clean()
    assert "stale_after_days" in excinfo.value.message_dict


def test_moving_to_another_stage_restarts_the_clock(rep, stages):
    deal = _age(OpportunityFactory(owner=rep, stage=stages["New"]), 10)
    moved = opportunity_move_stage(
        opportunity=deal, stage=stages["Qualifying"], user=rep, expected_version=deal.version
    )
    assert not moved.is_stale
    assert moved.rots_at == moved.stage_entered_at + 14 * DAY


def test_changing_a_stages_days_recomputes_its_deals(rep, stages):
    deal = _age(OpportunityFactory(owner=rep, stage=stages["Qualifying"]), 10)  # 14 days: fresh
    assert not deal.is_stale
    stage = stages["Qualifying"]
    stage.stale_after_days = 5
    stage.save()
    assert stage_rot_days_apply(stage) == 1
    deal.refresh_from_db()
    assert deal.is_stale
    stage.stale_after_days = None
    stage.save()
    stage_rot_days_apply(stage)
    deal.refresh_from_db()
    assert deal.rots_at is None and not deal.is_stale


def _kpi(html: str, name: str) -> str:
    return re.search(rf'data-kpi="{name}">([^<]*)<', html).group(1).strip()


def test_the_list_and_board_filter_rotten_deals_and_deals_with_nothing_planned(client, rep, stages):
    rotten = _age(OpportunityFactory(owner=rep, stage=stages["New"], name="Rotten one"), 9)
    planned = OpportunityFactory(owner=rep, stage=stages["New"], name="Planned one")
    ActivityFactory(owner=rep, opportunity=planned)
    OpportunityFactory(owner=rep, stage=stages["New"], name="Idle one")
    client.force_login(rep)

    html = client.get(reverse("opportunities:list"), {"rotten": "on"}).content.decode()
    assert "Rotten one" in html and "Planned one" not in html and "Idle one" not in html
    assert html.count("data-stale") == 1

    html = client.get(reverse("opportunities:list"), {"no_next_activity": "on"}).content.decode()
    assert "Rotten one" in html and "Idle one" in html and "Planned one" not in html
    assert html.count("data-no-next-activity") == 2

    html = client.get(reverse("pipeline:board"), {"rotten": "on"}).content.decode()
    assert "Rotten one" in html and "Planned one" not in html
    html = client.get(reverse("pipeline:board"), {"no_next_activity": "on"}).content.decode()
    assert "Idle one" in html and "Planned one" not in html

    html = client.get(reverse("home")).content.decode()
    assert _kpi(html, "rotten") == "1"
    assert _kpi(html, "no-next-activity") == "2"
    assert rotten.pk


def test_the_api_filters_rotten_deals(client, rep, stages):
    _age(OpportunityFactory(owner=rep, stage=stages["New"], name="Rotten one"), 9)
    OpportunityFactory(owner=rep, stage=stages["New"], name="Fresh one")
    client.force_login(rep)
    response = client.get("/api/v1/opportunities/", {"rotten": "true"})
    assert response.status_code == 200, response.content
    names = [row["name"] for row in response.json()["results"]]
    assert names == ["Rotten one"]


@pytest.mark.parametrize("count", [3, 30])
def test_markers_and_filters_keep_the_list_and_board_budgets(client, rep, stages, count, django_assert_num_queries):
    for index in range(count):
        deal = OpportunityFactory(owner=rep, stage=stages["New"])
        if index % 2:
            _age(deal, 9)
    client.force_login(rep)
    client.get(reverse("opportunities:list"))
    # the page's rows, their count (no kept totals answer these filters), the filter form's widgets
    with django_assert_num_queries(6):
        client.get(reverse("opportunities:list"), {"rotten": "on", "no_next_activity": "on"})
    client.get(reverse("pipeline:board"))
    with django_assert_num_queries(9):
        client.get(reverse("pipeline:board"), {"rotten": "on", "no_next_activity": "on"})
