"""Months and quarters: the first day of the one holding a date, and the day after it ends."""

import datetime


def period_start(kind: str, day: datetime.date) -> datetime.date:
    if kind == "quarter":
        return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return day.replace(day=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def period_end(kind: str, start: datetime.date) -> datetime.date:
    """The first day after the period (exclusive end)."""
    return add_months(start, 3 if kind == "quarter" else 1)


def period_label(kind: str, start: datetime.date) -> str:
    if kind == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return f"{start:%Y-%m}"
