from decimal import Decimal

import pytest
from django.urls import reverse

from opportunities.services import opportunity_line_add
from opportunities.tests.factories import OpportunityFactory
from quotes import services
from quotes.models import Quote
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db


def test_quote_from_deal_page_to_sent(client, rep, stages):
    opp = OpportunityFactory(owner=rep)
    opportunity_line_add(opportunity=opp, user=rep, description="Licenza & <supporto>", unit_price=Decimal("1000.00"))
    client.force_login(rep)
    assert "New quote" in client.get(opp.get_absolute_url()).content.decode()
    response = client.post(reverse("quotes:create_from_opportunity", args=[opp.pk]))
    quote = Quote.objects.get()
    assert response.url == quote.get_absolute_url()
    page = client.get(quote.get_absolute_url()).content.decode()
    assert "Licenza &amp; &lt;supporto&gt;" in page
    assert "1,220.00" in page  # 1000 + 22% VAT

    client.post(
        reverse("quotes:line_add", args=[quote.pk]),
        {"description": "Corso", "quantity": "1", "unit_price": "50", "vat_rate": "0.00"},
    )
    assert quote.lines.count() == 1  # refused: no exemption note
    client.post(
        reverse("quotes:line_add", args=[quote.pk]),
        {
            "description": "Corso",
            "quantity": "1",
            "unit_price": "50",
            "vat_rate": "0.00",
            "vat_exemption_note": "Esente art. 10",
        },
    )
    assert quote.lines.count() == 2

    client.post(reverse("quotes:send", args=[quote.pk]))
    quote.refresh_from_db()
    assert quote.status == "sent" and quote.sequence == 1
    edit = client.post(reverse("quotes:edit", args=[quote.pk]), {"title": "Changed", "valid_until": ""})
    assert edit.status_code == 302
    quote.refresh_from_db()
    assert quote.title != "Changed"
    followed = client.get(quote.get_absolute_url()).content.decode()
    assert "Revise" in followed

    client.post(reverse("quotes:accept", args=[quote.pk]), {"mark_deal_won": "on"})
    opp.refresh_from_db()
    assert opp.status == "won"


def test_quote_list_budget_and_visibility(client, rep, other_rep, django_assert_num_queries):
    for _ in range(5):
        QuoteFactory(owner=rep)
    hidden = QuoteFactory(owner=other_rep)
    client.force_login(rep)
    client.get(reverse("quotes:list"))
    # teams, count, team (nav), rows, their lines (for the totals); the session and the user are cached
    with django_assert_num_queries(5):
        response = client.get(reverse("quotes:list"))
    assert len(response.context["objects"]) == 5
    assert client.get(hidden.get_absolute_url()).status_code == 404
    assert client.get(reverse("quotes:pdf", args=[hidden.pk])).status_code == 404


def test_new_quote_from_scratch_needs_a_customer(client, rep):
    client.force_login(rep)
    response = client.post(reverse("quotes:create"), {"title": "Offerta", "currency": "EUR"})
    assert response.status_code == 200
    assert "organization" in response.context["form"].errors


def test_teammate_cannot_send_my_quote(client, rep, teammate):
    quote = QuoteFactory(owner=rep)
    services.quote_line_add(quote=quote, user=rep, description="x", quantity=Decimal(1), unit_price=Decimal(1))
    client.force_login(teammate)
    assert client.get(quote.get_absolute_url()).status_code == 200
    assert client.post(reverse("quotes:send", args=[quote.pk])).status_code == 404


def test_draft_from_scratch_can_be_edited_and_lines_changed(client, rep):
    from contacts.tests.factories import OrganizationFactory

    org = OrganizationFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("quotes:create"), {"title": "Offerta <A>", "organization": org.pk, "currency": "EUR"}
    )
    quote = Quote.objects.get()
    assert response.url == quote.get_absolute_url()
    client.post(
        reverse("quotes:edit", args=[quote.pk]),
        {"title": "Offerta B", "organization": org.pk, "currency": "EUR", "valid_until": "2027-01-31", "notes": "Nota"},
    )
    quote.refresh_from_db()
    assert (quote.title, str(quote.valid_until), quote.notes) == ("Offerta B", "2027-01-31", "Nota")
    client.post(reverse("quotes:line_add", args=[quote.pk]), {"description": "A", "quantity": "1", "unit_price": "10"})
    line = quote.lines.get()
    assert line.vat_rate == Decimal("22.00")
    client.post(
        reverse("quotes:line_edit", args=[quote.pk, line.pk]),
        {"description": "A", "quantity": "3", "unit_price": "10", "vat_rate": "10.00", "discount_percent": "0"},
    )
    line.refresh_from_db()
    assert (line.quantity, line.vat_rate) == (Decimal("3.000"), Decimal("10.00"))
    client.post(reverse("quotes:line_remove", args=[quote.pk, line.pk]))
    assert not quote.lines.exists()
