"""One canonical form per VAT number (issue 16: "IT76543210157" and "11122230375" side by side)."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError

from contacts.models import Organization
from contacts.services import organization_create
from contacts.tests.factories import OrganizationFactory, valid_partita_iva
from contacts.validators import vat_number_canonical

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("IT76543210157", "76543210157"),
        (" it 765.432.101-57 ", "76543210157"),
        ("76543210157", "76543210157"),
        ("de 136 695 976", "DE136695976"),
        ("", ""),
    ],
)
def test_vat_number_canonical(typed, stored):
    assert vat_number_canonical(typed) == stored


def test_the_same_partita_iva_in_two_spellings_is_one_organization(rep):
    vat = valid_partita_iva(42)
    first = organization_create(user=rep, data={"name": "Uno srl", "vat_number": f"IT{vat}"})
    assert first.vat_number == vat
    with pytest.raises(ValidationError) as exc:
        organization_create(user=rep, data={"name": "Due srl", "vat_number": vat})
    assert "vat_number" in exc.value.message_dict


def test_migration_normalises_existing_rows(rep):
    vat, other = valid_partita_iva(7), valid_partita_iva(8)
    prefixed = OrganizationFactory(owner=rep)
    Organization.objects.filter(pk=prefixed.pk).update(vat_number=f"IT{vat}")
    plain = OrganizationFactory(owner=rep)
    Organization.objects.filter(pk=plain.pk).update(vat_number=other)
    clash = OrganizationFactory(owner=rep)
    Organization.objects.filter(pk=clash.pk).update(vat_number=f"IT{other}")  # the same as ``plain``
    migration = importlib.import_module("contacts.migrations.0003_organization_vat_number_canonical")
    migration.normalise(django_apps, None)
    values = dict(Organization.objects.values_list("pk", "vat_number"))
    assert values[prefixed.pk] == vat
    assert values[plain.pk] == other
    assert values[clash.pk] == f"IT{other}"  # left for a person to merge, not a constraint violation
