"""The real data set: after ``import_sales_dataset``, the won/lost report equals a computation made
directly on the CSV files with the csv module, independently of the report code.

What the CSV side assumes is only what the data set says plus the import's documented rules: a won
deal's amount is its ``close_value``, a lost deal's amount is its product's ``sales_price`` (its
``close_value`` is 0); the sales cycle runs from ``engage_date`` to ``close_date``; product names
of the pipeline match ``products.csv`` ignoring case and spaces ("GTXPro" is "GTX Pro"); amounts
are US dollars, reported with ``currency=USD`` (no conversion involved).
"""

import csv
import datetime
import io
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

DATASET = Path(__file__).resolve().parents[2] / "datasets" / "crm-sales-opportunities"


def _read(name):
    with open(DATASET / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _q(value: Decimal, places: str) -> str:
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def csv_won_lost(group_of) -> dict[str, dict]:
    """Won/lost figures per group straight from the CSV files."""
    prices = {row["product"].replace(" ", "").casefold(): Decimal(row["sales_price"]) for row in _read("products.csv")}
    groups = defaultdict(lambda: {"won": 0, "lost": 0, "won_amount": Decimal(0), "lost_amount": Decimal(0), "days": 0})
    for row in _read("sales_pipeline.csv"):
        if row["deal_stage"] not in ("Won", "Lost"):
            continue
        g = groups[group_of(row)]
        if row["deal_stage"] == "Won":
            g["won"] += 1
            g["won_amount"] += Decimal(row["close_value"])
            days = datetime.date.fromisoformat(row["close_date"]) - datetime.date.fromisoformat(row["engage_date"])
            g["days"] += days.days
        else:
            g["lost"] += 1
            g["lost_amount"] += prices[row["product"].replace(" ", "").casefold()]
    result = {}
    for key, g in groups.items():
        closed = g["won"] + g["lost"]
        value = g["won_amount"] + g["lost_amount"]
        result[key] = {
            "won_count": g["won"],
            "lost_count": g["lost"],
            "won_amount": _q(g["won_amount"], "0.01"),
            "lost_amount": _q(g["lost_amount"], "0.01"),
            "win_rate": _q(Decimal(g["won"]) / closed, "0.0001"),
            "win_rate_by_value": _q(g["won_amount"] / value, "0.0001") if value else None,
            "avg_won_amount": _q(g["won_amount"] / g["won"], "0.01") if g["won"] else None,
            "avg_cycle_days": _q(Decimal(g["days"]) / g["won"], "0.1") if g["won"] else None,
        }
    return result


def quarter_of(row) -> str:
    day = datetime.date.fromisoformat(row["close_date"])
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def product_of(row) -> str:
    names = {p["product"].replace(" ", "").casefold(): p["product"] for p in _read("products.csv")}
    return names[row["product"].replace(" ", "").casefold()]


FIELDS = (
    "won_count",
    "lost_count",
    "won_amount",
    "lost_amount",
    "win_rate",
    "win_rate_by_value",
    "avg_won_amount",
    "avg_cycle_days",
)


@pytest.fixture
def imported(crm_admin):
    call_command("import_sales_dataset", str(DATASET), "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    return crm_admin


def api_rows(client, group_by):
    response = client.get(reverse("reports-api:won_lost"), {"group_by": group_by, "currency": "USD"})
    assert response.status_code == 200
    data = response.json()
    # Dates by their ISO key (the label is in the reader's language), people by name.
    name = "key" if group_by in ("month", "quarter") else "label"
    return {row[name]: {f: row[f] for f in FIELDS} for row in data["rows"]}, data["total"]


def test_won_lost_by_owner_and_quarter_equal_the_csv(imported, client):
    client.force_login(imported)
    for group_by, group_of in (("owner", lambda row: row["sales_agent"]), ("quarter", quarter_of)):
        rows, total = api_rows(client, group_by)
        assert rows == csv_won_lost(group_of), group_by
        assert {f: total[f] for f in FIELDS} == csv_won_lost(lambda row: "all")["all"]


def test_won_lost_by_product_equals_the_csv(imported, client):
    client.force_login(imported)
    rows, _total = api_rows(client, "product")
    assert rows == csv_won_lost(product_of)


def test_the_imported_deals_come_with_their_totals(imported):
    """The import writes deals with bulk_create: the database's triggers keep the totals anyway."""
    from opportunities.rollups import ROLLUPS, rollup_differences

    for rollup in ROLLUPS:
        assert rollup_differences(rollup) == [], rollup.name
