"""Legal hold (page and API), and the person's export and erasure through the REST API: the same
services and permissions as the pages, an Idempotency-Key for the erasure, a schema without
warnings."""

import io
import json
import zipfile

import pytest
from rest_framework.test import APIClient

from contacts.tests.factories import ContactFactory
from core.models import OutboxEvent
from notes.services import note_create
from privacy.models import ErasureLog, LegalHold
from privacy.services import legal_hold_set

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ---- Legal hold: the page --------------------------------------------------------------------------


def test_a_manager_sets_a_legal_hold_with_a_reason_and_erasure_is_refused_until_lifted(client, manager, rep, crm_admin):
    person = ContactFactory(owner=rep, first_name="Ugo", last_name="Tenuto")
    client.force_login(manager)
    assert client.post(f"/privacy/contacts/{person.pk}/legal-hold/", {"reason": "  "}).status_code == 200
    assert not LegalHold.objects.exists()  # a reason is required
    response = client.post(f"/privacy/contacts/{person.pk}/legal-hold/", {"reason": "Contenzioso 2026/14"})
    assert response.status_code == 302
    hold = LegalHold.objects.get(contact=person)
    assert hold.reason == "Contenzioso 2026/14" and hold.set_by == manager
    html = client.get(person.get_absolute_url()).content.decode()
    assert 'data-testid="legal-hold-badge"' in html and "Contenzioso 2026/14" in html

    client.force_login(crm_admin)
    page = client.get(f"/privacy/contacts/{person.pk}/erase/").content.decode()
    assert "Contenzioso 2026/14" in page and 'name="confirm"' not in page
    client.post(f"/privacy/contacts/{person.pk}/erase/", {"confirm": "1"})
    person.refresh_from_db()
    assert person.last_name == "Tenuto" and not ErasureLog.objects.exists()

    client.force_login(manager)
    assert client.post(f"/privacy/contacts/{person.pk}/legal-hold/", {"lift": "1"}).status_code == 302
    assert not LegalHold.objects.exists()
    assert set(OutboxEvent.objects.filter(topic__startswith="contact.legal_hold").values_list("topic", flat=True)) == {
        "contact.legal_hold_set",
        "contact.legal_hold_lifted",
    }
    client.force_login(crm_admin)
    assert client.post(f"/privacy/contacts/{person.pk}/erase/", {"confirm": "1"}).status_code == 302
    person.refresh_from_db()
    assert person.full_name == "[erased]"


def test_a_rep_may_not_set_a_legal_hold_and_others_do_not_see_the_contact(client, rep, teammate, other_rep):
    person = ContactFactory(owner=rep)
    for user, status in ((rep, 403), (teammate, 404), (other_rep, 404)):
        client.force_login(user)
        assert client.get(f"/privacy/contacts/{person.pk}/legal-hold/").status_code == status
        assert client.post(f"/privacy/contacts/{person.pk}/legal-hold/", {"reason": "x"}).status_code == status
    assert not LegalHold.objects.exists()
    client.force_login(rep)
    html = client.get(person.get_absolute_url()).content.decode()
    assert f"/privacy/contacts/{person.pk}/legal-hold/" not in html  # no button for who may not


# ---- Legal hold: the API -----------------------------------------------------------------------


def test_the_api_sets_reads_and_lifts_a_legal_hold(manager, rep):
    person = ContactFactory(owner=rep)
    url = f"/api/v1/contacts/{person.pk}/legal-hold/"
    assert api(rep).get(url).json()["held"] is False
    assert api(rep).put(url, {"reason": "Verifica fiscale"}, format="json").status_code == 403
    response = api(manager).put(url, {"reason": "Verifica fiscale"}, format="json")
    assert response.status_code == 200
    assert response.json()["held"] is True and response.json()["set_by"] == manager.pk
    assert api(rep).get(url).json()["reason"] == "Verifica fiscale"
    response = api(manager).put(url, {"reason": ""}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]
    assert api(manager).delete(url).status_code == 204
    assert api(rep).get(url).json() == {"held": False, "reason": "", "set_by": None, "set_at": None}


# ---- Export and erasure through the API ------------------------------------------------------


def test_the_api_exports_everything_about_the_person_for_those_who_see_them(rep, other_rep):
    person = ContactFactory(owner=rep, first_name="Ada", last_name="Esporta", email="ada@example.org")
    note_create(user=rep, record=person, body="Ada preferisce la mail")
    response = api(rep).get(f"/api/v1/contacts/{person.pk}/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["contact_id"] == person.pk and manifest["rows"]["notes"] == 1
    assert json.loads(archive.read("contact.json"))["email"] == "ada@example.org"
    assert api(other_rep).get(f"/api/v1/contacts/{person.pk}/export/").status_code == 404


def test_the_api_erases_once_per_idempotency_key_for_administrators_only(crm_admin, manager, rep):
    person = ContactFactory(owner=rep, first_name="Ivo", last_name="Cancellato", email="ivo@example.org")
    url = f"/api/v1/contacts/{person.pk}/erase/"
    response = api(manager).post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="erase-1")
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.last_name == "Cancellato"

    first = api(crm_admin).post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="erase-1")
    retry = api(crm_admin).post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="erase-1")
    assert first.status_code == 200, first.content
    assert retry.status_code == 200 and retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert ErasureLog.objects.count() == 1
    body = first.json()
    assert body["contact"] == person.pk and body["erased_by"] == crm_admin.pk
    assert "Cancellato" not in json.dumps(body) and "ivo@example.org" not in json.dumps(body)
    person.refresh_from_db()
    assert person.full_name == "[erased]" and person.email == ""


def test_the_api_refuses_to_erase_under_legal_hold_with_409(crm_admin, manager, rep):
    person = ContactFactory(owner=rep, last_name="Trattenuto")
    legal_hold_set(user=manager, contact=person, reason="Contenzioso")
    response = api(crm_admin).post(f"/api/v1/contacts/{person.pk}/erase/", {}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "legal_hold"
    person.refresh_from_db()
    assert person.last_name == "Trattenuto" and not ErasureLog.objects.exists()


def test_the_schema_documents_export_erase_and_legal_hold():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    export = schema["paths"]["/api/v1/contacts/{id}/export/"]["get"]
    assert "application/zip" in export["responses"]["200"]["content"]
    erase = schema["paths"]["/api/v1/contacts/{id}/erase/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in erase["parameters"]]
    assert {"200", "403", "409", "422"} <= set(erase["responses"])
    assert {"get", "put", "delete"} <= set(schema["paths"]["/api/v1/contacts/{id}/legal-hold/"])


@pytest.mark.parametrize("n", [1, 6])
def test_export_and_legal_hold_queries_do_not_grow_with_the_records(rep, n, django_assert_num_queries):
    from activities.tests.factories import ActivityFactory

    person = ContactFactory(owner=rep, first_name="Ada", last_name="Conta", email="ada@example.org")
    for i in range(n):
        note_create(user=rep, record=person, body=f"Nota {i}")
        ActivityFactory(contact=person, owner=rep)
    client = api(rep)
    client.get(f"/api/v1/contacts/{person.pk}/legal-hold/")  # warm the user's caches
    with django_assert_num_queries(2):  # the contact, its hold
        assert client.get(f"/api/v1/contacts/{person.pk}/legal-hold/").status_code == 200
    with django_assert_num_queries(14):  # the contact, then one query for each of the 13 kinds a contact has
        assert client.get(f"/api/v1/contacts/{person.pk}/export/").status_code == 200
