from decimal import Decimal

import pytest
from django.urls import reverse

from opportunities.models import OpportunityLine
from opportunities.tests.factories import OpportunityFactory
from products.models import Product
from products.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_product_list_shows_active_products_and_exports(client, rep, django_assert_num_queries):
    ProductFactory.create_batch(3)
    ProductFactory(name="Vecchio & <caro>", active=False)
    client.force_login(rep)
    client.get(reverse("products:list"))  # warm up the session and content types
    with django_assert_num_queries(3):  # count, team (nav), page (the session and the user are cached)
        response = client.get(reverse("products:list"))
    assert response.status_code == 200
    assert response.content.count(b"<tr>") == 1 + 3
    inactive = client.get(reverse("products:list") + "?archived=1")
    assert "Vecchio &amp; &lt;caro&gt;" in inactive.content.decode()
    export = client.get(reverse("products:list") + "?export=csv")
    assert export.status_code == 200
    assert b"Product" in b"".join(export.streaming_content)


def test_only_managers_change_the_catalog(client, rep, manager):
    client.force_login(rep)
    assert client.get(reverse("products:create")).status_code == 404
    client.force_login(manager)
    response = client.post(
        reverse("products:create"),
        {
            "name": "Consulenza",
            "code": "SRV-1",
            "kind": "service",
            "unit_price": "80.00",
            "currency": "EUR",
            "vat_rate": "22.00",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content
    assert Product.objects.get(code="SRV-1").unit_price == Decimal("80.00")


def test_negative_price_is_a_form_error(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("products:create"),
        {"name": "X", "kind": "product", "unit_price": "-1", "currency": "EUR", "vat_rate": "22.00"},
    )
    assert response.status_code == 200
    assert "unit_price" in response.context["form"].errors


def test_deal_lines_add_edit_remove_and_amount(client, rep):
    opp = OpportunityFactory(owner=rep, amount=Decimal("1.00"))
    product = ProductFactory(unit_price=Decimal("19.99"))
    client.force_login(rep)
    url = reverse("opportunities:line_add", args=[opp.pk])
    client.post(url, {"product": product.pk, "quantity": "3", "discount_percent": "10"})
    client.post(
        url,
        {"description": "Installazione è “rapida”", "quantity": "1", "unit_price": "100.005", "discount_percent": "0"},
    )
    lines = list(opp.lines.order_by("position"))
    assert [line.unit_price for line in lines] == [Decimal("19.99")]  # 100.005 has 3 decimals: refused
    client.post(
        url,
        {"description": "Installazione è “rapida”", "quantity": "1", "unit_price": "100.01", "discount_percent": "0"},
    )
    lines = list(opp.lines.order_by("position"))
    assert len(lines) == 2
    # 3 × 19.99 × 0.9 = 53.973 → 53.97
    assert lines[0].total == Decimal("53.97")
    page = client.get(opp.get_absolute_url()).content.decode()
    assert "Installazione è “rapida”" in page
    assert "153.98" in page or "153,98" in page

    opp.refresh_from_db()
    response = client.post(reverse("opportunities:amount_from_lines", args=[opp.pk]), {"version": opp.version})
    assert response.status_code == 302
    opp.refresh_from_db()
    assert opp.amount == Decimal("153.98")

    edit = reverse("opportunities:line_edit", args=[opp.pk, lines[1].pk])
    assert (
        client.post(
            edit, {"description": "Setup", "quantity": "2", "unit_price": "50", "discount_percent": "0"}
        ).status_code
        == 302
    )
    assert OpportunityLine.objects.get(pk=lines[1].pk).total == Decimal("100.00")
    client.post(reverse("opportunities:line_remove", args=[opp.pk, lines[0].pk]))
    assert list(opp.lines.values_list("description", flat=True)) == ["Setup"]


def test_other_team_cannot_touch_lines(client, rep, other_rep):
    opp = OpportunityFactory(owner=rep)
    client.force_login(other_rep)
    response = client.post(
        reverse("opportunities:line_add", args=[opp.pk]), {"description": "x", "quantity": "1", "unit_price": "1"}
    )
    assert response.status_code == 404
    assert not opp.lines.exists()


def test_product_in_other_currency_is_refused(client, rep):
    opp = OpportunityFactory(owner=rep)
    product = ProductFactory(currency="USD")
    client.force_login(rep)
    client.post(reverse("opportunities:line_add", args=[opp.pk]), {"product": product.pk, "quantity": "1"})
    assert not opp.lines.exists()
