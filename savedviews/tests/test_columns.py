"""A saved view shows its columns (custom fields included), its sort and its page size on the list,
not only its filters; the "Views" menu chooses them."""

import re

import pytest
from django.urls import reverse

from contacts.tests.factories import ContactFactory, OrganizationFactory
from customfields.tests.factories import CustomFieldFactory, settore
from opportunities.tests.factories import OpportunityFactory
from savedviews.models import SavedView
from savedviews.services import saved_view_create

pytestmark = pytest.mark.django_db


def headers(response) -> list[str]:
    html = response.content.decode()
    head = html[html.index("<thead") : html.index("</thead>")]
    cells = [part.split("</th>")[0] for part in head.split("<th ")[1:]]
    return [re.sub(r"<[^>]+>", "", cell.split(">", 1)[-1]).strip() for cell in cells]


def test_a_view_shows_its_columns_with_a_custom_field(client, rep, pipeline):
    settore()
    for i, value in enumerate(["pa", "servizi", "pa"]):
        OpportunityFactory(owner=rep, name=f"Deal {i}", amount=1000 + i, custom_fields={"settore": value})
    view = saved_view_create(
        user=rep,
        name="Per settore",
        path="/opportunities/",
        query="columns=stage&columns=cf_settore&ordering=-amount&per_page=2",
    )
    assert (view.columns, view.sort, view.page_size) == (["stage", "cf_settore"], "-amount", 2)
    assert "columns" not in view.query
    client.force_login(rep)

    response = client.get(view.get_absolute_url(), follow=True)

    assert response.status_code == 200
    assert "Sector" in headers(response) and "Stage" in headers(response)
    assert "Owner" not in headers(response) and "Probability" not in headers(response)
    assert [d.name for d in response.context["objects"]] == ["Deal 2", "Deal 1"]  # sorted, two a page
    html = response.content.decode()
    assert "Public sector" in html and "Services" in html


def test_without_columns_the_list_shows_its_usual_ones(client, rep, pipeline):
    settore()
    OpportunityFactory(owner=rep, custom_fields={"settore": "pa"})
    client.force_login(rep)
    shown = headers(client.get("/opportunities/"))
    assert {"Customer", "Stage", "Owner"} <= set(shown) and "Sector" not in shown
    # Unknown columns are ignored rather than emptying the table.
    assert "Owner" in headers(client.get("/opportunities/", {"columns": "nope"}))


@pytest.mark.parametrize("count", [2, 12])
def test_custom_columns_cost_constant_queries(client, rep, pipeline, count, django_assert_num_queries):
    settore()
    CustomFieldFactory(key="budget", label_en="Budget", type="money")
    for _ in range(count):
        OpportunityFactory(owner=rep, custom_fields={"settore": "pa", "budget": "10.5"})
    client.force_login(rep)
    client.get("/opportunities/")  # the session's first request loads more than the list
    with django_assert_num_queries(6) as plain:
        client.get("/opportunities/", {"columns": ["owner"]})
    # as without custom columns: the definitions come from the cache
    with django_assert_num_queries(len(plain.captured_queries)):
        response = client.get("/opportunities/", {"columns": ["owner", "cf_settore", "cf_budget"]})
    assert response.status_code == 200
    assert "€10.50" in response.content.decode()


def test_organizations_and_contacts_show_their_chosen_columns(client, rep):
    CustomFieldFactory(entity="organization", key="dipendenti", label_en="Employees", type="integer")
    org = OrganizationFactory(owner=rep, name="Alfa", city="Milano", custom_fields={"dipendenti": 42})
    ContactFactory(owner=rep, organization=org, first_name="Luca", last_name="Neri", job_title="CTO")
    client.force_login(rep)
    orgs = client.get(reverse("contacts:organization_list"), {"columns": ["city", "cf_dipendenti"]})
    assert headers(orgs)[-2:] == ["City", "Employees"] and "Owner" not in headers(orgs)
    assert "42" in orgs.content.decode()
    contacts = client.get(reverse("contacts:contact_list"), {"columns": "job_title,email"})
    assert headers(contacts)[-2:] == ["Job title", "E-mail"] and "Owner" not in headers(contacts)


def test_the_menu_chooses_columns_and_saves_them_with_the_view(client, manager, pipeline):
    settore()
    client.force_login(manager)
    menu = client.get(reverse("savedviews:menu"), {"path": "/opportunities/", "query": "q=Alfa&columns=stage"})
    html = menu.content.decode()
    assert 'data-testid="columns-form"' in html and 'value="cf_settore"' in html
    assert 'name="q" value="Alfa"' in html  # the filters stay when the columns change
    client.post(
        reverse("savedviews:save"),
        {"name": "Fasce", "path": "/opportunities/", "query": "q=Alfa&columns=stage&columns=cf_settore"},
    )
    view = SavedView.objects.get(name="Fasce")
    assert view.columns == ["stage", "cf_settore"]
    opened = client.get(view.get_absolute_url())
    assert "columns=stage&columns=cf_settore" in opened["Location"]


def test_the_board_menu_has_no_column_chooser(client, manager):
    client.force_login(manager)
    menu = client.get(reverse("savedviews:menu"), {"path": "/pipeline/", "query": ""})
    assert b"saved-view-form" in menu.content and b"columns-form" not in menu.content


def test_the_api_reads_a_views_columns_sort_and_page_size(rep, pipeline):
    from rest_framework.test import APIClient

    OpportunityFactory(owner=rep, name="Alfa grande", amount=5000)
    OpportunityFactory(owner=rep, name="Beta piccola", amount=10)
    view = saved_view_create(
        user=rep, name="Grandi", path="/opportunities/", query="q=a&ordering=-amount&per_page=1&columns=stage"
    )
    api = APIClient()
    api.force_authenticate(rep)
    body = api.get(f"/api/v1/saved-views/{view.pk}/").json()
    assert (body["columns"], body["sort"], body["page_size"]) == (["stage"], "-amount", 1)
    assert body["url"] == view.get_absolute_url()
    # The view's query string is accepted as it is by the matching API list.
    rows = api.get(f"/api/v1/opportunities/?{body['query']}").json()["results"]
    assert [r["name"] for r in rows][0] == "Alfa grande"


def test_a_cell_edited_in_place_redraws_its_row_with_the_lists_columns(client, rep, stages):
    from decimal import Decimal

    settore()
    deal = OpportunityFactory(owner=rep, stage=stages["New"], amount=Decimal("10.00"), custom_fields={"settore": "pa"})
    client.force_login(rep)
    response = client.post(
        reverse("opportunities:field_edit", args=[deal.pk, "amount"]),
        {"amount": "99", "currency": "EUR", "version": deal.version, "row": "1"},
        HTTP_ACCEPT="application/json",
        HTTP_REFERER="http://testserver/opportunities/?columns=amount&columns=cf_settore",
    )
    row = response.json()["row"]
    assert "€99.00" in row and "Public sector" in row
    assert 'data-inline-field="owner"' not in row and row.count("<td") == 4  # check box, name, amount, sector
