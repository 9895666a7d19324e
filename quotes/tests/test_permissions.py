"""A quote cannot change a deal its author may not change (security review, finding 4).

A teammate sees a colleague's deal but may not change it (README, "Who sees what"): they may not
make a quote for it, and a quote of theirs that reaches it (made before the deal changed hands)
cannot mark it won — through the API, the page or the service.
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.permissions import ChangeNotAllowed
from core.models import OutboxEvent
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from quotes import services
from quotes.models import Quote
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def deal(rep, stages):
    return OpportunityFactory(owner=rep, stage=stages["Qualifying"], amount=Decimal("500.00"))


@pytest.fixture
def teammates_sent_quote(deal, teammate):
    """A quote of the teammate's on the rep's deal, sent: what the review's attacker prepared (the
    API let them create it; now only the database can hold one, e.g. from before a hand-over)."""
    quote = QuoteFactory(owner=teammate, opportunity=deal, organization=deal.organization)
    services.quote_line_add(quote=quote, user=teammate, description="Canone", quantity=Decimal(1), unit_price=10)
    return services.quote_send(quote=quote, user=teammate)


def test_a_teammate_cannot_make_a_quote_for_a_colleagues_deal_through_the_api(deal, teammate):
    response = api(teammate).post("/api/v1/quotes/", {"opportunity": deal.pk, "title": "Mia"}, format="json")
    assert response.status_code == 403, response.content
    assert response.json()["error"]["message"] == "You can make quotes only for deals you may change."
    assert not Quote.objects.exists()


def test_the_owner_and_their_manager_can(deal, rep, manager):
    for user in (rep, manager):
        response = api(user).post("/api/v1/quotes/", {"opportunity": deal.pk}, format="json")
        assert response.status_code == 201, response.content
    assert Quote.objects.filter(opportunity=deal).count() == 2


def test_accepting_a_quote_with_mark_deal_won_cannot_win_a_deal_the_caller_may_not_change(
    deal, teammate, teammates_sent_quote
):
    OutboxEvent.objects.all().delete()
    response = api(teammate).post(
        f"/api/v1/quotes/{teammates_sent_quote.pk}/accept/", {"mark_deal_won": True}, format="json"
    )
    assert response.status_code == 403, response.content
    assert "You may not change this deal" in response.json()["error"]["message"]
    deal.refresh_from_db()
    assert deal.status == "open" and deal.stage.name == "Qualifying"
    # Nothing of the request stays: the quote is still only sent, and no event went out.
    assert Quote.objects.get(pk=teammates_sent_quote.pk).status == Quote.Status.SENT
    assert not OutboxEvent.objects.exists()


def test_the_page_refuses_it_with_a_message_and_changes_nothing(client, deal, teammate, teammates_sent_quote):
    client.force_login(teammate)
    page = client.get(teammates_sent_quote.get_absolute_url()).content.decode()
    assert 'name="mark_deal_won"' not in page  # not offered; posted anyway, it is refused
    response = client.post(
        reverse("quotes:accept", args=[teammates_sent_quote.pk]), {"mark_deal_won": "on"}, follow=True
    )
    assert response.status_code == 200
    assert "You may not change this deal" in response.content.decode()
    assert Opportunity.objects.get(pk=deal.pk).status == "open"
    assert Quote.objects.get(pk=teammates_sent_quote.pk).status == Quote.Status.SENT


def test_accepting_without_marking_the_deal_won_stays_the_quote_owners_right(teammate, teammates_sent_quote):
    response = api(teammate).post(f"/api/v1/quotes/{teammates_sent_quote.pk}/accept/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "accepted"


def test_the_deals_owner_marks_it_won_by_accepting_their_quote(deal, rep, stages):
    quote = services.quote_create(user=rep, opportunity=deal, copy_lines=False)
    services.quote_line_add(quote=quote, user=rep, description="Canone", quantity=Decimal(1), unit_price=10)
    services.quote_send(quote=quote, user=rep)
    response = api(rep).post(f"/api/v1/quotes/{quote.pk}/accept/", {"mark_deal_won": True}, format="json")
    assert response.status_code == 200
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["Won"]


def test_revising_a_quote_makes_a_quote_for_its_deal_so_it_needs_the_deal_too(teammate, teammates_sent_quote):
    with pytest.raises(ChangeNotAllowed):
        services.quote_revise(quote=teammates_sent_quote, user=teammate)
    assert Quote.objects.count() == 1


def test_the_quote_services_check_their_caller_whatever_the_face(rep, teammate):
    quote = QuoteFactory(owner=rep)
    for call in (
        lambda: services.quote_update(quote=quote, user=teammate, data={"title": "x"}),
        lambda: services.quote_line_add(quote=quote, user=teammate, description="x", quantity=1, unit_price=1),
        lambda: services.quote_send(quote=quote, user=teammate),
        lambda: services.quote_create(user=None, opportunity=OpportunityFactory(owner=rep)),
    ):
        with pytest.raises(ChangeNotAllowed):
            call()
    assert Quote.objects.get(pk=quote.pk).status == Quote.Status.DRAFT
