"""Italian organizations: partita IVA, codice fiscale, province and CAP, with errors in Italian."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from contacts.models import Organization
from contacts.services import organization_create

pytestmark = pytest.mark.django_db


def _org(**fields):
    return Organization(name="Officine Rossi S.r.l.", country="Italia", **fields)


def test_province_code_is_checked_and_upper_cased_for_italy():
    org = _org(province="mi", postal_code="20121")
    org.full_clean()
    assert org.province == "MI"
    with pytest.raises(ValidationError) as error:
        _org(province="Milano").full_clean()
    assert "province" in error.value.message_dict


def test_italian_postal_code_has_five_digits():
    with pytest.raises(ValidationError) as error:
        _org(postal_code="2012").full_clean()
    assert list(error.value.message_dict) == ["postal_code"]
    _org(postal_code="00184", province="RM").full_clean()


def test_other_countries_keep_their_own_formats():
    Organization(name="Müller GmbH", country="Deutschland", province="Bayern", postal_code="80331").full_clean()
    Organization(name="Acme Ltd", country="United Kingdom", postal_code="SW1A 1AA").full_clean()


def test_errors_name_the_field_in_italian(client, rep):
    rep.language = "it"
    rep.save()
    client.force_login(rep)
    response = client.post(
        "/organizations/new/",
        {
            "name": "Officine Rossi S.r.l.",
            "vat_number": "12345678901",
            "fiscal_code": "XYZ",
            "postal_code": "2012",
            "province": "XX",
            "country": "Italia",
            "owner": rep.pk,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "12345678901 non è una partita IVA italiana valida: controlla le 11 cifre." in page
    assert "XYZ non è un codice fiscale italiano valido." in page
    assert "XX non è una provincia italiana" in page
    assert "2012 non è un CAP italiano valido" in page
    assert not Organization.objects.filter(name="Officine Rossi S.r.l.").exists()


def test_a_valid_italian_organization_is_saved(rep):
    with translation.override("it"):
        org = organization_create(
            user=rep,
            data={
                "name": "Officine Rossi S.r.l.",
                "vat_number": "IT 00743110157",
                "fiscal_code": "00743110157",
                "street": "Via Roma 1",
                "postal_code": "20121",
                "city": "Milano",
                "province": "mi",
                "country": "Italia",
            },
        )
    assert org.vat_number == "00743110157"
    assert org.address_lines == ["Via Roma 1", "20121 Milano (MI)", "Italia"]
