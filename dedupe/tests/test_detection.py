"""Every duplicate rule, on every entry path: form, quick add, API, import (the web form's are in
webforms/tests/test_services.py)."""

import pytest
from rest_framework.test import APIClient

from contacts.models import Contact, Organization
from contacts.tests.factories import ContactFactory, OrganizationFactory, valid_partita_iva
from dedupe.detection import (
    contact_candidates,
    name_key,
    organization_candidates,
    phone_key,
    tax_id_key,
)
from imports.models import ImportKind
from imports.readers import Table
from imports.services import import_rows

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ---- Normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a,b",
    [
        ("Rossi S.r.l.", "ROSSI SRL"),
        ("Rossi Srl", "rossi s.r.l"),
        ("Bianchi S.p.A.", "Bianchi SpA"),
        ("Caffè Nero s.a.s.", "CAFFE' NERO SAS"),
        ("Rossi & Figli S.R.L.", "Rossi e Figli"),
    ],
)
def test_names_that_differ_only_in_case_accents_punctuation_and_legal_form_are_the_same(a, b):
    assert name_key(a) == name_key(b)


def test_different_names_stay_different():
    assert name_key("Rossi Srl") != name_key("Rossini Srl")


def test_vat_number_with_or_without_it_prefix_is_the_same_key():
    vat = valid_partita_iva(42)
    assert tax_id_key(vat) == tax_id_key(f"IT {vat}") == tax_id_key(f"it{vat}") == vat


def test_phones_in_any_spelling_are_one_e164():
    assert (
        phone_key("02 1234 5678") == phone_key("+39 02 12345678") == phone_key("0039 02-1234-5678") == "+390212345678"
    )
    assert phone_key("not a phone") == ""


# ---- Candidates ----------------------------------------------------------------------------------


def test_organization_found_by_vat_then_by_fiscal_code_then_by_name(rep):
    vat = valid_partita_iva(7)
    by_vat = OrganizationFactory(name="Alfa S.r.l.", vat_number=vat, owner=rep)
    by_cf = OrganizationFactory(name="Beta", fiscal_code=valid_partita_iva(8), owner=rep)
    by_name = OrganizationFactory(name="Gamma S.p.A.", owner=rep)
    OrganizationFactory(name="Unrelated", owner=rep)

    found = organization_candidates(user=rep, data={"name": "Altro", "vat_number": f"IT{vat}"})
    assert [(c.record, c.reason) for c in found] == [(by_vat, "tax_id")]
    found = organization_candidates(user=rep, data={"name": "x", "vat_number": valid_partita_iva(8)})
    assert [(c.record, c.reason) for c in found] == [(by_cf, "tax_id")]
    found = organization_candidates(user=rep, data={"name": "GAMMA SPA"})
    assert [(c.record, c.reason, c.score) for c in found] == [(by_name, "name", 60)]


def test_contact_found_by_email_phone_and_name_in_the_same_organization(rep):
    org = OrganizationFactory(owner=rep)
    by_email = ContactFactory(
        first_name="Anna", last_name="Verdi", email="Anna.Verdi@Example.com", organization=org, owner=rep
    )
    by_phone = ContactFactory(first_name="Luca", last_name="Neri", email="", phone="02 1234 5678", owner=rep)
    by_name = ContactFactory(first_name="Sara", last_name="Gialli", email="", organization=org, owner=rep)

    assert [c.record for c in contact_candidates(user=rep, data={"email": "anna.verdi@example.COM"})] == [by_email]
    assert [c.reason for c in contact_candidates(user=rep, data={"mobile": "+39 02 12345678"})] == ["phone"]
    assert [c.record for c in contact_candidates(user=rep, data={"phone": "0212345678"})] == [by_phone]
    found = contact_candidates(user=rep, data={"first_name": "sara", "last_name": "GIALLI", "organization": org})
    assert [(c.record, c.reason) for c in found] == [(by_name, "name_in_organization")]
    # The same name in another organization is someone else.
    other = OrganizationFactory(owner=rep)
    assert contact_candidates(user=rep, data={"first_name": "Sara", "last_name": "Gialli", "organization": other}) == []


def test_only_records_the_user_may_see_are_candidates(rep, other_rep):
    OrganizationFactory(name="Segreta S.r.l.", owner=other_rep)
    ContactFactory(email="hidden@example.com", owner=other_rep, organization=None)
    assert organization_candidates(user=rep, data={"name": "Segreta"}) == []
    assert contact_candidates(user=rep, data={"email": "hidden@example.com"}) == []


def test_candidates_cost_a_fixed_number_of_queries(rep, django_assert_max_num_queries):
    org = OrganizationFactory(owner=rep)
    for i in range(12):
        ContactFactory(
            first_name="Mario",
            last_name="Rossi",
            email=f"m{i}@example.com",
            phone="021234567",
            organization=org,
            owner=rep,
        )
    with django_assert_max_num_queries(4):
        found = contact_candidates(
            user=rep,
            data={
                "email": "m1@example.com",
                "phone": "02 1234567",
                "first_name": "Mario",
                "last_name": "Rossi",
                "organization": org,
            },
        )
    assert len(found) == 10  # at most LIMIT per rule, each record once


# ---- Entry paths ---------------------------------------------------------------------------------


def test_the_form_shows_possibly_the_same_with_a_link_and_creates_only_when_confirmed(client, rep):
    existing = OrganizationFactory(name="Rossi S.r.l.", owner=rep)
    client.force_login(rep)
    data = {"name": "ROSSI SRL", "country": "Italia", "owner": rep.pk}
    response = client.post("/organizations/new/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="possible-duplicates"' in html and existing.get_absolute_url() in html
    assert Organization.objects.count() == 1
    response = client.post("/organizations/new/", {**data, "confirm_new": "1"})
    assert response.status_code == 302
    assert Organization.objects.count() == 2


def test_the_contact_form_warns_about_the_same_email(client, rep):
    ContactFactory(email="anna@example.com", owner=rep)
    client.force_login(rep)
    data = {"first_name": "Anna", "last_name": "B", "email": "ANNA@example.com", "owner": rep.pk}
    html = client.post("/contacts/new/", data).content.decode()
    assert 'data-testid="possible-duplicates"' in html
    assert Contact.objects.count() == 1
    assert client.post("/contacts/new/", {**data, "confirm_new": "1"}).status_code == 302
    assert Contact.objects.count() == 2


def test_the_api_answers_409_with_the_candidates_unless_allow_duplicate(rep):
    existing = OrganizationFactory(name="Bianchi S.p.A.", owner=rep)
    response = api(rep).post("/api/v1/organizations/", {"name": "Bianchi SpA"}, format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "possible_duplicate"
    assert error["candidates"][0]["id"] == existing.pk and error["candidates"][0]["reason"] == "name"
    assert Organization.objects.count() == 1
    response = api(rep).post("/api/v1/organizations/?allow_duplicate=true", {"name": "Bianchi SpA"}, format="json")
    assert response.status_code == 201
    assert Organization.objects.count() == 2


def test_the_api_409_for_a_contact_with_the_same_phone(rep):
    ContactFactory(phone="+39 333 1234567", owner=rep, organization=None)
    response = api(rep).post("/api/v1/contacts/", {"first_name": "X", "mobile": "333 123 4567"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["candidates"][0]["reason"] == "phone"


def test_the_schema_documents_the_flag_and_the_409():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    create = schema["paths"]["/api/v1/contacts/"]["post"]
    assert "allow_duplicate" in [p["name"] for p in create["parameters"]]
    assert "409" in create["responses"]


def test_quick_add_uses_the_same_organization_written_another_way(rep, stages):
    from opportunities.services import opportunity_quick_add

    org = OrganizationFactory(name="Verdi S.r.l.", owner=rep)
    deal = opportunity_quick_add(user=rep, name="Fornitura", organization_name="VERDI SRL", stage=stages["New"])
    assert deal.organization == org
    assert Organization.objects.count() == 1


def test_import_creates_and_flags_possible_duplicates(rep):
    existing = ContactFactory(
        first_name="Anna", last_name="Verdi", email="", phone="02 1234 5678", owner=rep, organization=None
    )
    table = Table(
        ["Nome", "Cognome", "Telefono"], [{"Nome": "Annalisa", "Cognome": "Verdi", "Telefono": "+390212345678"}]
    )
    result = import_rows(
        kind=ImportKind.CONTACT,
        table=table,
        mapping={"first_name": "Nome", "last_name": "Cognome", "phone": "Telefono"},
        user=rep,
    )
    [outcome] = result.outcomes
    assert outcome.action == "created"
    assert any(f"#{existing.pk}" in note for note in outcome.notes)
    assert Contact.objects.count() == 2


# ---- Every rule on every entry path: the ones the tests above leave out --------------------------


def test_the_organization_form_catches_the_same_vat_number_with_the_it_prefix(client, rep):
    vat = valid_partita_iva(42)
    existing = OrganizationFactory(name="Ditta Vecchia", vat_number=vat, owner=rep)
    client.force_login(rep)
    data = {"name": "Ditta Nuova", "country": "Italia", "owner": rep.pk, "vat_number": f"IT {vat}"}
    response = client.post("/organizations/new/", data)
    html = response.content.decode()
    assert response.status_code == 200 and existing.get_absolute_url() in html
    assert Organization.objects.count() == 1


def test_the_contact_form_catches_the_same_phone_and_the_same_name_in_the_organization(client, rep):
    org = OrganizationFactory(owner=rep)
    by_phone = ContactFactory(phone="+39 02 1234 5678", email="", owner=rep, organization=None)
    by_name = ContactFactory(first_name="Lucia", last_name="Ferri", email="", phone="", organization=org, owner=rep)
    client.force_login(rep)
    html = client.post(
        "/contacts/new/", {"first_name": "Pia", "last_name": "Neri", "phone": "02-12345678", "owner": rep.pk}
    ).content.decode()
    assert 'data-testid="possible-duplicates"' in html and by_phone.get_absolute_url() in html
    html = client.post(
        "/contacts/new/", {"first_name": "LUCIA", "last_name": "ferri", "organization": org.pk, "owner": rep.pk}
    ).content.decode()
    assert 'data-testid="possible-duplicates"' in html and by_name.get_absolute_url() in html
    assert Contact.objects.count() == 2


def test_the_board_quick_add_reuses_the_organization_written_another_way(client, rep, stages):
    from django.urls import reverse

    from opportunities.models import Opportunity

    org = OrganizationFactory(name="Caffè Nero S.a.s.", owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("pipeline:quick_add"),
        {"stage": stages["New"].pk, "name": "Macchine", "organization": "CAFFE' NERO SAS"},
    )
    assert response.status_code == 302
    assert Opportunity.objects.get(name="Macchine").organization == org
    assert Organization.objects.count() == 1


def test_the_api_409_for_the_same_email_the_same_vat_and_the_same_name_in_the_organization(rep):
    vat = valid_partita_iva(77)
    org = OrganizationFactory(name="Verdi S.p.A.", vat_number=vat, owner=rep)
    anna = ContactFactory(email="anna@example.com", phone="", owner=rep, organization=None)
    luca = ContactFactory(first_name="Luca", last_name="Bassi", email="", phone="", organization=org, owner=rep)
    for path, body, existing, reason in [
        ("/api/v1/contacts/", {"first_name": "A", "email": "ANNA@Example.com"}, anna, "email"),
        (
            "/api/v1/contacts/",
            {"first_name": "luca", "last_name": "BASSI", "organization": org.pk},
            luca,
            "name_in_organization",
        ),
        ("/api/v1/organizations/", {"name": "Altro nome", "vat_number": f"IT{vat}"}, org, "tax_id"),
    ]:
        response = api(rep).post(path, body, format="json")
        assert response.status_code == 409, (reason, response.content)
        [candidate] = response.json()["error"]["candidates"]
        assert (candidate["id"], candidate["reason"]) == (existing.pk, reason)
    assert (Contact.objects.count(), Organization.objects.count()) == (2, 1)
    response = api(rep).post(
        "/api/v1/contacts/?allow_duplicate=true", {"first_name": "A", "email": "ANNA@Example.com"}, format="json"
    )
    assert response.status_code == 201 and Contact.objects.count() == 3


def test_the_import_flags_an_organization_by_its_normalised_name_and_a_contact_by_email(rep):
    org = OrganizationFactory(name="Rossi & Figli S.r.l.", owner=rep)
    anna = ContactFactory(email="anna@example.com", owner=rep, organization=None)
    result = import_rows(
        kind=ImportKind.ORGANIZATION,
        table=Table(["Ragione sociale"], [{"Ragione sociale": "ROSSI E FIGLI SRL"}]),
        mapping={"name": "Ragione sociale"},
        user=rep,
    )
    [outcome] = result.outcomes
    assert any(f"#{org.pk}" in note for note in outcome.notes), outcome
    result = import_rows(
        kind=ImportKind.CONTACT,
        table=Table(["Nome", "Email"], [{"Nome": "Annina", "Email": "Anna@Example.com"}]),
        mapping={"first_name": "Nome", "email": "Email"},
        user=rep,
    )
    [outcome] = result.outcomes
    assert outcome.action != "rejected"
    assert outcome.action == "updated" or any(f"#{anna.pk}" in note for note in outcome.notes), outcome
