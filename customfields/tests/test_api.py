"""`custom_fields` on the API bodies, the same validation as every other face, and the definitions."""

import pytest
from rest_framework.test import APIClient

from contacts.tests.factories import OrganizationFactory
from opportunities.tests.factories import OpportunityFactory

from .factories import CustomFieldFactory, settore

pytestmark = pytest.mark.django_db


def client_for(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_deal_is_created_read_and_changed_with_its_custom_fields(rep, pipeline):
    settore()
    CustomFieldFactory(key="budget", type="money")
    api = client_for(rep)
    org = OrganizationFactory(owner=rep)
    response = api.post(
        "/api/v1/opportunities/",
        {"name": "Fornitura", "organization": org.pk, "custom_fields": {"settore": "servizi", "budget": "900"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["custom_fields"] == {"settore": "servizi", "budget": {"amount": "900.00", "currency": "EUR"}}

    response = api.patch(f"/api/v1/opportunities/{body['id']}/", {"custom_fields": {"settore": None}}, format="json")
    assert response.status_code == 200
    assert response.json()["custom_fields"] == {"budget": {"amount": "900.00", "currency": "EUR"}}
    listed = api.get("/api/v1/opportunities/").json()["results"]
    assert listed[0]["custom_fields"] == {"budget": {"amount": "900.00", "currency": "EUR"}}


def test_an_invalid_value_is_a_400_naming_the_key(rep, pipeline):
    settore()
    CustomFieldFactory(key="codice_sdi", type="text", required=True)
    api = client_for(rep)
    org = OrganizationFactory(owner=rep)
    response = api.post(
        "/api/v1/opportunities/",
        {"name": "X", "organization": org.pk, "custom_fields": {"settore": "agricoltura"}},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"custom_fields.settore", "custom_fields.codice_sdi"}
    assert "not one of the choices" in fields["custom_fields.settore"][0]

    response = api.post(
        "/api/v1/opportunities/", {"name": "X", "organization": org.pk, "custom_fields": [1]}, format="json"
    )
    assert response.status_code == 400 and "custom_fields" in response.json()["error"]["fields"]


def test_organizations_contacts_and_products_read_and_write_custom_fields(rep, manager):
    CustomFieldFactory(entity="organization", key="pec", type="email")
    CustomFieldFactory(entity="contact", key="cellulare", type="phone")
    CustomFieldFactory(entity="product", key="garanzia_mesi", type="integer")
    api = client_for(rep)
    response = api.post("/api/v1/organizations/", {"name": "ACME", "custom_fields": {"pec": "x@pec.it"}}, format="json")
    assert response.status_code == 201 and response.json()["custom_fields"] == {"pec": "x@pec.it"}
    response = api.post("/api/v1/organizations/", {"name": "B", "custom_fields": {"pec": "x@"}}, format="json")
    assert response.status_code == 400 and "custom_fields.pec" in response.json()["error"]["fields"]

    response = api.post(
        "/api/v1/contacts/",
        {"first_name": "Ada", "last_name": "L", "custom_fields": {"cellulare": "333 123 4567"}},
        format="json",
    )
    assert response.status_code == 201 and response.json()["custom_fields"] == {"cellulare": "+393331234567"}

    response = client_for(manager).post(
        "/api/v1/products/",
        {"name": "Server", "unit_price": "10.00", "custom_fields": {"garanzia_mesi": "x"}},
        format="json",
    )
    assert response.status_code == 400 and "custom_fields.garanzia_mesi" in response.json()["error"]["fields"]


def test_the_definitions_are_listed_read_only(rep, django_assert_num_queries):
    settore()
    CustomFieldFactory(entity="organization", key="pec", type="email", archived_at="2026-01-01T00:00Z")
    api = client_for(rep)
    rows = api.get("/api/v1/custom-fields/").json()["results"]
    assert [(r["entity"], r["key"], r["type"]) for r in rows] == [("deal", "settore", "choice")]
    assert rows[0]["choices"][0] == {
        "key": "manifattura",
        "label_it": "Manifattura",
        "label_en": "Manufacturing",
        "removed": False,
    }
    assert len(api.get("/api/v1/custom-fields/", {"include_archived": "true"}).json()["results"]) == 2
    assert api.get("/api/v1/custom-fields/", {"entity": "organization"}).json()["results"] == []
    assert api.post("/api/v1/custom-fields/", {"key": "x"}, format="json").status_code == 405


def test_the_schema_documents_the_object_and_the_endpoint(rep):
    schema = client_for(rep).get("/api/v1/schema/", {"format": "json"}).json()
    deal = schema["components"]["schemas"]["Opportunity"]["properties"]["custom_fields"]
    assert deal["type"] == "object" and "custom_fields.<key>" in deal["description"]
    assert "/api/v1/custom-fields/" in schema["paths"]


@pytest.mark.parametrize("rows", [3, 60])
def test_a_page_of_deals_with_custom_fields_costs_the_same_queries(rep, stages, rows, django_assert_num_queries):
    settore()
    for _ in range(rows):
        OpportunityFactory(owner=rep, stage=stages["New"], custom_fields={"settore": "pa"})
    with django_assert_num_queries(4):  # visibility, count, page, the page's tags
        response = client_for(rep).get("/api/v1/opportunities/", {"page_size": 200, "q": "Deal"})
    assert len(response.json()["results"]) == rows
    assert response.json()["results"][0]["custom_fields"] == {"settore": "pa"}
