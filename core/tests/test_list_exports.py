"""Each list's CSV and XLSX export gives back what the list shows: the same filtered rows, every
page, in the same order, nothing the user may not see, numbers and dates typed in XLSX."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from contacts.tests.factories import ContactFactory, OrganizationFactory
from opportunities.services import opportunity_archive
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def exported(response, fmt):
    assert response.status_code == 200
    if fmt == "csv":
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    else:
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        rows = [list(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]
    return rows[0], rows[1:]


def on_screen(client, url, attr):
    """What the list shows, page after page."""
    shown, page = [], 1
    while True:
        response = client.get(f"{url}&page={page}")
        shown += [getattr(obj, attr) for obj in response.context["objects"]]
        if not response.context["page"].has_next():
            return shown
        page += 1


@pytest.fixture(autouse=True)
def small_pages(settings):
    settings.CRM_LIST_PAGE_SIZE = 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_deal_export_is_the_filtered_list_on_every_page(client, rep, teammate, other_rep, stages, fmt):
    for n in range(5):
        OpportunityFactory(owner=rep if n % 2 else teammate, name=f"Server {n}", amount=Decimal(f"{n}1234.50"))
    OpportunityFactory(owner=rep, name="Laptop")
    OpportunityFactory(owner=other_rep, name="Server of another team")
    archived = OpportunityFactory(owner=rep, name="Server archived")
    opportunity_archive(opportunity=archived, user=rep)
    client.force_login(rep)

    url = "/opportunities/?q=Server&ordering=-amount"
    headers, rows = exported(client.get(f"{url}&page=2&export={fmt}"), fmt)
    assert [row[0] for row in rows] == on_screen(client, url, "name")
    assert [row[0] for row in rows] == [f"Server {n}" for n in (4, 3, 2, 1, 0)]

    amount, currency, created = headers.index("Amount"), headers.index("Currency"), headers.index("Created at")
    if fmt == "xlsx":
        assert rows[0][amount] == 41234.5 and isinstance(rows[0][amount], float)
        assert isinstance(rows[0][created], datetime.datetime)
    else:
        assert rows[0][amount] == "41234.50"
    assert rows[0][currency] == "EUR"

    _headers, archived_rows = exported(client.get(f"/opportunities/?archived=1&export={fmt}"), fmt)
    assert [row[0] for row in archived_rows] == ["Server archived"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_organization_export_is_the_filtered_list_with_typed_numbers(client, rep, other_rep, fmt):
    for n in range(3):
        OrganizationFactory(owner=rep, name=f"Torino {n} srl", city="Torino", annual_revenue=Decimal("1500000.25"))
    OrganizationFactory(owner=rep, name="Milano srl", city="Milano")
    OrganizationFactory(owner=other_rep, name="Hidden srl", city="Torino")
    client.force_login(rep)

    url = "/organizations/?city=torino"
    headers, rows = exported(client.get(f"{url}&export={fmt}"), fmt)
    assert (
        [row[0] for row in rows] == on_screen(client, url, "name") == ["Torino 0 srl", "Torino 1 srl", "Torino 2 srl"]
    )
    revenue, open_deals = headers.index("Annual revenue"), headers.index("Open deals")
    if fmt == "xlsx":
        assert rows[0][revenue] == 1500000.25 and rows[0][open_deals] == 0
    else:
        assert rows[0][revenue] == "1500000.25" and rows[0][open_deals] == "0"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_contact_export_is_the_filtered_list(client, rep, other_rep, fmt):
    org = OrganizationFactory(owner=rep, name="Verdi srl")
    for name in ("Anna", "Bruno", "Carla"):
        ContactFactory(owner=rep, organization=org, first_name=name, last_name="Verdi")
    ContactFactory(owner=rep, first_name="Dario", last_name="Neri")
    ContactFactory(owner=other_rep, first_name="Elena", last_name="Verdi")
    client.force_login(rep)

    url = "/contacts/?q=verdi"
    headers, rows = exported(client.get(f"{url}&export={fmt}"), fmt)
    assert [row[0] for row in rows] == on_screen(client, url, "first_name") == ["Anna", "Bruno", "Carla"]
    assert {row[headers.index("Organization")] for row in rows} == {"Verdi srl"}


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/opportunities/?export=xlsx", lambda owner, n: OpportunityFactory(owner=owner, name=f"D{n}")),
        ("/organizations/?export=xlsx", lambda owner, n: OrganizationFactory(owner=owner)),
        ("/contacts/?export=csv", lambda owner, n: ContactFactory(owner=owner)),
    ],
)
def test_export_queries_do_not_grow_with_rows(client, rep, url, make):
    client.force_login(rep)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
        return len(ctx.captured_queries)

    for n in range(2):
        make(rep, n)
    queries()  # the first request also reads the user, then cached (accounts/backends.py)
    few = queries()
    for n in range(2, 12):
        make(rep, n)
    assert queries() == few
