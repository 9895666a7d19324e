"""``tags`` on the deal, organization and contact API: read as names, written as names of existing
tags through the tags service (a 400 naming ``tags`` otherwise), filtered with ``?tag=``, in the
schema."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from contacts.tests.factories import ContactFactory, OrganizationFactory
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from tags import services

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


@pytest.fixture
def vip(rep):
    return services.tag_create(user=rep, name="VIP", colour="danger")


@pytest.fixture
def fiera(rep):
    return services.tag_create(user=rep, name="Fiera 2026")


def test_deals_show_their_tags_in_the_list_and_alone(rep, vip, fiera, pipeline):
    tagged = OpportunityFactory(owner=rep, name="Con etichette")
    OpportunityFactory(owner=rep, name="Senza")
    services.tags_add([tagged], vip, rep)
    services.tags_add([tagged], fiera, rep)
    client = api(rep)
    rows = {row["name"]: row["tags"] for row in client.get("/api/v1/opportunities/").json()["results"]}
    assert rows == {"Con etichette": ["Fiera 2026", "VIP"], "Senza": []}
    assert client.get(f"/api/v1/opportunities/{tagged.pk}/").json()["tags"] == ["Fiera 2026", "VIP"]


def test_writing_a_deals_tags_replaces_them_by_name(rep, vip, fiera, pipeline):
    client = api(rep)
    org = OrganizationFactory(owner=rep)
    created = client.post(
        "/api/v1/opportunities/", {"name": "Nuova", "organization": org.pk, "tags": ["vip"]}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["tags"] == ["VIP"]
    pk = created.json()["id"]
    changed = client.patch(f"/api/v1/opportunities/{pk}/", {"tags": ["fiera 2026"]}, format="json")
    assert changed.status_code == 200 and changed.json()["tags"] == ["Fiera 2026"]
    assert client.patch(f"/api/v1/opportunities/{pk}/", {"name": "Rinominata"}, format="json").json()["tags"] == [
        "Fiera 2026"
    ]  # left out: unchanged
    assert client.patch(f"/api/v1/opportunities/{pk}/", {"tags": []}, format="json").json()["tags"] == []


def test_an_unknown_tag_is_a_400_naming_tags_and_changes_nothing(rep, vip, pipeline):
    deal = OpportunityFactory(owner=rep, name="Prima")
    client = api(rep)
    response = client.patch(
        f"/api/v1/opportunities/{deal.pk}/", {"name": "Dopo", "tags": ["VIP", "Nope"]}, format="json"
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["tags"] and "Nope" in fields["tags"][0]
    assert Opportunity.objects.get(pk=deal.pk).name == "Prima" and not deal.tags.exists()
    bad = client.post("/api/v1/organizations/", {"name": "Alfa", "tags": "VIP"}, format="json")
    assert bad.status_code == 400 and "tags" in bad.json()["error"]["fields"]
    assert not client.get("/api/v1/organizations/", {"search": "Alfa"}).json()["results"]


def test_a_deal_one_may_not_change_keeps_its_tags(rep, teammate, vip, pipeline):
    theirs = OpportunityFactory(owner=teammate, name="Sua")
    response = api(rep).patch(f"/api/v1/opportunities/{theirs.pk}/", {"tags": ["VIP"]}, format="json")
    assert response.status_code == 403
    assert not theirs.tags.exists()


def test_organizations_and_contacts_read_and_write_tags(rep, vip, fiera):
    client = api(rep)
    org = client.post("/api/v1/organizations/", {"name": "Alfa Etichette", "tags": ["VIP"]}, format="json")
    assert org.status_code == 201, org.content
    assert org.json()["tags"] == ["VIP"]
    person = client.post(
        "/api/v1/contacts/", {"first_name": "Luca", "last_name": "Neri", "tags": ["Fiera 2026", "VIP"]}, format="json"
    )
    assert person.status_code == 201, person.content
    assert person.json()["tags"] == ["Fiera 2026", "VIP"]
    cleared = client.patch(f"/api/v1/contacts/{person.json()['id']}/", {"tags": ["vip"]}, format="json")
    assert cleared.json()["tags"] == ["VIP"]
    ContactFactory(owner=rep, first_name="Senza", last_name="Tag")
    tagged = client.get("/api/v1/contacts/", {"tag": "vip"}).json()["results"]
    assert [c["last_name"] for c in tagged] == ["Neri"]
    OrganizationFactory(owner=rep, name="Beta")
    orgs = client.get("/api/v1/organizations/", {"tag": "VIP"}).json()["results"]
    assert [o["name"] for o in orgs] == ["Alfa Etichette"]


@pytest.mark.parametrize("count", [2, 8])
def test_tags_cost_one_query_per_page(rep, vip, count, django_assert_num_queries):
    for n in range(count):
        services.tags_add([OrganizationFactory(owner=rep, name=f"Org {n}")], vip, rep)
    client = api(rep)
    client.get("/api/v1/organizations/")
    with django_assert_num_queries(3):  # the count, the page, its tags
        response = client.get("/api/v1/organizations/")
    assert {tuple(o["tags"]) for o in response.json()["results"]} == {("VIP",)}


def test_tags_are_in_the_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for name in ("Opportunity", "Organization", "Contact"):
        tags = schema["components"]["schemas"][name]["properties"]["tags"]
        assert tags["type"] == "array" and tags["items"]["type"] == "string"
        assert "400 naming tags" in tags["description"]
