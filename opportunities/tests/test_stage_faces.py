"""Issue 15, item 4: the stage rules hold on every face, because every face calls the one service
(opportunities.services.stages). Each test goes through the page or the API, as a user does."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from contacts.models import Organization
from opportunities.models import Opportunity
from opportunities.services import opportunity_move_stage, opportunity_update
from opportunities.tests.factories import OpportunityFactory
from opportunities.tests.test_views import form_data
from pipeline.models import StageChange

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
OTHER_PIPELINE = "This stage belongs to another pipeline; to move the deal to another pipeline"


@pytest.fixture
def api(rep):
    client = APIClient()
    client.force_authenticate(rep)
    return client


def error_fields(response):
    return response.json()["error"]["fields"]


# --- A stage of another pipeline: refused the same way by PATCH, move/, the board and the form ---


def test_a_patch_with_a_stage_of_another_pipeline_is_a_400_on_stage_as_move_is(api, rep, stages, classic_stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    url = f"/api/v1/opportunities/{deal.pk}/"

    patched = api.patch(url, {"stage": classic_stages["Quote sent"].pk}, format="json")
    moved = api.post(f"{url}move/", {"stage": classic_stages["Quote sent"].pk}, format="json")

    assert patched.status_code == moved.status_code == 400
    assert error_fields(patched)["stage"] == error_fields(moved)["stage"]
    assert error_fields(patched)["stage"][0].startswith(OTHER_PIPELINE)
    deal.refresh_from_db()
    assert deal.pipeline == stages["New"].pipeline and deal.stage == stages["New"] and deal.version == 1


def test_a_patch_changes_pipeline_only_with_a_stage_of_that_pipeline(api, rep, stages, classic_stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    url = f"/api/v1/opportunities/{deal.pk}/"
    other = classic_stages["Quote sent"]

    alone = api.patch(url, {"pipeline": other.pipeline_id}, format="json")
    assert alone.status_code == 400 and "stage" in error_fields(alone)
    mismatched = api.patch(url, {"pipeline": stages["New"].pipeline_id, "stage": other.pk}, format="json")
    assert mismatched.status_code == 400 and error_fields(mismatched)["stage"][0].startswith(OTHER_PIPELINE)

    pair = api.patch(url, {"pipeline": other.pipeline_id, "stage": other.pk}, format="json")
    assert pair.status_code == 200, pair.json()
    assert pair.json()["pipeline"] == other.pipeline_id and pair.json()["stage"] == other.pk
    assert StageChange.objects.filter(opportunity=deal, to_stage=other).count() == 1


def test_the_board_and_the_form_refuse_a_stage_of_another_pipeline_with_the_same_message(
    client, rep, stages, classic_stages
):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)

    board = client.post(
        reverse("pipeline:move", args=[deal.pk]),
        {"stage": classic_stages["Quote sent"].pk, "version": deal.version},
        **JSON,
    )
    form = client.post(f"/opportunities/{deal.pk}/edit/", form_data(deal, stage=classic_stages["Quote sent"].pk))

    assert board.status_code == 400 and board.json()["errors"]["stage"][0].startswith(OTHER_PIPELINE)
    assert form.status_code == 200 and form.context["form"].errors["stage"][0].startswith(OTHER_PIPELINE)
    deal.refresh_from_db()
    assert deal.stage == stages["New"] and deal.pipeline == stages["New"].pipeline


# --- Quick add on the board: one transaction ---


def test_quick_add_to_a_lost_column_without_a_reason_leaves_nothing_behind(client, rep, stages):
    client.force_login(rep)

    response = client.post(
        reverse("pipeline:quick_add"),
        {"stage": stages["Lost"].pk, "name": "Rinnovo", "organization": "Nuova Srl"},
        follow=True,
    )

    assert response.status_code == 200
    assert "Choose why the deal was lost." in response.content.decode()
    assert not Opportunity.objects.filter(name="Rinnovo").exists()
    assert not Organization.objects.filter(name="Nuova Srl").exists()


def test_quick_add_to_a_lost_column_with_a_reason_creates_both(client, rep, stages, lost_reason):
    client.force_login(rep)

    client.post(
        reverse("pipeline:quick_add"),
        {"stage": stages["Lost"].pk, "name": "Rinnovo", "organization": "Nuova Srl", "lost_reason": lost_reason.pk},
    )

    deal = Opportunity.objects.get(name="Rinnovo")
    assert deal.status == "lost" and deal.lost_reason == lost_reason
    assert deal.organization.name == "Nuova Srl"


# --- The conflict message says who changed what, from the history ---


def test_a_stale_move_names_who_moved_the_deal_and_where_on_the_api_and_the_board(client, api, rep, manager, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    opportunity_move_stage(opportunity=deal, stage=stages["Qualifying"], user=manager)
    expected = f"{manager.get_full_name()} moved this deal to “Qualifying” after you opened it"

    response = api.post(
        f"/api/v1/opportunities/{deal.pk}/move/", {"stage": stages["Won"].pk, "version": 1}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["message"].startswith(expected)

    client.force_login(rep)
    board = client.post(reverse("pipeline:move", args=[deal.pk]), {"stage": stages["Won"].pk, "version": 1}, **JSON)
    assert board.status_code == 409 and board.json()["message"].startswith(expected)


def test_a_stale_move_after_an_edit_names_the_fields_not_a_move(client, api, rep, manager, stages):
    """Before, the board guessed "a move" or "an edit" from a 2-second window; an edit made right
    after a move was reported as the move."""
    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("100.00"))
    opportunity_update(opportunity=deal, user=manager, data={"amount": Decimal("250.00")})
    expected = f"{manager.get_full_name()} changed amount after you opened it"

    response = api.post(
        f"/api/v1/opportunities/{deal.pk}/move/", {"stage": stages["Won"].pk, "version": 1}, format="json"
    )
    assert response.status_code == 409 and response.json()["error"]["message"].startswith(expected)

    client.force_login(rep)
    board = client.post(reverse("pipeline:move", args=[deal.pk]), {"stage": stages["Won"].pk, "version": 1}, **JSON)
    assert board.status_code == 409 and board.json()["message"].startswith(expected)
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["New"]


def test_an_edit_that_also_moved_the_deal_is_described_as_both_on_the_form(client, rep, manager, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("100.00"))
    stale = form_data(deal, name="Mine")
    opportunity_update(
        opportunity=deal, user=manager, data={"amount": Decimal("250.00"), "stage": stages["Qualifying"]}
    )
    client.force_login(rep)

    response = client.post(f"/opportunities/{deal.pk}/edit/", stale)

    assert response.status_code == 200
    errors = str(response.context["form"].non_field_errors())
    assert f"{manager.get_full_name()} moved this deal to “Qualifying” and changed amount" in errors
