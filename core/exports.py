"""Export rows to CSV or XLSX: what a list or a report shows, as a file.

Views describe their columns once and pass the same (filtered, visible) queryset they render::

    COLUMNS = [Column(_("Name"), "name"), Column(_("Amount"), lambda o: o.amount)]
    if wants_export(request):
        return export_response(request, rows=filterset.qs, columns=COLUMNS, filename="deals")

CSV streams, so a large list does not sit in memory; XLSX uses openpyxl's write-only mode.
"""

import csv
import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Column:
    """A column of an export: its header and how to get the value from a row."""

    label: str | Promise
    value: str | Callable[[Any], Any]

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


def _csv_cell(value):
    value = _plain(value)
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


def _xlsx_cell(sheet, value):
    """A cell holding ``value``; text is always stored as text. openpyxl otherwise turns a string
    starting with ``=`` into a formula (``=HYPERLINK(...)`` typed in a deal's name would run in the
    reader's spreadsheet) and ``#N/A`` into an error value."""
    value = _plain(value)
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=_XLSX_ILLEGAL.sub("", value))
    cell.data_type = "s"
    return cell


class _Echo:
    def write(self, value):
        return value


def export_response(request, *, rows: Iterable, columns: list[Column], filename: str, fmt: str | None = None):
    """An attachment with ``rows`` in the format of ``?export=`` (or ``fmt``)."""
    fmt = fmt or wants_export(request) or "csv"
    stamp = timezone.localdate().isoformat()
    headers = [str(column.label) for column in columns]
    if fmt == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=filename[:31])
        sheet.append([_xlsx_cell(sheet, header) for header in headers])
        for row in rows:
            sheet.append([_xlsx_cell(sheet, column.get(row)) for column in columns])
        response = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        workbook.save(response)
    else:
        writer = csv.writer(_Echo())

        def lines():
            yield "\ufeff"  # a BOM, so that Excel reads the file as UTF-8
            yield writer.writerow(headers)
            for row in rows:
                yield writer.writerow([_csv_cell(column.get(row)) for column in columns])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.{fmt}"'
    return response
