"""The real data set: after ``import_sales_dataset``, the analytics reports equal computations made
directly on the CSV files with the csv module, not on our tables.

The CSV side assumes only the data set and the import's documented rules: a deal enters
Prospecting and Engaging on ``engage_date`` and Won/Lost on ``close_date`` (a Prospecting deal has
no date: the import starts it on the data set's last day); a won deal's amount is its
``close_value``; amounts are US dollars, reported with ``currency=USD`` (nothing converted); a
manager's team is the agents of ``sales_teams.csv``.
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

from accounts.models import Team, User
from pipeline.models import Pipeline
from reports.selectors.funnel import median as histogram_median
from salesdata.services import PIPELINE_NAME

pytestmark = pytest.mark.django_db

DATASET = Path(__file__).resolve().parents[2] / "datasets" / "crm-sales-opportunities"


def _read(name):
    with open(DATASET / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _q(value, places="0.1") -> str:
    return str(Decimal(value).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _day(text):
    return datetime.date.fromisoformat(text)


def _median(values):
    values = sorted(values)
    n = len(values)
    middle = Decimal(values[n // 2]) if n % 2 else Decimal(values[n // 2 - 1] + values[n // 2]) / 2
    return middle


def _product_name(row, names={}):  # noqa: B006 — a cache of products.csv
    if not names:
        names.update({p["product"].replace(" ", "").casefold(): p["product"] for p in _read("products.csv")})
    return names[row["product"].replace(" ", "").casefold()]


@pytest.fixture
def imported(crm_admin):
    call_command("import_sales_dataset", str(DATASET), "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    return crm_admin


def _engaging_days(group_of):
    """{group: [days from engage_date to close_date]} of the closed deals (their Engaging stay)."""
    out = defaultdict(list)
    for row in _read("sales_pipeline.csv"):
        if row["deal_stage"] in ("Won", "Lost"):
            out[group_of(row)].append((_day(row["close_date"]) - _day(row["engage_date"])).days)
    return out


def test_every_analytics_report_equals_the_csv(imported, client):
    """One import (it takes minutes on SQLite), every comparison."""
    time_in_engaging_by_agent_and_product(client, imported, "owner", lambda r: r["sales_agent"])
    time_in_engaging_by_agent_and_product(client, imported, "product", _product_name)
    time_in_engaging_on_the_funnel(client, imported)
    win_rate_by_cohort_month(client, imported)
    cohort_ages(client, imported)
    velocity_by_manager(client, imported)
    targets_by_agent_and_manager(client, imported)


def time_in_engaging_by_agent_and_product(client, imported, group_by, group_of):
    expected = {
        group: {"stays": len(days), "avg": _q(Decimal(sum(days)) / len(days)), "median": _q(_median(days))}
        for group, days in _engaging_days(group_of).items()
    }
    client.force_login(imported)
    body = client.get("/api/v1/analytics/time-in-stage/", {"group_by": group_by, "currency": "USD"}).json()
    got = {
        r["label"]: {"stays": r["stays"], "avg": r["avg_days"], "median": r["median_days"]}
        for r in body["rows"]
        if r["stage_label"].startswith("Engaging") and r["stays"]
    }
    assert got == expected
    # The median helper the report uses agrees with a plain median on one group.
    some = next(iter(_engaging_days(group_of).values()))
    assert histogram_median([(d, 1) for d in some]) == _median(some)


def win_rate_by_cohort_month(client, imported):
    cohorts = defaultdict(lambda: {"deals": 0, "won": 0, "lost": 0, "after1": 0})
    last_day = max(_day(r[c]) for r in _read("sales_pipeline.csv") for c in ("engage_date", "close_date") if r[c])
    for row in _read("sales_pipeline.csv"):
        created = _day(row["engage_date"]) if row["engage_date"] else last_day
        c = cohorts[f"{created:%Y-%m}"]
        c["deals"] += 1
        if row["deal_stage"] == "Won":
            c["won"] += 1
            closed = _day(row["close_date"])
            if (closed.year, closed.month) == (created.year, created.month):
                c["after1"] += 1
        elif row["deal_stage"] == "Lost":
            c["lost"] += 1
    expected = {
        month: {
            "deals": c["deals"],
            "won": c["won"],
            "lost": c["lost"],
            "win_rate": _q(Decimal(c["won"]) / (c["won"] + c["lost"]), "0.0001") if c["won"] + c["lost"] else None,
            "won_after_1": c["after1"],
        }
        for month, c in cohorts.items()
    }
    client.force_login(imported)
    body = client.get("/api/v1/analytics/cohorts/", {"currency": "USD"}).json()
    got = {
        c["month"]: {
            "deals": c["deals"],
            "won": c["won"],
            "lost": c["lost"],
            "win_rate": c["win_rate"],
            "won_after_1": c["ages"][0]["won"],
        }
        for c in body["cohorts"]
    }
    assert got == expected


def _csv_velocity(start, end, group_of):
    """open at the end × win rate × average won amount ÷ average cycle, per group, from the CSV."""
    rows = _read("sales_pipeline.csv")
    last_day = max(_day(r[c]) for r in rows for c in ("engage_date", "close_date") if r[c])
    groups = defaultdict(lambda: {"open": 0, "won": 0, "lost": 0, "amount": Decimal(0), "days": 0})
    for row in rows:
        g = groups[group_of(row)]
        created = _day(row["engage_date"]) if row["engage_date"] else last_day
        closed = _day(row["close_date"]) if row["close_date"] else None
        if created <= end and (closed is None or closed > end):
            g["open"] += 1
        if closed and start <= closed <= end:
            if row["deal_stage"] == "Won":
                g["won"] += 1
                g["amount"] += Decimal(row["close_value"])
                g["days"] += (closed - created).days
            else:
                g["lost"] += 1
    out = {}
    for key, g in groups.items():
        closed = g["won"] + g["lost"]
        if not (closed and g["won"] and g["days"]):
            out[key] = None if g["open"] or closed else "skip"
            continue
        value = (
            Decimal(g["open"])
            * (Decimal(g["won"]) / closed)
            * (g["amount"] / g["won"])
            / (Decimal(g["days"]) / g["won"])
        )
        out[key] = _q(value, "0.01")
    return {k: v for k, v in out.items() if v != "skip"}


def velocity_by_manager(client, imported):
    manager_of = {r["sales_agent"]: r["manager"] for r in _read("sales_teams.csv")}
    start, end = datetime.date(2017, 4, 1), datetime.date(2017, 6, 30)
    expected = _csv_velocity(start, end, lambda r: manager_of[r["sales_agent"]])
    previous = _csv_velocity(
        datetime.date(2017, 1, 1), datetime.date(2017, 3, 31), lambda r: manager_of[r["sales_agent"]]
    )
    client.force_login(imported)
    body = client.get(
        "/api/v1/analytics/velocity/",
        {"group_by": "team", "currency": "USD", "date_from": start.isoformat(), "date_to": end.isoformat()},
    ).json()
    assert body["previous_period"] == ["2017-01-01", "2017-03-31"]
    # Teams are named "<region> – <manager>" by the import.
    got = {r["label"].split(" – ", 1)[1]: r["current"]["velocity"] for r in body["rows"]}
    got_previous = {r["label"].split(" – ", 1)[1]: r["previous"]["velocity"] for r in body["rows"]}
    assert got == expected
    assert got_previous == previous


def time_in_engaging_on_the_funnel(client, imported):
    """The funnel counts the same days (one definition of a stay): its median time in Engaging is
    the CSV's median of engage_date → close_date over every closed deal."""
    days = [d for group in _engaging_days(lambda r: 0).values() for d in group]
    pipeline = Pipeline.objects.get(name=PIPELINE_NAME)
    client.force_login(imported)
    body = client.get(reverse("reports-api:funnel"), {"pipeline": pipeline.pk, "currency": "USD"}).json()
    (engaging,) = [s for s in body["steps"] if s["label"].startswith("Engaging")]
    assert (engaging["median_days_in_stage"], engaging["timed_deals"]) == (_q(_median(days)), len(days))


def _months_later(month: datetime.date, k: int) -> datetime.date:
    years, index = divmod(month.month - 1 + k, 12)
    return datetime.date(month.year + years, index + 1, 1)


def cohort_ages(client, imported):
    """Every cohort, every age: won, lost and open after k months (closed before the end of the
    k-th month from the cohort's first day)."""
    rows = _read("sales_pipeline.csv")
    last_day = max(_day(r[c]) for r in rows for c in ("engage_date", "close_date") if r[c])
    expected = defaultdict(lambda: defaultdict(lambda: {"won": 0, "lost": 0, "open": 0}))
    for row in rows:
        created = _day(row["engage_date"]) if row["engage_date"] else last_day
        month = created.replace(day=1)
        closed = _day(row["close_date"]) if row["close_date"] else None
        for k in range(1, 13):
            status = "open"
            if closed and closed < _months_later(month, k):
                status = "won" if row["deal_stage"] == "Won" else "lost"
            expected[f"{month:%Y-%m}"][k][status] += 1
    client.force_login(imported)
    body = client.get("/api/v1/analytics/cohorts/", {"currency": "USD"}).json()
    got = {
        c["month"]: {a["months"]: {x: a[x] for x in ("won", "lost", "open")} for a in c["ages"]}
        for c in body["cohorts"]
    }
    assert got == {month: dict(ages) for month, ages in expected.items()}


def targets_by_agent_and_manager(client, imported):
    """A won-deals target for every agent and every manager's team in 2017 Q2: achieved is the
    number of deals won in the quarter, from the CSV."""
    start, end = datetime.date(2017, 4, 1), datetime.date(2017, 6, 30)
    teams = _read("sales_teams.csv")
    won = defaultdict(int)
    for row in _read("sales_pipeline.csv"):
        if row["deal_stage"] == "Won" and start <= _day(row["close_date"]) <= end:
            won[row["sales_agent"]] += 1
    by_team = defaultdict(int)
    for row in teams:
        by_team[f"{row['regional_office']} – {row['manager']}"] += won[row["sales_agent"]]
    users = {u.get_full_name(): u.pk for u in User.objects.all()}
    client.force_login(imported)
    for row in teams:
        body = {"owner": users[row["sales_agent"]], "period_kind": "quarter", "day": "2017-05-15"}
        created = client.post(
            "/api/v1/analytics/targets/", {**body, "metric": "won_count", "value": "10"}, "application/json"
        )
        assert created.status_code == 201, created.content
    for team in Team.objects.filter(name__in=by_team):
        body = {"team": team.pk, "period_kind": "quarter", "day": "2017-05-15", "metric": "won_count", "value": "50"}
        assert client.post("/api/v1/analytics/targets/", body, "application/json").status_code == 201
    report = client.get("/api/v1/analytics/targets/", {"period_kind": "quarter", "day": "2017-04-01"}).json()
    got = {r["label"]: r["achieved"] for r in report["rows"]}
    expected = {row["sales_agent"]: f"{won[row['sales_agent']]}.00" for row in teams}
    expected.update({team: f"{n}.00" for team, n in by_team.items()})
    assert got == expected
