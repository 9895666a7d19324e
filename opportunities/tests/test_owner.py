"""Who a deal may be given to (security review, finding 5), and that services check their caller
(finding 4): a rep gives deals only to themselves, a manager to their teams' members, an admin to
anyone active. A refusal is a 400 naming ``owner`` (a form error on pages) and writes nothing."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.permissions import ChangeNotAllowed
from contacts.tests.factories import OrganizationFactory
from core.models import OutboxEvent
from opportunities import services
from opportunities.models import Opportunity
from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory
from products.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)  # a 500 is an answer to look at, not a crash
    client.force_authenticate(user)
    return client


def test_the_api_refuses_a_deal_for_a_user_of_another_team_and_creates_nothing(rep, other_rep, stages):
    org = OrganizationFactory(owner=rep)
    body = {"name": "Per Sud", "organization": org.pk, "stage": stages["New"].pk, "owner": other_rep.pk}
    response = api(rep).post("/api/v1/opportunities/", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == ["owner"]
    assert not Opportunity.objects.exists()
    # Retried without an Idempotency-Key, it still creates nothing.
    assert api(rep).post("/api/v1/opportunities/", body, format="json").status_code == 400
    assert not Opportunity.objects.exists() and not OutboxEvent.objects.exists()


def test_the_api_refuses_handing_a_deal_to_another_team(rep, other_rep):
    deal = OpportunityFactory(owner=rep)
    response = api(rep).patch(f"/api/v1/opportunities/{deal.pk}/", {"owner": other_rep.pk}, format="json")
    assert response.status_code == 400 and "owner" in response.json()["error"]["fields"]
    assert Opportunity.objects.get(pk=deal.pk).owner == rep


@pytest.mark.parametrize(
    ("actor", "new_owner", "status"),
    [
        ("rep", "teammate", 400),  # a rep keeps their deals
        ("manager", "teammate", 200),  # a manager hands them round their team
        ("manager", "other_rep", 400),
        ("crm_admin", "other_rep", 200),  # an admin, anywhere
    ],
)
def test_who_may_hand_a_deal_to_whom(request, rep, actor, new_owner, status):
    deal = OpportunityFactory(owner=rep)
    actor, new_owner = request.getfixturevalue(actor), request.getfixturevalue(new_owner)
    response = api(actor).patch(f"/api/v1/opportunities/{deal.pk}/", {"owner": new_owner.pk}, format="json")
    assert response.status_code == status, response.content
    assert Opportunity.objects.get(pk=deal.pk).owner == (new_owner if status == 200 else rep)


def test_the_form_offers_only_assignable_owners_and_refuses_another_on_the_field(client, rep, teammate, stages):
    org = OrganizationFactory(owner=rep)
    client.force_login(rep)
    form = client.get(reverse("opportunities:create")).context["form"]
    assert list(form.fields["owner"].queryset) == [rep]
    response = client.post(
        reverse("opportunities:create"),
        {
            "name": "Per il collega",
            "organization": org.pk,
            "stage": stages["New"].pk,
            "amount": "10",
            "currency": "EUR",
            "type": "new_business",
            "owner": teammate.pk,
        },
    )
    assert response.status_code == 200 and response.context["form"].errors.keys() == {"owner"}
    assert not Opportunity.objects.exists()


def test_a_managers_form_offers_their_team(client, manager, rep, teammate, other_rep):
    client.force_login(manager)
    form = client.get(reverse("opportunities:create")).context["form"]
    assert set(form.fields["owner"].queryset) == {manager, rep, teammate}


def test_every_service_that_changes_a_deal_checks_the_caller(rep, teammate, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    line = services.opportunity_line_add(opportunity=deal, user=rep, product=ProductFactory())
    for call in (
        lambda: services.opportunity_update(opportunity=deal, user=teammate, data={"next_step": "x"}),
        lambda: opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=teammate),
        lambda: opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=None),  # no silent "system"
        lambda: services.opportunity_archive(opportunity=deal, user=teammate),
        lambda: services.opportunity_line_add(opportunity=deal, user=teammate, product=ProductFactory()),
        lambda: services.opportunity_line_update(line=line, user=teammate, data={"quantity": 3}),
        lambda: services.opportunity_line_remove(line=line, user=teammate),
        lambda: services.opportunity_amount_from_lines(opportunity=deal, user=teammate),
    ):
        with pytest.raises(ChangeNotAllowed):
            call()
    fresh = Opportunity.objects.get(pk=deal.pk)
    assert (fresh.stage, fresh.version, fresh.next_step, fresh.archived_at) == (stages["New"], deal.version, "", None)
    assert fresh.lines.get().quantity == 1
