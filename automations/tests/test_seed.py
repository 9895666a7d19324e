"""The demo ships three example rules, and they act on what happens after the seed, not before."""

import pytest
from django.core.management import call_command

from activities.models import Activity
from automations.models import Rule, RuleRun
from core.outbox import outbox_deliver_pending
from opportunities.models import Opportunity
from opportunities.services import opportunity_move_stage
from pipeline.models import Pipeline

pytestmark = pytest.mark.django_db


def test_seed_demo_ships_three_rules_that_fire_on_new_events_only():
    call_command("seed_demo", deals=12, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert sorted(Rule.objects.values_list("trigger", flat=True)) == ["lost", "stage_entered", "won"]
    assert not RuleRun.objects.exists()  # the demo's own history fired nothing
    demo = Pipeline.objects.default().stages.get(name="Demo scheduled")
    deal = Opportunity.objects.filter(status="open", pipeline=demo.pipeline).exclude(stage=demo).first()
    opportunity_move_stage(opportunity=deal, stage=demo, user=deal.owner)
    outbox_deliver_pending()
    assert Activity.objects.filter(opportunity=deal, subject="Prepare the demo", owner=deal.owner).exists()
