"""The autocomplete's JSON endpoints (organizations, contacts, owners) and the widget on the forms:
visible records only, assignable owners only, at most 20 with a count, in constant queries."""

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from contacts.tests.factories import ContactFactory, OrganizationFactory
from opportunities.forms import OpportunityForm
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def lookup(client, name, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("n", [3, 30])
def test_organizations_are_searched_among_visible_ones_at_most_20_with_a_count(
    client, rep, other_rep, n, django_assert_num_queries
):
    for i in range(n):
        OrganizationFactory(owner=rep, name=f"Rossi Impianti {i:02d}")
    OrganizationFactory(owner=other_rep, name="Rossi Segreta")  # another team's: never offered
    OrganizationFactory(owner=rep, name="Bianchi SpA")
    client.force_login(rep)
    with django_assert_num_queries(4):  # user, their teams, results, count
        body = lookup(client, "contacts:organization_lookup", q="rossi")
    assert body["count"] == n and len(body["results"]) == min(n, 20) and body["more"] == (n > 20)
    assert all(r["label"].startswith("Rossi Impianti") for r in body["results"])
    assert body["results"][0] == {"id": body["results"][0]["id"], "label": "Rossi Impianti 00", "detail": "Milano"}


def test_every_word_typed_must_match(client, rep):
    OrganizationFactory(owner=rep, name="Rossi Impianti", city="Torino")
    OrganizationFactory(owner=rep, name="Rossi Arredi", city="Milano")
    client.force_login(rep)
    assert [r["label"] for r in lookup(client, "contacts:organization_lookup", q="rossi torino")["results"]] == [
        "Rossi Impianti"
    ]


def test_archived_organizations_are_not_offered(client, rep):
    from django.utils import timezone

    OrganizationFactory(owner=rep, name="Vecchia Ditta", archived_at=timezone.now())
    client.force_login(rep)
    assert lookup(client, "contacts:organization_lookup", q="vecchia")["count"] == 0


def test_contacts_narrow_to_the_chosen_organization(client, rep, other_rep, django_assert_num_queries):
    acme = OrganizationFactory(owner=rep)
    other = OrganizationFactory(owner=rep)
    mario = ContactFactory(organization=acme, owner=rep, first_name="Mario", last_name="Rossi")
    ContactFactory(organization=other, owner=rep, first_name="Maria", last_name="Rossi")
    ContactFactory(owner=other_rep, first_name="Marco", last_name="Rossi")  # not visible
    client.force_login(rep)
    assert lookup(client, "contacts:contact_lookup", q="rossi")["count"] == 2
    with django_assert_num_queries(3):  # the user comes from the cache after the first request
        body = lookup(client, "contacts:contact_lookup", q="", organization=acme.pk)
    assert [r["id"] for r in body["results"]] == [mario.pk]
    assert body["results"][0]["label"] == "Mario Rossi" and body["results"][0]["detail"] == acme.name
    # A bad organization is ignored rather than failing.
    assert lookup(client, "contacts:contact_lookup", q="rossi", organization="x")["count"] == 2


def test_owners_offered_are_those_the_user_may_assign(client, rep, manager, teammate, other_rep):
    client.force_login(rep)
    assert [r["id"] for r in lookup(client, "accounts:owner_lookup")["results"]] == [rep.pk]
    client.force_login(manager)
    offered = {r["id"] for r in lookup(client, "accounts:owner_lookup")["results"]}
    assert {manager.pk, rep.pk, teammate.pk} <= offered and other_rep.pk not in offered
    assert [r["id"] for r in lookup(client, "accounts:owner_lookup", q=teammate.last_name)["results"]] == [teammate.pk]


@pytest.mark.parametrize("n", [2, 25])
def test_owner_lookup_in_constant_queries(client, crm_admin, n, django_assert_num_queries):
    UserFactory.create_batch(n, first_name="Luca")
    client.force_login(crm_admin)
    with django_assert_num_queries(3):  # user, results, count (an admin may assign anyone: no team query)
        body = lookup(client, "accounts:owner_lookup", q="luca")
    assert body["count"] >= n and len(body["results"]) == min(body["count"], 20)


def test_lookups_need_a_login(client):
    for name in ("contacts:organization_lookup", "contacts:contact_lookup", "accounts:owner_lookup"):
        assert client.get(reverse(name)).status_code == 302


def test_the_deal_form_lists_only_the_chosen_records_not_every_one(rep, stages):
    orgs = [OrganizationFactory(owner=rep) for _ in range(5)]
    deal = OpportunityFactory(owner=rep, stage=stages["New"], organization=orgs[2])
    html = str(OpportunityForm(instance=deal, user=rep)["organization"])
    assert 'data-autocomplete="/organizations/lookup/"' in html
    assert html.count("<option") == 2 and f'value="{orgs[2].pk}" selected' in html
    contact_html = str(OpportunityForm(instance=deal, user=rep)["contact"])
    assert 'data-autocomplete-depends="organization"' in contact_html and contact_html.count("<option") == 1
    owner_html = str(OpportunityForm(user=rep)["owner"])
    assert 'data-autocomplete="/accounts/owners/lookup/"' in owner_html


def test_the_form_still_refuses_a_record_the_user_may_not_see(client, rep, other_rep, stages):
    hidden = OrganizationFactory(owner=other_rep)
    client.force_login(rep)
    response = client.post(
        reverse("opportunities:create"),
        {"name": "X", "organization": hidden.pk, "stage": stages["New"].pk, "amount": "1", "currency": "EUR"},
    )
    assert response.status_code == 200
    assert "organization" in response.context["form"].errors
