"""Imports fill custom fields: a column maps to one (by its key or label), its values are validated
as on every other path, and a refused value names the row and the file's column."""

import pytest

from contacts.models import Organization
from customfields.tests.factories import CustomFieldFactory, settore
from imports.fields import auto_mapping
from imports.models import ImportKind
from imports.readers import read_table
from imports.services import import_rows
from imports.tests.test_services import csv_bytes
from opportunities.models import Opportunity
from products.models import Product

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pipeline")]


def run(kind, rows, user, mapping=None):
    table = read_table(csv_bytes(rows), "f.csv")
    return import_rows(kind=kind, table=table, mapping=mapping or auto_mapping(kind, table.headers), user=user)


def _comparto():
    """A choice field on organizations ("Settore" is the organization's own sector column)."""
    choices = settore(entity="product").choices  # the same three sectors
    return CustomFieldFactory(
        entity="organization", key="comparto", label_it="Comparto", label_en="Segment", type="choice", choices=choices
    )


def test_organization_columns_map_to_custom_fields_by_label_and_values_are_stored_typed(rep, manager):
    _comparto()
    CustomFieldFactory(entity="organization", key="addetti", label_it="Addetti in sede", type="integer")
    CustomFieldFactory(entity="organization", key="budget", label_it="Budget approvato", type="money")
    CustomFieldFactory(entity="organization", key="firma", label_it="Data firma", type="date")
    CustomFieldFactory(entity="organization", key="referente", label_it="Referente", type="user")
    CustomFieldFactory(entity="organization", key="mail_ordini", label_it="Mail ordini", type="email")
    rows = [
        [
            "Ragione sociale",
            "Comparto",
            "Addetti in sede",
            "Budget approvato",
            "Data firma",
            "Referente",
            "Mail ordini",
        ],
        ["Acme", "Pubblica amministrazione", "1250", "1.234,50 USD", "31/12/2026", "manager", "Info@Acme.it"],
        ["Beta", "servizi", "", "10", "", "", ""],
    ]

    mapping = auto_mapping(ImportKind.ORGANIZATION, rows[0])
    result = run(ImportKind.ORGANIZATION, rows, rep)

    assert mapping["custom_fields.comparto"] == "Comparto"
    assert mapping["custom_fields.budget"] == "Budget approvato"
    assert mapping["custom_fields.addetti"] == "Addetti in sede", mapping
    assert [o.action for o in result.outcomes] == ["created", "created"], result.rejected
    acme = Organization.objects.get(name="Acme")
    assert acme.custom_fields == {
        "comparto": "pa",
        "addetti": 1250,
        "budget": {"amount": "1234.50", "currency": "USD"},
        "firma": "2026-12-31",
        "referente": manager.pk,
        "mail_ordini": "info@acme.it",
    }
    assert Organization.objects.get(name="Beta").custom_fields == {
        "comparto": "servizi",
        "budget": {"amount": "10.00", "currency": "EUR"},
    }


def test_invalid_values_are_refused_naming_the_row_and_the_column(rep):
    _comparto()
    CustomFieldFactory(entity="organization", key="mail_ordini", label_it="Mail ordini", type="email")
    CustomFieldFactory(entity="organization", key="dipendenti", label_it="Dipendenti", type="integer")
    rows = [
        ["Ragione sociale", "Comparto", "Mail ordini", "Dipendenti"],
        ["Ok", "servizi", "ok@example.com", "3"],
        ["Bad choice", "Agricoltura", "", ""],
        ["Bad mail", "", "not-an-address", ""],
        ["Bad number", "", "", "tre"],
    ]

    result = run(ImportKind.ORGANIZATION, rows, rep)

    assert [o.action for o in result.outcomes] == ["created", "rejected", "rejected", "rejected"]
    bad_choice, bad_mail, bad_number = result.rejected
    assert bad_choice.line == 3 and bad_choice.errors[0][0] == "Comparto" and "Agricoltura" in bad_choice.reason
    assert bad_mail.line == 4 and bad_mail.errors == [("Mail ordini", "Enter a valid e-mail address.")]
    assert bad_number.line == 5 and bad_number.errors[0][0] == "Dipendenti"
    assert not Organization.objects.filter(name__startswith="Bad").exists()


def test_a_required_custom_field_is_enforced_on_import(rep):
    CustomFieldFactory(entity="organization", key="sdi", label_it="Codice SDI", label_en="SDI code", required=True)

    result = run(ImportKind.ORGANIZATION, [["Ragione sociale", "Codice SDI"], ["Acme", ""], ["Beta", "M5UXCR1"]], rep)

    assert [o.action for o in result.outcomes] == ["rejected", "created"]
    assert result.rejected[0].errors[0][0] == "Codice SDI"


def test_deals_and_products_import_custom_values(crm_admin):
    settore()  # on deals
    CustomFieldFactory(
        entity="deal",
        key="tags_cf",
        label_it="Canali",
        type="multi_choice",
        choices=[
            {"key": "web", "label_it": "Sito", "label_en": "Web", "removed": False},
            {"key": "fiera", "label_it": "Fiera", "label_en": "Trade fair", "removed": False},
        ],
    )
    CustomFieldFactory(entity="product", key="peso", label_it="Peso", type="decimal")
    deals = run(
        ImportKind.OPPORTUNITY,
        [["Nome trattativa", "Azienda", "Settore", "Canali"], ["Rinnovo", "Acme", "Manifattura", "Sito; trade fair"]],
        crm_admin,
    )
    products = run(ImportKind.PRODUCT, [["Nome", "Prezzo", "Peso"], ["Widget", "10", "1,5"]], crm_admin)
    again = run(ImportKind.PRODUCT, [["Nome", "Prezzo", "Peso"], ["Widget", "10", "2"]], crm_admin)

    assert [o.action for o in deals.outcomes] == ["created"], deals.rejected
    assert Opportunity.objects.get(name="Rinnovo").custom_fields == {
        "settore": "manifattura",
        "tags_cf": ["web", "fiera"],
    }
    assert [o.action for o in products.outcomes] == ["created"]
    assert [o.action for o in again.outcomes] == ["updated"]
    assert Product.objects.get(name="Widget").custom_fields == {"peso": "2"}
