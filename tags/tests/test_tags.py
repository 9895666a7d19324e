"""Tags: the services check each record, the pages add and remove them, the API does both."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from contacts.tests.factories import ContactFactory, OrganizationFactory
from opportunities.tests.factories import OpportunityFactory
from tags import services
from tags.models import Tag

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def test_tags_add_and_remove_check_every_record(rep, teammate, pipeline):
    mine = [OpportunityFactory(owner=rep, name=f"Mia {n}") for n in range(3)]
    theirs = OpportunityFactory(owner=teammate, name="Sua")  # visible to rep, not editable
    vip = services.tag_create(user=rep, name="VIP", colour="danger")
    result = services.tags_add([*mine, theirs], vip, rep)
    assert (result.changed, result.unchanged, result.refused) == (3, 0, [theirs.pk])
    assert services.tags_add(mine, vip, rep).unchanged == 3
    assert sorted(vip.opportunities.values_list("name", flat=True)) == ["Mia 0", "Mia 1", "Mia 2"]
    result = services.tags_remove([mine[0], theirs], vip, rep)
    assert (result.changed, result.refused) == (1, [theirs.pk])
    assert vip.opportunities.count() == 2


def test_a_tag_name_is_unique_whatever_the_case(rep):
    services.tag_create(user=rep, name="Fiera 2026")
    with pytest.raises(Exception) as exc:
        services.tag_create(user=rep, name="fiera 2026")
    assert "already exists" in str(exc.value)


def test_the_detail_pages_add_and_remove_a_tag(client, rep, other_rep, pipeline):
    org = OrganizationFactory(owner=rep, name="Ferri S.p.A.")
    contact = ContactFactory(owner=rep, organization=org)
    deal = OpportunityFactory(owner=rep, organization=org)
    client.force_login(rep)
    for kind, record in [("organizations", org), ("contacts", contact), ("opportunities", deal)]:
        response = client.post(
            reverse("tags:record_add", args=[kind, record.pk]), {"name": "Strategico", "colour": "success"}
        )
        assert response.status_code == 302
        page = client.get(record.get_absolute_url()).content.decode()
        assert 'data-tag="Strategico"' in page
    tag = Tag.objects.get(name="Strategico")
    assert (tag.organizations.count(), tag.contacts.count(), tag.opportunities.count()) == (1, 1, 1)
    client.post(reverse("tags:record_remove", args=["contacts", contact.pk, tag.pk]))
    assert tag.contacts.count() == 0
    # Another team's record: not found, and nothing changes.
    hidden = OrganizationFactory(owner=other_rep)
    assert client.post(reverse("tags:record_add", args=["organizations", hidden.pk]), {"name": "X"}).status_code == 404
    assert not Tag.objects.filter(name="X").exists()


def test_the_api_lists_creates_and_applies_tags(rep, other_rep, pipeline):
    deals = [OpportunityFactory(owner=rep) for _ in range(2)]
    hidden = OpportunityFactory(owner=other_rep)
    client = api(rep)
    created = client.post("/api/v1/tags/", {"name": "Caldo", "colour": "warning"}, format="json")
    assert created.status_code == 201, created.content
    tag_id = created.json()["id"]
    assert [t["name"] for t in client.get("/api/v1/tags/").json()["results"]] == ["Caldo"]
    ids = [d.pk for d in deals] + [hidden.pk]
    body = client.post(f"/api/v1/tags/{tag_id}/add/", {"kind": "opportunities", "ids": ids}, format="json").json()
    assert body == {"changed": 2, "unchanged": 0, "refused": [hidden.pk]}
    bad = client.post(f"/api/v1/tags/{tag_id}/add/", {"kind": "quotes", "ids": ids}, format="json")
    assert bad.status_code == 400 and "kind" in bad.content.decode()
    dup = client.post("/api/v1/tags/", {"name": "caldo"}, format="json")
    assert dup.status_code == 400 and "name" in dup.content.decode()


def test_lists_the_board_and_the_api_filter_by_tag(client, rep, pipeline):
    org_a = OrganizationFactory(owner=rep, name="Alfa Etichettata")
    OrganizationFactory(owner=rep, name="Beta Senza")
    deal_a = OpportunityFactory(owner=rep, organization=org_a, name="Affare Etichettato")
    OpportunityFactory(owner=rep, organization=org_a, name="Affare Senza")
    tag = services.tag_create(user=rep, name="Fiera")
    services.tags_add([org_a], tag, rep)
    services.tags_add([deal_a], tag, rep)
    client.force_login(rep)
    orgs = client.get(reverse("contacts:organization_list"), {"tag": "fiera"}).content.decode()
    assert "Alfa Etichettata" in orgs and "Beta Senza" not in orgs
    deals = client.get(reverse("opportunities:list"), {"tag": "fiera"}).content.decode()
    assert "Affare Etichettato" in deals and "Affare Senza" not in deals
    board = client.get(reverse("pipeline:board"), {"tag": "fiera"}).content.decode()
    assert "Affare Etichettato" in board and "Affare Senza" not in board
    rows = api(rep).get("/api/v1/opportunities/", {"tag": "fiera"}).json()
    assert [r["name"] for r in rows["results"]] == ["Affare Etichettato"] and rows["count"] == 1
    assert "Alfa Etichettata" not in client.get(reverse("contacts:organization_list"), {"tag": "nope"}).content.decode()
