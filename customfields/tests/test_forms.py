"""The custom fields on the create and edit pages of deals, organizations, contacts and products."""

import pytest

from contacts.models import Organization
from contacts.tests.factories import OrganizationFactory
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from products.models import Product

from .factories import CustomFieldFactory, settore

pytestmark = pytest.mark.django_db


def deal_data(org, stages, **extra):
    return {
        "name": "Licenze CRM",
        "organization": org.pk,
        "stage": stages["Qualifying"].pk,
        "amount": "4800.00",
        "currency": "EUR",
        "type": "new_business",
        **extra,
    }


def test_every_type_has_its_widget_on_the_deal_form(client, rep, stages):
    for type_ in (
        "text",
        "long_text",
        "integer",
        "decimal",
        "money",
        "percent",
        "date",
        "datetime",
        "boolean",
        "url",
        "email",
        "phone",
        "user",
    ):
        CustomFieldFactory(key=f"f_{type_}", type=type_)
    settore()
    CustomFieldFactory(key="f_multi", type="multi_choice", choices=[{"key": "a", "label_it": "A", "label_en": "A"}])
    client.force_login(rep)
    html = client.get("/opportunities/new/").content.decode()
    assert (
        'name="custom_fields.f_date" class="form-control" id="id_custom_fields.f_date"' in html
        or 'type="date" name="custom_fields.f_date"' in html
    )
    assert 'type="datetime-local" name="custom_fields.f_datetime"' in html
    assert 'type="tel" name="custom_fields.f_phone"' in html
    assert 'type="email" name="custom_fields.f_email"' in html
    assert 'type="url" name="custom_fields.f_url"' in html
    assert '<textarea name="custom_fields.f_long_text"' in html
    assert 'type="checkbox" name="custom_fields.f_multi"' in html
    assert '<option value="manifattura">Manufacturing</option>' in html


def test_a_deal_is_created_and_edited_with_custom_values(client, rep, stages):
    settore()
    CustomFieldFactory(key="budget", type="money")
    CustomFieldFactory(key="firma", type="date")
    org = OrganizationFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        "/opportunities/new/",
        deal_data(
            org,
            stages,
            **{
                "custom_fields.settore": "servizi",
                "custom_fields.budget": "1.234,50",
                "custom_fields.firma": "2026-12-31",
            },
        ),
        HTTP_ACCEPT_LANGUAGE="it",
    )
    assert response.status_code == 302, response.context["form"].errors
    deal = Opportunity.objects.get(name="Licenze CRM")
    assert deal.custom_fields == {
        "settore": "servizi",
        "budget": {"amount": "1234.50", "currency": "EUR"},
        "firma": "2026-12-31",
    }
    page = client.get(f"/opportunities/{deal.pk}/edit/").content.decode()
    assert '<option value="servizi" selected>' in page


def test_a_service_error_shows_on_the_custom_field_and_a_required_one_is_enforced(client, rep, stages):
    CustomFieldFactory(key="pec", label_en="PEC", type="email", required=True)
    CustomFieldFactory(key="cellulare", type="phone")
    org = OrganizationFactory(owner=rep)
    client.force_login(rep)
    response = client.post("/opportunities/new/", deal_data(org, stages, **{"custom_fields.cellulare": "12"}))
    assert response.status_code == 200
    assert response.context["form"].errors == {"custom_fields.pec": ["This field is required."]}
    response = client.post(
        "/opportunities/new/",
        deal_data(org, stages, **{"custom_fields.cellulare": "12", "custom_fields.pec": "a@b.it"}),
    )
    assert response.context["form"].errors == {"custom_fields.cellulare": ["Enter a valid phone number."]}
    assert not Opportunity.objects.exists()


def test_a_removed_choice_on_a_record_is_kept_when_the_form_is_saved(client, rep, stages):
    field = settore()
    deal = OpportunityFactory(owner=rep, custom_fields={"settore": "pa"})
    field.choices[2]["removed"] = True
    field.save()
    client.force_login(rep)
    page = client.get(f"/opportunities/{deal.pk}/edit/").content.decode()
    assert "Public sector (removed)" in page
    data = {
        "name": "Rinominato",
        "organization": deal.organization_id,
        "stage": deal.stage_id,
        "amount": "1000.00",
        "currency": "EUR",
        "type": deal.type,
        "owner": rep.pk,
        "version": deal.version,
        "custom_fields.settore": "pa",
    }
    assert client.post(f"/opportunities/{deal.pk}/edit/", data).status_code == 302
    deal.refresh_from_db()
    assert deal.name == "Rinominato" and deal.custom_fields == {"settore": "pa"}


def test_organizations_and_products_forms_save_custom_values(client, rep, manager):
    CustomFieldFactory(entity="organization", key="codice_sdi", type="text", required=True)
    CustomFieldFactory(entity="product", key="garanzia", type="integer")
    client.force_login(rep)
    response = client.post("/organizations/new/", {"name": "ACME", "country": "IT", "owner": rep.pk})
    assert "custom_fields.codice_sdi" in response.context["form"].errors
    response = client.post(
        "/organizations/new/",
        {"name": "ACME", "country": "IT", "owner": rep.pk, "custom_fields.codice_sdi": "M5UXCR1"},
    )
    assert response.status_code == 302
    assert Organization.objects.get(name="ACME").custom_fields == {"codice_sdi": "M5UXCR1"}

    client.force_login(manager)
    response = client.post(
        "/products/new/",
        {
            "name": "Server",
            "kind": "product",
            "unit_price": "10",
            "currency": "EUR",
            "vat_rate": "22.00",
            "active": "on",
            "custom_fields.garanzia": "24",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert Product.objects.get(name="Server").custom_fields == {"garanzia": 24}
