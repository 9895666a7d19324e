"""Custom values where people read them: detail pages, list columns and board cards."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from contacts.models import Contact, Organization
from contacts.tests.factories import ContactFactory, OrganizationFactory
from customfields.tests.factories import CustomFieldFactory, settore
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from products.models import Product

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pipeline")]


def _set(model, obj, values):
    model.objects.filter(pk=obj.pk).update(custom_fields=values)


def _italian(client):
    client.cookies["django_language"] = "it"
    translation.activate("it")


@pytest.fixture
def deal_fields(rep):
    """One field of each kind whose formatting differs, in two sections."""
    choice = settore(in_list=True, on_card=True, section="Profilo")
    CustomFieldFactory(
        key="budget",
        label_it="Budget approvato",
        label_en="Approved budget",
        type="money",
        section="Profilo",
        in_list=True,
        on_card=True,
    )
    CustomFieldFactory(key="firma", label_it="Data firma", label_en="Signing date", type="date", in_list=True)
    CustomFieldFactory(key="quota", label_it="Quota", label_en="Share", type="percent")
    CustomFieldFactory(
        key="referente", label_it="Referente", label_en="Referee", type="user", in_list=True, on_card=True
    )
    CustomFieldFactory(key="sito", label_it="Sito", label_en="Site", type="url")
    CustomFieldFactory(
        key="nascosto", label_it="Archiviato", label_en="Archived", type="text", archived_at="2026-01-01T00:00Z"
    )
    return choice


def test_the_deal_page_shows_custom_values_formatted_in_their_sections(client, rep, manager, deal_fields):
    deal = OpportunityFactory(owner=rep)
    _set(
        Opportunity,
        deal,
        {
            "settore": "servizi",
            "budget": {"amount": "1234.50", "currency": "USD"},
            "firma": "2026-12-31",
            "quota": "12.5",
            "referente": manager.pk,
            "sito": "https://example.com/x",
            "nascosto": "old value",
        },
    )
    _italian(client)
    client.force_login(rep)

    html = client.get(deal.get_absolute_url()).content.decode()

    assert "Profilo" in html and "Altri dettagli" in html  # its section, and the fields without one
    assert "Servizi" in html  # the choice by its Italian label, not its key
    assert "1.234,50\xa0USD" in html  # money with its own currency, in Italian
    assert "31/12/2026" in html
    assert "12,5 %" in html
    assert f'href="{reverse("opportunities:list")}?owner={manager.pk}"' in html
    assert str(manager) in html
    assert 'href="https://example.com/x"' in html
    assert "old value" not in html  # an archived field is hidden (its value kept)


def test_a_removed_choice_is_shown_as_removed(client, rep, deal_fields):
    deal = OpportunityFactory(owner=rep)
    _set(Opportunity, deal, {"settore": "pa"})
    deal_fields.choices = [{**c, "removed": True} if c["key"] == "pa" else c for c in deal_fields.choices]
    deal_fields.save()
    _italian(client)
    client.force_login(rep)

    html = client.get(deal.get_absolute_url()).content.decode()

    assert "Pubblica amministrazione (rimossa)" in html
    assert "Questa scelta è stata rimossa" in html


def test_organization_and_contact_pages_show_their_own_fields(client, rep):
    CustomFieldFactory(
        entity="organization", key="sdi", label_it="Codice SDI", label_en="SDI code", section="Fatturazione"
    )
    CustomFieldFactory(entity="contact", key="compleanno", label_it="Compleanno", label_en="Birthday", type="date")
    CustomFieldFactory(entity="deal", key="solo_deal", label_it="Solo trattative", label_en="Deals only")
    org = OrganizationFactory(owner=rep)
    contact = ContactFactory(owner=rep, organization=org)
    _set(Organization, org, {"sdi": "M5UXCR1"})
    _set(Contact, contact, {"compleanno": "1980-02-29"})
    _italian(client)
    client.force_login(rep)

    org_html = client.get(org.get_absolute_url()).content.decode()
    contact_html = client.get(contact.get_absolute_url()).content.decode()

    assert "Fatturazione" in org_html and "M5UXCR1" in org_html and "Solo trattative" not in org_html
    assert "Compleanno" in contact_html and "29/02/1980" in contact_html


def test_pages_without_custom_fields_show_no_empty_card(client, rep):
    deal = OpportunityFactory(owner=rep)
    client.force_login(rep)
    assert 'data-testid="custom-fields"' not in client.get(deal.get_absolute_url()).content.decode()


def test_the_deal_list_shows_the_list_columns_and_the_reader_narrows_them(client, rep, manager, deal_fields):
    deal = OpportunityFactory(owner=rep)
    _set(Opportunity, deal, {"settore": "manifattura", "firma": "2026-03-01", "referente": manager.pk, "quota": "5"})
    _italian(client)
    client.force_login(rep)

    html = client.get(reverse("opportunities:list")).content.decode()
    assert 'data-custom-column="settore"' in html and "Manifattura" in html
    assert 'data-custom-column="firma"' in html and "01/03/2026" in html
    assert str(manager) in html
    assert 'data-custom-column="quota"' not in html  # not marked "list column"
    menu = client.get(reverse("savedviews:menu"), {"path": reverse("opportunities:list"), "query": ""})
    assert 'value="cf_settore"' in menu.content.decode()  # offered in the "Views" menu's column chooser

    narrowed = client.get(reverse("opportunities:list"), {"columns": "cf_firma"}).content.decode()
    assert 'data-custom-column="firma"' in narrowed
    assert 'data-custom-column="settore"' not in narrowed


def test_organization_contact_and_product_lists_show_their_columns(client, crm_admin):
    CustomFieldFactory(entity="organization", key="sdi", label_it="Codice SDI", label_en="SDI code", in_list=True)
    CustomFieldFactory(entity="contact", key="ruolo", label_it="Ruolo", label_en="Role", in_list=True)
    CustomFieldFactory(entity="product", key="peso", label_it="Peso", label_en="Weight", type="decimal", in_list=True)
    org = OrganizationFactory(owner=crm_admin)
    _set(Organization, org, {"sdi": "ABC1234"})
    _set(Contact, ContactFactory(owner=crm_admin, organization=org), {"ruolo": "Decisore"})
    product = Product.objects.create(name="Widget", unit_price=Decimal("10.00"))
    _set(Product, product, {"peso": "1250.75"})
    _italian(client)
    client.force_login(crm_admin)

    assert "ABC1234" in client.get(reverse("contacts:organization_list")).content.decode()
    assert "Decisore" in client.get(reverse("contacts:contact_list")).content.decode()
    assert "1.250,75" in client.get(reverse("products:list")).content.decode()


def test_board_cards_show_the_fields_marked_for_cards(client, rep, manager, deal_fields):
    deal = OpportunityFactory(owner=rep)
    _set(
        Opportunity,
        deal,
        {
            "settore": "pa",
            "budget": {"amount": "5000", "currency": "EUR"},
            "firma": "2026-01-01",
            "referente": manager.pk,
        },
    )
    _italian(client)
    client.force_login(rep)

    html = client.get(reverse("pipeline:board")).content.decode()

    assert 'data-testid="card-custom-fields"' in html
    assert "Pubblica amministrazione" in html
    assert "5.000,00\xa0€" in html
    assert str(manager) in html
    assert "01/01/2026" not in html  # the signing date is a list column, not on cards


# --- query budgets: custom columns and card fields cost no query once the definitions are cached


def _ten_list_columns():
    settore(in_list=True)
    kinds = ["text", "integer", "decimal", "money", "percent", "date", "boolean", "email", "user"]
    for i, kind in enumerate(kinds):
        CustomFieldFactory(key=f"col_{i}", type=kind, in_list=True)


@pytest.mark.parametrize("count", [3, 30])
@pytest.mark.parametrize("columns", [False, True])
def test_a_deal_list_with_ten_custom_columns_keeps_its_budget(
    client, rep, manager, count, columns, django_assert_num_queries
):
    if columns:
        _ten_list_columns()
    values = {
        "settore": "pa",
        "col_0": "testo",
        "col_1": 7,
        "col_2": "1.5",
        "col_3": {"amount": "10.00", "currency": "EUR"},
        "col_4": "50",
        "col_5": "2026-05-05",
        "col_6": True,
        "col_7": "a@example.com",
        "col_8": manager.pk,
    }
    for _ in range(count):
        _set(Opportunity, OpportunityFactory(owner=rep), values)
    client.force_login(rep)
    client.get("/opportunities/")  # the session, the definitions and the user names are cached from now on

    # the same six queries with ten custom columns as without any
    with django_assert_num_queries(6):
        response = client.get("/opportunities/")
    assert response.status_code == 200
    assert len(response.context["custom_columns"]) == (10 if columns else 0)
    shown = response.content.decode().count('data-custom-column="col_8"')
    assert shown == (min(count, 25) + 1 if columns else 0)


@pytest.mark.parametrize("columns", [False, True])
def test_the_organization_list_with_ten_custom_columns_keeps_its_budget(
    client, rep, columns, django_assert_num_queries
):
    for i in range(10 if columns else 0):
        CustomFieldFactory(entity="organization", key=f"org_{i}", in_list=True)
    for _ in range(12):
        _set(Organization, OrganizationFactory(owner=rep), {f"org_{i}": f"v{i}" for i in range(10)})
    client.force_login(rep)
    client.get("/organizations/")

    with django_assert_num_queries(4):  # the same with ten custom columns as without any
        response = client.get("/organizations/")
    assert response.content.decode().count(">v9<") == (12 if columns else 0)


@pytest.mark.parametrize("deal_count", [10, 200])
def test_the_board_with_three_fields_on_cards_keeps_its_budget(
    client, manager, rep, stages, deal_count, django_assert_num_queries
):
    settore(on_card=True)
    CustomFieldFactory(key="budget", type="money", on_card=True)
    CustomFieldFactory(key="referente", type="user", on_card=True)
    for i in range(deal_count):
        deal = OpportunityFactory(owner=rep, stage=list(stages.values())[i % 5])
        _set(
            Opportunity,
            deal,
            {"settore": "servizi", "budget": {"amount": "10", "currency": "EUR"}, "referente": rep.pk},
        )
    client.force_login(manager)
    url = reverse("pipeline:board")
    client.get(url)  # warm the session, the definitions and the user names

    with django_assert_num_queries(8):  # as without custom fields (pipeline/tests/test_board.py)
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('data-custom-field="referente"') > 0


def test_a_changed_definition_is_seen_by_the_next_page(client, rep):
    field = CustomFieldFactory(key="sdi", label_en="SDI code", in_list=True)
    deal = OpportunityFactory(owner=rep)
    _set(Opportunity, deal, {"sdi": "X"})
    client.force_login(rep)
    assert "SDI code" in client.get("/opportunities/").content.decode()

    field.label_en = "Recipient code"
    field.save()

    assert "Recipient code" in client.get("/opportunities/").content.decode()


def test_a_renamed_user_is_seen_by_the_next_page(client, rep, manager):
    CustomFieldFactory(key="referente", type="user", in_list=True)
    _set(Opportunity, OpportunityFactory(owner=rep), {"referente": manager.pk})
    client.force_login(rep)
    client.get("/opportunities/")

    manager.first_name, manager.last_name = "Giulia", "Verdi"
    manager.save()

    assert "Giulia Verdi" in client.get("/opportunities/").content.decode()


# --- sorting by a custom field


def _deal_names(response):
    return [deal.name for deal in response.context["objects"]]


def test_the_deal_list_sorts_by_a_custom_field_with_empty_values_last(client, rep):
    settore(in_list=True)  # choices in the order manifattura, servizi, pa
    CustomFieldFactory(key="budget", type="money", in_list=True)
    CustomFieldFactory(key="firma", type="date", in_list=True)
    rows = {
        "A": {"settore": "pa", "budget": {"amount": "900.00", "currency": "EUR"}, "firma": "2026-02-01"},
        "B": {"settore": "manifattura", "budget": {"amount": "10000.00", "currency": "EUR"}, "firma": "2025-12-31"},
        "C": {"settore": "servizi", "budget": {"amount": "95.50", "currency": "EUR"}},
        "D": {},
    }
    for name, values in rows.items():
        _set(Opportunity, OpportunityFactory(owner=rep, name=name), values)
    client.force_login(rep)

    def names(ordering):
        return _deal_names(client.get(reverse("opportunities:list"), {"ordering": ordering}))

    assert names("cf_budget") == ["C", "A", "B", "D"]  # as numbers, not as text
    assert names("-cf_budget") == ["B", "A", "C", "D"]
    assert names("cf_settore") == ["B", "C", "A", "D"]  # the administrator's order of the choices
    assert names("cf_firma")[:2] == ["B", "A"]  # C and D have no date: last, either way
    assert names("-cf_firma")[:2] == ["A", "B"]
    assert set(names("-cf_firma")[2:]) == {"C", "D"}


def test_organizations_and_contacts_sort_by_a_custom_field(client, rep, manager, teammate):
    CustomFieldFactory(entity="organization", key="dipendenti", type="integer", in_list=True)
    CustomFieldFactory(entity="contact", key="referente", type="user", in_list=True)
    for name, employees in [("Big", 1200), ("Small", 9), ("Mid", 250)]:
        _set(Organization, OrganizationFactory(owner=rep, name=name), {"dipendenti": employees})
    manager.last_name, teammate.last_name = "Zanetti", "Alberti"
    manager.save()
    teammate.save()
    _set(Contact, ContactFactory(owner=rep, first_name="Uno"), {"referente": manager.pk})
    _set(Contact, ContactFactory(owner=rep, first_name="Due"), {"referente": teammate.pk})
    client.force_login(rep)

    orgs = client.get(reverse("contacts:organization_list"), {"ordering": "-cf_dipendenti"})
    contacts = client.get(reverse("contacts:contact_list"), {"ordering": "cf_referente"})

    assert [o.name for o in orgs.context["objects"]] == ["Big", "Mid", "Small"]
    assert [c.first_name for c in contacts.context["objects"]] == ["Due", "Uno"]  # by the user's name


def test_the_api_sorts_by_a_custom_field_and_refuses_an_unknown_one(client, rep):
    CustomFieldFactory(key="punteggio", type="decimal")
    for name, score in [("Low", "2.5"), ("High", "10"), ("Mid", "7.25")]:
        _set(Opportunity, OpportunityFactory(owner=rep, name=name), {"punteggio": score})
    client.force_login(rep)

    response = client.get("/api/v1/opportunities/", {"ordering": "-cf_punteggio"})
    refused = client.get("/api/v1/opportunities/", {"ordering": "cf_nope"})
    orgs = client.get("/api/v1/organizations/", {"ordering": "cf_nope"})

    assert response.status_code == 200, response.content
    assert [row["name"] for row in response.json()["results"]] == ["High", "Mid", "Low"]
    assert refused.status_code == 400 and "ordering" in refused.content.decode()
    assert orgs.status_code == 400


def test_organization_and_contact_lists_filter_by_a_custom_field(client, rep):
    CustomFieldFactory(entity="organization", key="sdi", label_en="SDI code")
    CustomFieldFactory(entity="contact", key="vip", type="boolean")
    _set(Organization, OrganizationFactory(owner=rep, name="With"), {"sdi": "M5UXCR1"})
    OrganizationFactory(owner=rep, name="Without")
    _set(Contact, ContactFactory(owner=rep, first_name="Vip"), {"vip": True})
    ContactFactory(owner=rep, first_name="Other")
    client.force_login(rep)

    orgs = client.get(reverse("contacts:organization_list"), {"cf_sdi__empty": "false"})
    contacts = client.get("/api/v1/contacts/", {"cf_vip": "true"})

    assert [o.name for o in orgs.context["objects"]] == ["With"]
    assert [c["first_name"] for c in contacts.json()["results"]] == ["Vip"]
