"""Values go through each record kind's own services; definitions change without losing data."""

import pytest
from django.core.exceptions import PermissionDenied

from contacts.services import contact_create, organization_create, organization_update
from core.exceptions import ValidationError
from customfields.models import CustomField
from customfields.services import (
    custom_field_archive,
    custom_field_create,
    custom_field_restore,
    custom_field_update,
)
from opportunities.models import OpportunityChange
from opportunities.services import opportunity_update
from opportunities.tests.factories import OpportunityFactory
from products.services import product_create, product_update

from .factories import CustomFieldFactory, settore

pytestmark = pytest.mark.django_db


def test_a_deal_keeps_valid_values_and_the_audit_trail_names_the_field(rep, pipeline):
    settore()
    CustomFieldFactory(key="budget", label_it="Budget approvato", label_en="Approved budget", type="money")
    deal = OpportunityFactory(owner=rep, custom_fields={"settore": "servizi", "budget": "15000"})
    assert deal.custom_fields == {"settore": "servizi", "budget": {"amount": "15000.00", "currency": "EUR"}}

    opportunity_update(opportunity=deal, user=rep, data={"custom_fields": {"settore": "pa"}})
    deal.refresh_from_db()
    assert deal.custom_fields["settore"] == "pa"
    assert deal.custom_fields["budget"]["amount"] == "15000.00"  # keys not sent are kept
    change = OpportunityChange.objects.get(opportunity=deal, field="custom_fields.settore")
    assert (change.old_value, change.new_value) == ("Services", "Public sector")
    assert change.field_label == "Sector"


def test_invalid_values_are_refused_naming_the_key(rep, pipeline):
    settore()
    CustomFieldFactory(key="pec", type="email")
    with pytest.raises(ValidationError) as error:
        OpportunityFactory(owner=rep, custom_fields={"settore": "agricoltura", "pec": "nope", "ghost": 1})
    assert set(error.value.message_dict) == {"custom_fields.settore", "custom_fields.pec", "custom_fields.ghost"}


def test_required_fields_are_enforced_on_create_and_cannot_be_emptied(rep, pipeline):
    CustomFieldFactory(key="codice_sdi", label_en="SDI code", type="text", required=True)
    with pytest.raises(ValidationError) as error:
        OpportunityFactory(owner=rep)
    assert error.value.message_dict == {"custom_fields.codice_sdi": ["SDI code is required."]}
    deal = OpportunityFactory(owner=rep, custom_fields={"codice_sdi": "M5UXCR1"})
    with pytest.raises(ValidationError):
        opportunity_update(opportunity=deal, user=rep, data={"custom_fields": {"codice_sdi": ""}})
    # Other edits of a deal are not blocked by the custom fields.
    opportunity_update(opportunity=deal, user=rep, data={"name": "Rinominato"})


def test_defaults_fill_new_records(rep, pipeline):
    CustomFieldFactory(key="canale", type="text", default="diretto")
    assert OpportunityFactory(owner=rep).custom_fields == {"canale": "diretto"}


def test_organizations_contacts_and_products_validate_through_their_services(rep, manager):
    CustomFieldFactory(entity="organization", key="pec", type="email", required=True)
    CustomFieldFactory(entity="contact", key="cellulare", type="phone")
    CustomFieldFactory(entity="product", key="garanzia_mesi", type="integer")

    with pytest.raises(ValidationError) as error:
        organization_create(user=rep, data={"name": "ACME"})
    assert "custom_fields.pec" in error.value.message_dict
    org = organization_create(user=rep, data={"name": "ACME", "custom_fields": {"pec": "Acme@PEC.it"}})
    assert org.custom_fields == {"pec": "acme@pec.it"}
    org = organization_update(organization=org, user=rep, data={"custom_fields": {"pec": "nuova@pec.it"}})
    assert org.changes == {"custom_fields.pec": ("acme@pec.it", "nuova@pec.it")}

    contact = contact_create(user=rep, data={"first_name": "Mario", "last_name": "Rossi", "custom_fields": {}})
    with pytest.raises(ValidationError) as error:
        contact_create(user=rep, data={"first_name": "L", "last_name": "B", "custom_fields": {"cellulare": "12"}})
    assert "custom_fields.cellulare" in error.value.message_dict
    assert contact.custom_fields == {}

    product = product_create(user=manager, name="Server", unit_price=100, custom_fields={"garanzia_mesi": "24"})
    assert product.custom_fields == {"garanzia_mesi": 24}
    with pytest.raises(ValidationError) as error:
        product_update(product=product, user=manager, data={"custom_fields": {"garanzia_mesi": "due"}})
    assert "custom_fields.garanzia_mesi" in error.value.message_dict


def test_only_administrators_change_definitions(rep, manager, crm_admin):
    for user in (rep, manager):
        with pytest.raises(PermissionDenied):
            custom_field_create(user=user, entity="deal", key="x", label_it="X", type="text")
    field = custom_field_create(user=crm_admin, entity="deal", key="x", label_it="X", type="text")
    assert field.label_en == "X"
    with pytest.raises(ValidationError) as error:
        custom_field_create(user=crm_admin, entity="deal", key="x", label_it="X", type="text")
    assert "key" in error.value.message_dict


def test_relabel_remove_a_choice_archive_and_restore_lose_nothing(rep, pipeline, crm_admin):
    field = settore()
    deal = OpportunityFactory(owner=rep, custom_fields={"settore": "manifattura"})

    field = custom_field_update(
        user=crm_admin,
        definition=field,
        data={
            "label_it": "Settore di mercato",
            "choices": [
                {"key": "servizi", "label_it": "Servizi", "label_en": "Services"},
                {"key": "pa", "label_it": "PA", "label_en": "Public sector"},
            ],
        },
    )
    assert [c["key"] for c in field.choices if c["removed"]] == ["manifattura"]
    deal.refresh_from_db()
    assert deal.custom_fields == {"settore": "manifattura"}
    assert field.choice_label("manifattura") == "Manufacturing (removed)"
    # The old value may stay on the deal, but no deal can choose it any more.
    opportunity_update(opportunity=deal, user=rep, data={"custom_fields": {"settore": "manifattura"}})
    with pytest.raises(ValidationError):
        OpportunityFactory(owner=rep, custom_fields={"settore": "manifattura"})

    custom_field_archive(user=crm_admin, definition=field)
    deal.refresh_from_db()
    assert deal.custom_fields == {"settore": "manifattura"}
    with pytest.raises(ValidationError):
        opportunity_update(opportunity=deal, user=rep, data={"custom_fields": {"settore": "pa"}})
    custom_field_restore(user=crm_admin, definition=field)
    opportunity_update(opportunity=deal, user=rep, data={"custom_fields": {"settore": "pa"}})


def test_a_type_change_converts_values_or_names_the_records_that_would_not(rep, pipeline, crm_admin):
    field = CustomFieldFactory(key="dipendenti", type="text")
    ok = OpportunityFactory(owner=rep, custom_fields={"dipendenti": "40"})
    bad = OpportunityFactory(owner=rep, custom_fields={"dipendenti": "circa 40"})

    with pytest.raises(ValidationError) as error:
        custom_field_update(user=crm_admin, definition=field, data={"type": "integer"})
    message = error.value.message_dict["type"][0]
    assert "1 record(s)" in message and f"#{bad.pk}" in message and f"#{ok.pk}" not in message
    assert CustomField.objects.get(pk=field.pk).type == "text"

    opportunity_update(opportunity=bad, user=rep, data={"custom_fields": {"dipendenti": "41"}})
    custom_field_update(user=crm_admin, definition=field, data={"type": "integer"})
    ok.refresh_from_db()
    assert ok.custom_fields == {"dipendenti": 40}


def test_definitions_are_read_once_per_request(client, rep, pipeline, django_assert_max_num_queries):
    from customfields.selectors import definitions_cache_start, definitions_cache_stop, definitions_for

    settore()
    definitions_cache_start()
    try:
        definitions_for("deal")
        with django_assert_max_num_queries(0):
            definitions_for("deal")
            definitions_for("organization")
    finally:
        definitions_cache_stop()
