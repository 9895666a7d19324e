"""A database constraint violation is a 400 or a form error naming the field, never a 500.

Services validate constraints before writing, so the database refuses a row only when someone
saved a conflicting one in between. The tests make that happen for real: a receiver inserts the
conflicting row right after validation, just before the save (as a concurrent request would)."""

import pytest
from django.db.models.signals import pre_save
from django.urls import reverse

from contacts.models import Organization
from contacts.tests.factories import OrganizationFactory, valid_partita_iva

pytestmark = pytest.mark.django_db

VAT = valid_partita_iva(4242)


@pytest.fixture
def someone_saves_the_same_vat_meanwhile(rep):
    """Just before the next organization is saved, another one with the same VAT number lands."""
    fired = []

    def conflicting_insert(sender, instance, **kwargs):
        if not fired and instance.pk is None and instance.vat_number == VAT:
            fired.append(True)
            Organization.objects.bulk_create([Organization(name="Salvata prima", vat_number=VAT, owner=rep)])

    pre_save.connect(conflicting_insert, sender=Organization)
    yield fired
    pre_save.disconnect(conflicting_insert, sender=Organization)


def test_page_a_concurrent_duplicate_shows_on_the_form_field(client, rep, someone_saves_the_same_vat_meanwhile):
    client.force_login(rep)

    response = client.post(
        reverse("contacts:organization_create"),
        {"name": "Arrivata dopo", "vat_number": VAT, "country": "IT", "city": "Milano", "province": "MI"},
    )

    assert someone_saves_the_same_vat_meanwhile == [True]
    assert response.status_code == 200
    assert response.context["form"].errors["vat_number"] == ["Another organization already has this VAT number."]
    # Nothing of the refused save is left (here the "concurrent" row shared its transaction, so it
    # went too; a real concurrent one stays).
    assert not Organization.objects.filter(name="Arrivata dopo").exists()


def test_api_a_concurrent_duplicate_is_a_400_naming_the_field(client, rep, someone_saves_the_same_vat_meanwhile):
    client.force_login(rep)

    response = client.post(
        "/api/v1/organizations/", {"name": "Arrivata dopo", "vat_number": VAT}, content_type="application/json"
    )

    assert someone_saves_the_same_vat_meanwhile == [True]
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["fields"] == {"vat_number": ["Another organization already has this VAT number."]}


def test_a_violation_no_view_caught_is_a_400_page_not_a_500(client, rep, settings):
    settings.ROOT_URLCONF = "tests.integrity_urls"
    client.force_login(rep)
    client.raise_request_exception = False

    page = client.post("/test/team-twice/")
    script = client.post("/test/team-twice/", HTTP_ACCEPT="application/json")

    assert page.status_code == 400
    assert "Not saved" in page.content.decode()
    assert "team with this name already exists" in page.content.decode().lower()
    assert script.status_code == 400 and script.json()["ok"] is False


def test_an_unknown_constraint_gets_a_plain_explanation_without_database_details():
    from django.db import IntegrityError

    from core.integrity import integrity_error_explained

    field, message = integrity_error_explained(IntegrityError('null value in column "secret_col" violates not-null'))

    assert field is None
    assert "secret_col" not in message and "nothing was saved" in message


def test_the_vat_check_of_the_form_still_comes_first(client, rep):
    OrganizationFactory(owner=rep, vat_number=VAT)
    client.force_login(rep)

    response = client.post(reverse("contacts:organization_create"), {"name": "Seconda", "vat_number": VAT})

    assert response.status_code == 200, response.context["form"].errors
    errors = [message for messages in response.context["form"].errors.values() for message in messages]
    assert "Another organization already has this VAT number." in errors
