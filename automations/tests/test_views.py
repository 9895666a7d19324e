"""The rules pages: list with last runs, create with ordered actions, switch off, preview."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from automations.models import ActionKind, Rule, RuleAction, RuleRun, Trigger
from automations.services import rule_save
from core.outbox import outbox_deliver_pending
from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def _post_data(stages, team, **extra):
    data = {
        "name": "Demo",
        "enabled": "on",
        "team": team.pk,
        "trigger": Trigger.STAGE_ENTERED,
        "trigger_stage": stages["Demo scheduled"].pk,
        "actions-TOTAL_FORMS": "2",
        "actions-INITIAL_FORMS": "0",
        "actions-MIN_NUM_FORMS": "0",
        "actions-MAX_NUM_FORMS": "10",
        "actions-0-kind": ActionKind.CREATE_ACTIVITY,
        "actions-0-text": "Prepare the demo",
        "actions-0-activity_kind": "task",
        "actions-0-due_days": "2",
        "actions-0-recipient": "owner",
        "actions-1-kind": ActionKind.NOTIFY,
        "actions-1-text": "Demo!",
        "actions-1-recipient": "manager",
    }
    data.update(extra)
    return data


def test_a_manager_creates_a_rule_with_ordered_actions(client, manager, stages, team):
    client.force_login(manager)
    assert client.get(reverse("automations:create")).status_code == 200
    response = client.post(reverse("automations:create"), _post_data(stages, team))
    assert response.status_code == 302, response.content.decode()[:3000]
    rule = Rule.objects.get()
    assert rule.created_by == manager and rule.team == team and rule.trigger_stage == stages["Demo scheduled"]
    assert list(rule.actions.values_list("position", "kind")) == [(0, "create_activity"), (1, "notify")]


def test_the_form_names_what_is_missing(client, manager, stages, team):
    client.force_login(manager)
    data = _post_data(stages, team, trigger_stage="", **{"actions-0-text": ""})
    response = client.post(reverse("automations:create"), data)
    assert response.status_code == 200 and not Rule.objects.exists()
    assert "Choose the stage." in response.content.decode()


@pytest.mark.parametrize("rules", [1, 3])
def test_the_list_shows_last_runs_with_errors_in_constant_queries(
    client, manager, rep, stages, django_assert_num_queries, rules
):
    for index in range(rules):
        rule_save(
            user=manager,
            team=manager.team,
            name=f"Regola {index}",
            trigger=Trigger.WON,
            actions=[RuleAction(kind=ActionKind.MOVE_STAGE, stage=stages["Lost"])],
        )
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Affare Rossi")
    opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=rep)
    outbox_deliver_pending()
    assert RuleRun.objects.count() == rules
    client.force_login(manager)
    # session, user, teams, the rules, their actions, their last runs (one window query)
    with django_assert_num_queries(6):
        html = client.get(reverse("automations:list")).content.decode()
    assert html.count("Affare Rossi") == rules and "Choose why the deal was lost." in html


def test_switching_a_rule_off_and_on(client, manager, stages):
    rule = rule_save(user=manager, team=manager.team, name="R", trigger=Trigger.CREATED, actions=[])
    client.force_login(manager)
    client.post(reverse("automations:toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert not rule.enabled
    client.post(reverse("automations:toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.enabled


def test_preview_lists_the_deals_of_the_last_30_days_that_would_have_matched(client, manager, rep, stages):
    rule = rule_save(
        user=manager,
        team=manager.team,
        name="Demo",
        trigger=Trigger.STAGE_ENTERED,
        trigger_stage=stages["Demo scheduled"],
        amount_min=Decimal("500"),
        actions=[],
    )
    big = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("900"), name="Grande")
    small = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("100"), name="Piccolo")
    old = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("900"), name="Vecchio")
    for deal in (big, small):
        opportunity_move_stage(opportunity=deal, stage=stages["Demo scheduled"], user=rep)
    opportunity_move_stage(
        opportunity=old, stage=stages["Demo scheduled"], user=rep, at=timezone.now() - datetime.timedelta(days=40)
    )
    client.force_login(manager)
    html = client.get(reverse("automations:preview", args=[rule.pk])).content.decode()
    assert "Grande" in html and "Piccolo" not in html and "Vecchio" not in html


def test_the_pages_in_italian(client, manager, stages):
    manager.language = "it"
    manager.save()
    rule_save(user=manager, team=manager.team, name="R", trigger=Trigger.CREATED, actions=[])
    client.force_login(manager)
    html = client.get(reverse("automations:list"), HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Regole automatiche" in html and "Anteprima" in html
