import csv
import datetime
import io
from decimal import Decimal

from django.test import RequestFactory
from openpyxl import load_workbook

from core.exports import Column, export_response

ROWS = [
    {"name": "Rossi S.r.l.", "amount": Decimal("1234.50"), "day": datetime.date(2026, 3, 1)},
    {"name": '=HYPERLINK("http://x")', "amount": Decimal("0"), "day": None},
]
COLUMNS = [Column("Name", "name"), Column("Amount", "amount"), Column("Day", lambda r: r["day"])]


def test_csv_export_has_headers_rows_and_defuses_formulas():
    request = RequestFactory().get("/?export=csv")
    response = export_response(request, rows=ROWS, columns=COLUMNS, filename="deals")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response["Content-Disposition"].startswith('attachment; filename="deals-')
    assert list(csv.reader(io.StringIO(body))) == [
        ["Name", "Amount", "Day"],
        ["Rossi S.r.l.", "1234.50", "2026-03-01"],
        ['\'=HYPERLINK("http://x")', "0", ""],
    ]


def test_xlsx_export_keeps_numbers_and_dates_typed():
    request = RequestFactory().get("/?export=xlsx")
    response = export_response(request, rows=ROWS, columns=COLUMNS, filename="deals")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Name", "Amount", "Day")
    assert rows[1][0] == "Rossi S.r.l."
    assert rows[1][1] == 1234.5
    assert rows[1][2] == datetime.datetime(2026, 3, 1)
