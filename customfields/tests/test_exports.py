"""Exports carry the custom fields as columns of real types."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from opportunities.tests.factories import OpportunityFactory

from .factories import CustomFieldFactory, settore

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_deal_exports_have_a_column_per_custom_field_with_real_types(client, rep, pipeline):
    settore()
    CustomFieldFactory(key="budget", label_en="Budget", type="money")
    CustomFieldFactory(key="firma", label_en="Signed on", type="date")
    OpportunityFactory(
        owner=rep, name="Alfa", custom_fields={"settore": "pa", "budget": "1500.5", "firma": "2026-03-01"}
    )
    client.force_login(rep)

    rows = list(csv.reader(io.StringIO(body(client.get("/opportunities/", {"export": "csv"})).decode("utf-8-sig"))))
    header = rows[0]
    assert header[-4:] == ["Sector", "Budget", "Budget currency", "Signed on"]
    assert rows[1][-4:-2] == ["Public sector", "1500.50"] and rows[1][-2] == "EUR"

    book = load_workbook(io.BytesIO(body(client.get("/opportunities/", {"export": "xlsx"}))))
    sheet = book.active
    values = [cell.value for cell in sheet[2]]
    assert Decimal(str(values[-3])) == Decimal("1500.50")
    assert values[-1].year == 2026 and values[-1].month == 3
