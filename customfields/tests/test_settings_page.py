"""The administrators' settings page for custom fields."""

import pytest

from customfields.models import CustomField
from opportunities.tests.factories import OpportunityFactory

from .factories import CustomFieldFactory

pytestmark = pytest.mark.django_db


def test_only_administrators_open_the_settings_page(client, rep, manager, crm_admin):
    for user in (rep, manager):
        client.force_login(user)
        assert client.get("/settings/custom-fields/").status_code == 403
        assert client.post("/settings/custom-fields/new/", {}).status_code == 403
    client.force_login(crm_admin)
    assert client.get("/settings/custom-fields/").status_code == 200


def test_an_administrator_defines_relabels_archives_and_restores_a_field(client, crm_admin):
    client.force_login(crm_admin)
    response = client.post(
        "/settings/custom-fields/new/",
        {
            "entity": "deal",
            "key": "settore",
            "label_it": "Settore",
            "label_en": "Sector",
            "type": "choice",
            "choices": "pa | Pubblica amministrazione | Public sector\nservizi | Servizi | Services",
            "order": 1,
            "on_card": "on",
        },
    )
    assert response.status_code == 302
    field = CustomField.objects.get(key="settore")
    assert [c["key"] for c in field.choices] == ["pa", "servizi"] and field.on_card

    response = client.post(
        f"/settings/custom-fields/{field.pk}/",
        {
            "label_it": "Settore di mercato",
            "label_en": "Sector",
            "type": "choice",
            "choices": "servizi | Servizi",
            "order": 1,
        },
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert field.label_it == "Settore di mercato" and field.key == "settore"
    assert [(c["key"], c["removed"]) for c in field.choices] == [("servizi", False), ("pa", True)]

    client.post(f"/settings/custom-fields/{field.pk}/archive/")
    field.refresh_from_db()
    assert field.is_archived
    client.post(f"/settings/custom-fields/{field.pk}/archive/", {"restore": "1"})
    field.refresh_from_db()
    assert not field.is_archived


def test_a_type_change_that_would_lose_values_is_refused_on_the_page(client, crm_admin, rep, pipeline):
    field = CustomFieldFactory(key="dipendenti", type="text")
    deal = OpportunityFactory(owner=rep, custom_fields={"dipendenti": "tanti"})
    client.force_login(crm_admin)
    response = client.post(
        f"/settings/custom-fields/{field.pk}/", {"label_it": "Dipendenti", "type": "integer", "order": 0}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert f"#{deal.pk}" in errors["type"][0], errors
    field.refresh_from_db()
    assert field.type == "text"
