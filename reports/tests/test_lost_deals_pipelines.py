import pytest

from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory
from reports.selectors import lost_deals_report

from .conftest import at

pytestmark = pytest.mark.django_db


def _lose(deal, user, *stages, reason):
    for stage, when in stages:
        deal = opportunity_move_stage(
            opportunity=deal, stage=stage, user=user, at=at(when), lost_reason=reason if stage.is_lost else None
        )


def test_lost_deals_keep_each_pipelines_stages_apart(rep, crm_admin, stages, classic_stages, lost_reason):
    """Issue 16: with no pipeline chosen, "By stage lost from" listed both pipelines' stages mixed."""
    s, c = stages, classic_stages
    _lose(
        OpportunityFactory(owner=rep),
        rep,
        (s["Qualifying"], "2024-01-03"),
        (s["Lost"], "2024-01-05"),
        reason=lost_reason,
    )
    classic = OpportunityFactory(owner=rep, stage=c["Prospecting"])
    _lose(classic, rep, (c["Quote sent"], "2024-01-03"), (c["Closed lost"], "2024-01-06"), reason=lost_reason)
    _lose(OpportunityFactory(owner=rep), rep, (s["Lost"], "2024-01-07"), reason=lost_reason)

    labels = [g.label for g in lost_deals_report(user=crm_admin, params={}).by_stage]
    assert labels == ["Sales pipeline › New", "Sales pipeline › Qualifying", "Classic pipeline › Quote sent"]

    one = lost_deals_report(user=crm_admin, params={"pipeline": str(c["Prospecting"].pipeline_id)})
    assert [g.label for g in one.by_stage] == ["Quote sent"]
