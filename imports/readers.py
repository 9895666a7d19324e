"""Reading uploaded spreadsheets (CSV or XLSX) into a header row and a list of row dicts."""

import csv
import datetime
import io
from pathlib import Path

from django.utils.translation import gettext as _

from core.exceptions import ValidationError

MAX_ROWS = 100_000


class Table:
    """The rows of a spreadsheet: ``headers`` in order and ``rows`` as ``{header: value}``."""

    def __init__(self, headers: list[str], rows: list[dict]):
        self.headers = headers
        self.rows = rows

    def __len__(self):
        return len(self.rows)


def _unique_headers(raw) -> list[str]:
    headers, seen = [], set()
    for index, value in enumerate(raw, start=1):
        header = " ".join(str(value if value is not None else "").split()) or _("Column %(n)d") % {"n": index}
        base, n = header, 2
        while header in seen:
            header, n = f"{base} ({n})", n + 1
        seen.add(header)
        headers.append(header)
    return headers


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_csv(data: bytes) -> Table:
    text = _decode(data)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        raw_headers = next(reader)
    except StopIteration:
        raise ValidationError({"file": _("The file is empty.")}) from None
    headers = _unique_headers(raw_headers)
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        rows.append({h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(headers)})
        if len(rows) > MAX_ROWS:
            raise ValidationError({"file": _("The file has more than %(max)d rows.") % {"max": MAX_ROWS}})
    return Table(headers, rows)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors for a damaged or foreign file
        raise ValidationError({"file": _("This is not a readable Excel (.xlsx) file.")}) from None
    try:
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        try:
            headers = _unique_headers(next(values))
        except StopIteration:
            raise ValidationError({"file": _("The file is empty.")}) from None
        rows = []
        for raw in values:
            cells = [_cell(v) for v in raw]
            if not any(c != "" for c in cells):
                continue
            rows.append({h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers)})
            if len(rows) > MAX_ROWS:
                raise ValidationError({"file": _("The file has more than %(max)d rows.") % {"max": MAX_ROWS}})
        return Table(headers, rows)
    finally:
        workbook.close()


def read_table(data: bytes, name: str) -> Table:
    """Read CSV (any of , ; tab | as separator, UTF-8 or Windows encoding) or XLSX by file name."""
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(data)
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv(data)
    raise ValidationError({"file": _("Upload a .csv or .xlsx file.")})
