"""Exports as Italian Excel and LibreOffice expect them: ``;`` and a decimal comma for an Italian user
(or ``?dialect=excel-it``), amounts with two decimals beside their currency and the amount in the
reporting currency, Italian headers, and an XLSX sheet with a frozen header, filters and number
formats. The Italian CSV is opened by LibreOffice itself, with Italian regional settings."""

import csv
import datetime
import io
import subprocess
from decimal import Decimal

import pytest
from django.test import RequestFactory
from openpyxl import load_workbook

from core.exports import MONEY, Column, export_response
from core.models import ExchangeRate
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db

ROWS = [
    {"name": "Rossi S.r.l.", "amount": Decimal("1234.5"), "share": Decimal("12.5"), "count": 3},
    {"name": "-Bianchi", "amount": Decimal("-0.456"), "share": 0.25, "count": 0},
]
COLUMNS = [
    Column("Name", "name"),
    Column("Amount", "amount", kind=MONEY),
    Column("Share", "share"),
    Column("Count", "count"),
]


def _csv(response) -> tuple[str, list[list[str]]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return body, list(csv.reader(io.StringIO(body), delimiter=";" if ";" in body.splitlines()[0] else ","))


@pytest.mark.parametrize(
    ("query", "language", "delimiter", "amounts"),
    [
        ("", "it", ";", ["1234,50", "-0,46"]),
        ("&dialect=excel-it", "en", ";", ["1234,50", "-0,46"]),
        ("", "en", ",", ["1234.50", "-0.46"]),
        ("&dialect=excel", "it", ",", ["1234.50", "-0.46"]),
        ("&dialect=EXCEL-IT", "en", ";", ["1234,50", "-0,46"]),
    ],
)
def test_csv_dialect_follows_the_language_unless_asked(query, language, delimiter, amounts, settings):
    request = RequestFactory().get(f"/?export=csv{query}")
    from django.utils import translation

    with translation.override(language):
        body, rows = _csv(export_response(request, rows=ROWS, columns=COLUMNS, filename="x"))
    assert body.splitlines()[0] == delimiter.join(["Name", "Amount", "Share", "Count"])
    assert [row[1] for row in rows[1:]] == amounts
    decimal = "," if delimiter == ";" else "."
    assert [row[2] for row in rows[1:]] == [f"12{decimal}5", f"0{decimal}25"]
    assert [row[3] for row in rows[1:]] == ["3", "0"]
    assert rows[2][0] == "'-Bianchi"  # text that looks like a formula stays defused in both dialects


def test_an_unknown_dialect_is_a_400_naming_it(client, rep):
    client.force_login(rep)
    response = client.get("/opportunities/?export=csv&dialect=lotus")
    assert response.status_code == 400
    assert "excel, excel-it" in response.content.decode()


@pytest.fixture
def italian_deals(rep, stages):
    rep.language = "it"
    rep.save()
    ExchangeRate.objects.create(currency="USD", valid_from=datetime.date(2020, 1, 1), rate=Decimal("0.5"))
    OpportunityFactory(owner=rep, name="Fornitura Caffè", amount=Decimal("41234.5"), probability=35)
    OpportunityFactory(owner=rep, name="Licenze USA", amount=Decimal("1000.10"), currency="USD")
    return rep


def test_deal_csv_for_an_italian_user_has_italian_headers_amounts_and_the_reporting_currency(client, italian_deals):
    client.force_login(italian_deals)
    body, rows = _csv(client.get("/opportunities/?export=csv&ordering=name"))
    headers = rows[0]
    assert body.splitlines()[0].count(";") == len(headers) - 1
    for italian in ("Trattativa", "Importo", "Valuta", "Importo (EUR)", "Probabilità (%)", "Data di creazione"):
        assert italian in headers, headers
    amount, currency, base = headers.index("Importo"), headers.index("Valuta"), headers.index("Importo (EUR)")
    assert base == currency + 1 == amount + 2
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Fornitura Caffè"][amount] == "41234,50"
    assert by_name["Fornitura Caffè"][currency] == "EUR"
    assert by_name["Fornitura Caffè"][base] == "41234,50"
    assert by_name["Licenze USA"][amount] == "1000,10"
    assert by_name["Licenze USA"][currency] == "USD"
    assert by_name["Licenze USA"][base] == "500,05"


def test_deal_xlsx_has_a_frozen_header_filters_and_number_formats(client, italian_deals):
    client.force_login(italian_deals)
    response = client.get("/opportunities/?export=xlsx&ordering=name")
    sheet = load_workbook(io.BytesIO(response.content)).active
    headers = [cell.value for cell in sheet[1]]
    assert "Importo (EUR)" in headers and "Data di chiusura prevista" in headers
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(headers)).column_letter}3"
    amount, base = headers.index("Importo") + 1, headers.index("Importo (EUR)") + 1
    probability, created = headers.index("Probabilità (%)") + 1, headers.index("Data di creazione") + 1
    assert sheet.cell(2, amount).value == 41234.5 and sheet.cell(2, amount).number_format == "#,##0.00"
    assert sheet.cell(3, base).value == 500.05 and sheet.cell(3, base).number_format == "#,##0.00"
    assert sheet.cell(2, probability).value == 35 and sheet.cell(2, probability).number_format == "0"
    assert isinstance(sheet.cell(2, created).value, datetime.datetime)
    assert sheet.cell(2, created).number_format == "yyyy-mm-dd hh:mm"


@pytest.mark.parametrize("target", ["xlsx", "ods"])
def test_libreoffice_opens_the_italian_csv_as_columns_with_numbers_as_numbers(
    client, italian_deals, tmp_path, program, target
):
    soffice = program("soffice", package="libreoffice-calc-nogui")
    client.force_login(italian_deals)
    body, _rows = _csv(client.get("/opportunities/?export=csv&ordering=name"))
    source = tmp_path / "trattative.csv"
    source.write_text(body, encoding="utf-8")
    # What "Text import" with Italian settings does: fields separated by ; (59), text in " (34),
    # UTF-8, from line 1, standard columns, language Italian (1040: decimal comma).
    subprocess.run(  # noqa: S603 (our own arguments)
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--norestore",
            "--infilter=CSV:59,34,UTF8,1,,1040",
            "--convert-to",
            target,
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    converted = tmp_path / f"trattative.{target}"
    assert converted.exists()
    if target == "ods":
        # openpyxl reads XLSX only: LibreOffice turns its own ODS into XLSX for the check.
        subprocess.run(  # noqa: S603 (our own arguments)
            [
                soffice,
                f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                "--headless",
                "--norestore",
                "--convert-to",
                "xlsx",
                "--outdir",
                str(tmp_path / "from-ods"),
                str(converted),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        converted = tmp_path / "from-ods" / "trattative.xlsx"
    sheet = load_workbook(converted).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    headers = rows[0]
    assert "Importo (EUR)" in headers and "Probabilità (%)" in headers  # one header per column
    by_name = {row[0]: row for row in rows[1:]}
    coffee, usa = by_name["Fornitura Caffè"], by_name["Licenze USA"]
    amount, base = headers.index("Importo"), headers.index("Importo (EUR)")
    assert coffee[amount] == 41234.5, coffee
    assert usa[amount] == pytest.approx(1000.10) and isinstance(usa[amount], float)
    assert usa[base] == pytest.approx(500.05)
    assert coffee[headers.index("Probabilità (%)")] == 35
    assert coffee[headers.index("Valuta")] == "EUR"
