"""The quotes list as a new user sees it (issue 16)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from quotes import services
from quotes.tests.factories import QuoteFactory

pytestmark = pytest.mark.django_db


def test_quote_list_shows_each_quotes_total_with_vat(client, rep):
    quote = QuoteFactory(owner=rep)
    services.quote_line_add(quote=quote, user=rep, description="Licenze", quantity=Decimal(2), unit_price=Decimal(500))
    empty = QuoteFactory(owner=rep)
    client.force_login(rep)
    html = client.get(reverse("quotes:list")).content.decode()
    assert ">Total</th>" in html
    assert "€1,220.00" in html  # 2 × 500 + 22 % VAT
    assert html.count('data-testid="quote-total"') == 2
    assert empty.number in html


def test_empty_quote_list_says_why(client, rep):
    client.force_login(rep)
    html = client.get(reverse("quotes:list")).content.decode()
    assert "No quotes yet" in html
    assert "match these filters" not in html
    html = client.get(reverse("quotes:list"), {"status": "sent"}).content.decode()
    assert "No quotes match these filters." in html
    html = client.get(reverse("quotes:list"), {"q": "  "}).content.decode()
    assert "No quotes yet" in html


def test_quote_pages_say_deal_not_opportunity(client, rep):
    client.force_login(rep)
    quote = QuoteFactory(owner=rep)
    for url in (reverse("quotes:list"), reverse("quotes:create"), quote.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "pportunit" not in html.replace("opportunity", "").replace("opportunities", ""), url
