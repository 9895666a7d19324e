"""Export rows to CSV or XLSX: what a list or a report shows, as a file.

Views describe their columns once and pass the same (filtered, visible) queryset they render::

    COLUMNS = [Column(_("Name"), "name"), Column(_("Amount"), lambda o: o.amount)]
    if wants_export(request):
        return export_response(request, rows=filterset.qs, columns=COLUMNS, filename="deals")

CSV streams, so a large list does not sit in memory; XLSX uses openpyxl's write-only mode.

CSV comes in two dialects, as the spreadsheet application that opens it expects: ``excel``
(``,`` between fields, decimal point) and ``excel-it`` (``;`` between fields, decimal comma: what
Excel and LibreOffice use with Italian regional settings). ``?dialect=`` chooses one; otherwise the
user's language does. Amounts (``Column(..., kind=MONEY)``) have two decimals in both formats; the
XLSX sheet has a frozen header row, a filter on every column and number formats on its cells.
"""

import csv
import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from .middleware import bad_request
from .rounding import quantize_cents

FORMATS = ("csv", "xlsx")

# Kinds of column: how a number is written.
MONEY = "money"  # two decimals (the currency sits in a column of its own)


@dataclass(frozen=True)
class CsvDialect:
    delimiter: str
    decimal: str


DIALECTS = {
    "excel": CsvDialect(delimiter=",", decimal="."),
    "excel-it": CsvDialect(delimiter=";", decimal=","),
}
# The dialect a user gets without ``?dialect=``: the one of the regional settings that go with the
# language they use the CRM in.
LANGUAGE_DIALECTS = {"it": "excel-it"}


def _amount_in_base_currency() -> str:
    return _("Amount (%(currency)s)") % {"currency": settings.CRM_BASE_CURRENCY}


# The header of an amount converted to the reporting currency, e.g. "Amount (EUR)".
BASE_AMOUNT_LABEL = lazy(_amount_in_base_currency, str)()


def base_currency(_row) -> str:
    """The value of a currency column beside amounts in the reporting currency."""
    return settings.CRM_BASE_CURRENCY


_XLSX_FORMATS = {
    MONEY: "#,##0.00",
    # Other decimals (percentages, rates, quantities) keep "General": as many decimals as they have,
    # where "#,##0.##" would print "35." for 35.
    "decimal": "General",
    "int": "0",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}


@dataclass(frozen=True)
class Column:
    """A column of an export: its header and how to get the value from a row."""

    label: str | Promise
    value: str | Callable[[Any], Any]
    kind: str = ""

    def get(self, row) -> Any:
        if callable(self.value):
            return self.value(row)
        current = row
        for part in self.value.split("."):
            current = current.get(part) if isinstance(current, dict) else getattr(current, part, None)
            if current is None:
                return None
        return current


def wants_export(request) -> str | None:
    """The export format asked for with ``?export=csv`` or ``?export=xlsx``, else None."""
    fmt = request.GET.get("export", "").lower()
    return fmt if fmt in FORMATS else None


def export_dialect(request) -> str | None:
    """The CSV dialect of ``?dialect=``, else the one of the active language; None if unknown."""
    asked = request.GET.get("dialect", "").strip().lower()
    if asked:
        return asked if asked in DIALECTS else None
    return LANGUAGE_DIALECTS.get((translation.get_language() or "").split("-")[0], "excel")


def _plain(value):
    """Values as a spreadsheet wants them: numbers stay numbers, dates stay dates, the rest is text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, datetime.date):
        return value
    return str(value)


def _cents(value) -> Decimal:
    return quantize_cents(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))


def _csv_number(value, kind: str, dialect: CsvDialect) -> str:
    if isinstance(value, float):
        value = Decimal(repr(value))
    if kind == MONEY:
        value = _cents(value)
    text = f"{value:f}" if isinstance(value, Decimal) else str(value)
    return text.replace(".", dialect.decimal)


def _csv_cell(value, kind: str = "", dialect: CsvDialect = DIALECTS["excel"]):
    value = _plain(value)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _csv_number(value, kind, dialect)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    # Spreadsheet apps run cells starting with these as formulas (CSV injection).
    if text[:1] in ("=", "+", "-", "@") and not isinstance(value, (int, float, Decimal)):
        return "'" + text
    return text


# Characters an XLSX file cannot hold (openpyxl refuses them): control characters other than tab/newline.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _number_format(value, kind: str) -> str | None:
    if isinstance(value, bool):
        return None
    if kind == MONEY and isinstance(value, (int, float, Decimal)):
        return _XLSX_FORMATS[MONEY]
    if isinstance(value, int):
        return _XLSX_FORMATS["int"]
    if isinstance(value, (float, Decimal)):
        return _XLSX_FORMATS["decimal"]
    if isinstance(value, datetime.datetime):
        return _XLSX_FORMATS["datetime"]
    if isinstance(value, datetime.date):
        return _XLSX_FORMATS["date"]
    return None


def _xlsx_cell(sheet, value, kind: str = ""):
    """A cell holding ``value``; text is always stored as text. openpyxl otherwise turns a string
    starting with ``=`` into a formula (``=HYPERLINK(...)`` typed in a deal's name would run in the
    reader's spreadsheet) and ``#N/A`` into an error value. Numbers and dates get a number format."""
    value = _plain(value)
    if not isinstance(value, str):
        number_format = _number_format(value, kind)
        if number_format is None:
            return value
        if kind == MONEY:
            value = _cents(value)
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = number_format
        return cell
    cell = WriteOnlyCell(sheet, value=_XLSX_ILLEGAL.sub("", value))
    cell.data_type = "s"
    return cell


class _Echo:
    def write(self, value):
        return value


def export_response(request, *, rows: Iterable, columns: list[Column], filename: str, fmt: str | None = None):
    """An attachment with ``rows`` in the format of ``?export=`` (or ``fmt``); a 400 naming
    ``dialect`` when ``?dialect=`` names none we know."""
    fmt = fmt or wants_export(request) or "csv"
    stamp = timezone.localdate().isoformat()
    headers = [str(column.label) for column in columns]
    if fmt == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=filename[:31])
        # Set before the first row: a write-only sheet cannot change them afterwards.
        sheet.freeze_panes = "A2"
        for index, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(max(len(header) + 4, 12), 40)
        sheet.append([_xlsx_cell(sheet, header) for header in headers])
        count = 0
        for row in rows:
            sheet.append([_xlsx_cell(sheet, column.get(row), column.kind) for column in columns])
            count += 1
        if headers:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
        response = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        workbook.save(response)
    else:
        name = export_dialect(request)
        if name is None:
            return bad_request(
                request,
                _("Unknown CSV dialect: choose one of %(choices)s.") % {"choices": ", ".join(DIALECTS)},
                field="dialect",
            )
        dialect = DIALECTS[name]
        writer = csv.writer(_Echo(), delimiter=dialect.delimiter)

        def lines():
            yield "\ufeff"  # a BOM, so that Excel reads the file as UTF-8
            yield writer.writerow(headers)
            for row in rows:
                yield writer.writerow([_csv_cell(column.get(row), column.kind, dialect) for column in columns])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.{fmt}"'
    return response
