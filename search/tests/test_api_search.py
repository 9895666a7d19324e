"""``?search=`` on the API lists: the global search's matching, the reader's rows only, in the schema."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from contacts.tests.factories import ContactFactory, OrganizationFactory
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def names(response, key="name"):
    assert response.status_code == 200, response.content
    return sorted(row[key] for row in response.json()["results"])


def test_search_on_deals_organizations_and_contacts(rep, other_rep, pipeline):
    org = OrganizationFactory(owner=rep, name="Società Ferri S.p.A.", phone="+39 02 555 1234")
    OrganizationFactory(owner=other_rep, name="Ferri Sud")
    OpportunityFactory(owner=rep, organization=org, name="Impianto Ferri")
    OpportunityFactory(owner=other_rep, name="Ferri segreto")
    ContactFactory(owner=rep, organization=org, first_name="Luca", last_name="Ferri", email="l.ferri@x.it")
    client = api(rep)
    assert names(client.get("/api/v1/organizations/", {"search": "societa"})) == ["Società Ferri S.p.A."]
    assert names(client.get("/api/v1/organizations/", {"search": "ferri"})) == ["Società Ferri S.p.A."]
    assert names(client.get("/api/v1/organizations/", {"search": "025551234"})) == ["Società Ferri S.p.A."]
    assert names(client.get("/api/v1/opportunities/", {"search": "FERRI"})) == ["Impianto Ferri"]
    assert names(client.get("/api/v1/contacts/", {"search": "luca feri"}), "last_name") == ["Ferri"]
    assert names(client.get("/api/v1/contacts/", {"search": "L.Ferri@X.it"}), "last_name") == ["Ferri"]
    deals = client.get("/api/v1/opportunities/", {"search": "ferri"}).json()
    assert deals["count"] == 1


def test_search_is_in_the_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path in ["/api/v1/opportunities/", "/api/v1/organizations/", "/api/v1/contacts/"]:
        params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert "search" in params, path
        assert "accents" in params["search"]["description"]
