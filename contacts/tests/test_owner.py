"""Who an organization or a contact may be given to (security review, finding 5), and that no API
write that fails leaves a row behind."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from contacts.api.views import OrganizationSerializer
from contacts.models import Contact, Organization
from contacts.tests.factories import ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient(raise_request_exception=False)  # a 500 is an answer to look at, not a crash
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    ("url", "body", "model"),
    [
        ("/api/v1/organizations/", {"name": "Per Sud S.r.l."}, Organization),
        ("/api/v1/contacts/", {"first_name": "Anna", "last_name": "Sud"}, Contact),
    ],
)
def test_the_api_refuses_an_owner_of_another_team_with_a_400_and_creates_nothing(rep, other_rep, url, body, model):
    response = api(rep).post(url, {**body, "owner": other_rep.pk}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == ["owner"]
    assert not model.objects.exists()


@pytest.mark.parametrize("kind", ["organizations", "contacts"])
def test_the_api_refuses_handing_a_record_to_another_team(rep, other_rep, kind):
    record = OrganizationFactory(owner=rep) if kind == "organizations" else ContactFactory(owner=rep)
    response = api(rep).patch(f"/api/v1/{kind}/{record.pk}/", {"owner": other_rep.pk}, format="json")
    assert response.status_code == 400 and "owner" in response.json()["error"]["fields"]
    record.refresh_from_db()
    assert record.owner == rep


def test_an_api_write_whose_answer_fails_leaves_nothing_behind(rep, monkeypatch):
    """Whatever breaks after the service wrote (here: rendering the answer), the request answers
    500 and the row is gone with it, so a retry cannot make a second one."""

    def broken(self, obj):
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(OrganizationSerializer, "to_representation", broken)
    response = api(rep).post("/api/v1/organizations/", {"name": "Fantasma S.r.l."}, format="json")
    assert response.status_code == 500
    assert not Organization.objects.exists()


def test_the_forms_offer_only_assignable_owners_and_refuse_another_on_the_field(client, rep, teammate):
    client.force_login(rep)
    for url, data, model in [
        (reverse("contacts:organization_create"), {"name": "Per il collega", "country": "Italia"}, Organization),
        (reverse("contacts:contact_create"), {"first_name": "Anna", "last_name": "Neri"}, Contact),
    ]:
        assert list(client.get(url).context["form"].fields["owner"].queryset) == [rep]
        response = client.post(url, {**data, "owner": teammate.pk})
        assert response.status_code == 200 and "owner" in response.context["form"].errors, url
        assert not model.objects.exists()


def test_an_edit_keeps_an_owner_the_editor_could_not_have_chosen(client, manager, rep):
    """The rep left (deactivated): their manager edits the organization without touching its owner.
    The record's own owner is always offered and keeping it is always allowed."""
    org = OrganizationFactory(owner=rep, name="Nord S.r.l.")
    rep.is_active = False
    rep.save()
    client.force_login(manager)
    url = reverse("contacts:organization_edit", args=[org.pk])
    assert rep in client.get(url).context["form"].fields["owner"].queryset
    response = client.post(url, {"name": "Nord S.p.A.", "country": "Italia", "owner": rep.pk})
    assert response.status_code == 302
    assert Organization.objects.get(pk=org.pk).name == "Nord S.p.A."
