"""Only currencies in circulation (ISO 4217, from Babel's CLDR data) are accepted, by every door:
the API, the forms and the imports refuse ``XXX`` or ``ZZZ`` with an error on ``currency``."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from contacts.tests.factories import OrganizationFactory
from core.validators import circulating_currencies
from imports.models import ImportJob
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from products.models import Product

pytestmark = pytest.mark.django_db

MESSAGE = "Enter the ISO 4217 code of a currency in circulation, e.g. EUR."


@pytest.fixture
def api(crm_admin):
    client = APIClient()
    client.force_authenticate(crm_admin)
    return client


@pytest.mark.parametrize("code", ["XXX", "ZZZ", "XTS", "ITL", "E1R"])
def test_the_api_refuses_a_currency_that_is_not_in_circulation_by_field(api, crm_admin, stages, code):
    org = OrganizationFactory(owner=crm_admin)
    deal = api.post("/api/v1/opportunities/", {"name": "Coins", "organization": org.pk, "currency": code})
    product = api.post("/api/v1/products/", {"name": "Coins", "unit_price": "1.00", "currency": code})
    quote = api.post(
        "/api/v1/quotes/", {"opportunity": OpportunityFactory(owner=crm_admin).pk, "currency": code}, format="json"
    )

    for response in (deal, product, quote):
        assert response.status_code == 400, response.content
        assert response.json()["error"]["fields"]["currency"] == [MESSAGE]
    assert not Opportunity.objects.filter(name="Coins").exists()


@pytest.mark.parametrize("code", ["EUR", "USD", "GBP", "CHF", "JPY", "usd"])
def test_the_api_accepts_real_currencies(api, crm_admin, stages, code):
    org = OrganizationFactory(owner=crm_admin)
    response = api.post("/api/v1/opportunities/", {"name": "Coins", "organization": org.pk, "currency": code})
    assert response.status_code == 201, response.content
    assert response.json()["currency"] == code.upper()


def test_the_product_form_refuses_a_forged_currency_on_the_field(client, crm_admin):
    client.force_login(crm_admin)
    response = client.post(
        reverse("products:create"), {"name": "Coins", "kind": "product", "unit_price": "1", "currency": "XXX"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["currency"] == [MESSAGE]
    assert not Product.objects.filter(name="Coins").exists()


def test_an_import_rejects_the_row_with_a_currency_not_in_circulation(client, crm_admin, stages):
    client.force_login(crm_admin)
    text = "Deal,Customer,Currency\nGood,Rossi srl,USD\nBad,Rossi srl,ZZZ\n"
    client.post(reverse("imports:start"), {"kind": "opportunity", "file": SimpleUploadedFile("d.csv", text.encode())})
    job = ImportJob.objects.get()
    client.post(job.get_absolute_url(), {"name": "Deal", "organization": "Customer", "currency": "Currency"})

    preview = client.get(reverse("imports:preview", args=[job.pk])).content.decode()

    assert 'data-count="created">1<' in preview
    assert MESSAGE in preview


def test_the_seeded_and_offered_currencies_are_all_in_circulation():
    from core.currency import currency_choices

    assert {"EUR", "USD", "GBP", "CHF", "JPY", "CNY", "SEK", "NOK", "DKK", "PLN", "CZK"} <= circulating_currencies()
    assert {code for code, _label in currency_choices()} <= circulating_currencies()
    assert not {"XXX", "XTS", "ZZZ", "ITL", "DEM"} & circulating_currencies()
