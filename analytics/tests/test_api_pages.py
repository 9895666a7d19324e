"""The analytics API: every report documented in the schema (its filters, a typed answer whose keys
are the ones sent), and showing the same figures as its page, read from the page's own table."""

import datetime
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from analytics.services import target_set
from opportunities.tests.factories import OpportunityFactory
from reports.models import ForecastSnapshot

from .test_reports import at, deals  # noqa: F401 — the hand-made deals of the report tests

pytestmark = pytest.mark.django_db

REPORTS = {
    # name: (path, answer component, report filters?, group_by?)
    "targets": ("/api/v1/analytics/targets/", "TargetsReport", False, False),
    "stages": ("/api/v1/analytics/time-in-stage/", "StageTimeReport", True, True),
    "velocity": ("/api/v1/analytics/velocity/", "VelocityReport", True, True),
    "cohorts": ("/api/v1/analytics/cohorts/", "CohortReport", True, False),
    "accuracy": ("/api/v1/analytics/forecast-accuracy/", "AccuracyReport", True, True),
}
PARAMS = {
    "targets": {},
    "stages": {"group_by": "owner", "date_from": "2024-01-01", "date_to": "2024-12-31"},
    "velocity": {"group_by": "owner", "date_from": "2024-01-01", "date_to": "2024-03-31"},
    "cohorts": {"date_from": "2024-01-01", "date_to": "2024-12-31", "months": "3"},
    "accuracy": {"group_by": "owner", "date_from": "2024-01-01", "date_to": "2024-12-31"},
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_report_is_documented_with_its_filters_and_a_typed_answer(schema):
    for name, (path, component, filters, grouped) in REPORTS.items():
        operation = schema["paths"][path]["get"]
        names = {p["name"] for p in operation["parameters"]}
        if filters:
            assert {"period", "date_from", "date_to", "pipeline", "owner", "team", "currency"} <= names, name
        if grouped:
            assert "group_by" in names, name
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer == {"$ref": f"#/components/schemas/{component}"}, name
        assert {"400", "401", "403"} <= set(operation["responses"]), name
    assert {"period_kind", "day", "team", "owner", "metric"} <= {
        p["name"] for p in schema["paths"]["/api/v1/analytics/targets/"]["get"]["parameters"]
    }
    assert "post" in schema["paths"]["/api/v1/analytics/targets/"]


def _keys_match(value, component, components, where):
    """The answer's keys are the component's properties, down every nested object and list."""
    properties = components[component]["properties"]
    assert set(value) == set(properties), where
    for key, spec in properties.items():
        ref = spec.get("$ref") or spec.get("items", {}).get("$ref")
        if not ref or value[key] is None:
            continue
        target = ref.rsplit("/", 1)[1]
        if "properties" not in components[target]:
            continue  # an enum
        for item in value[key] if isinstance(value[key], list) else [value[key]]:
            _keys_match(item, target, components, f"{where}.{key}")


@pytest.fixture
def figures(manager, rep, teammate, deals, pipeline, stages):  # noqa: F811
    """The report tests' deals, forecast snapshots before each month, a target for this quarter."""
    for month, owner in ((datetime.date(2024, 1, 1), rep), (datetime.date(2024, 2, 1), teammate)):
        ForecastSnapshot.objects.create(
            week_start=month - datetime.timedelta(days=7),
            pipeline=pipeline,
            owner=owner,
            month=month,
            count=2,
            amount=Decimal("1500"),
            weighted=Decimal("812.50"),
        )
    # Open at the end of the velocity's period; won this quarter, for the targets.
    OpportunityFactory(owner=rep, stage=deals["first"], amount=Decimal("300"), created_at=at("2024-02-10"))
    now = timezone.now()
    OpportunityFactory(owner=rep, stage=stages["Won"], amount=Decimal("700"), closed_at=now)
    OpportunityFactory(owner=teammate, stage=stages["Won"], amount=Decimal("1250"), closed_at=now)
    today = timezone.localdate()
    target_set(user=manager, owner=rep, period_kind="quarter", day=today, metric="won_count", value=Decimal("4"))
    target_set(
        user=manager, owner=teammate, period_kind="quarter", day=today, metric="won_amount", value=Decimal("2500")
    )
    return deals


@pytest.mark.parametrize("name", list(REPORTS))
def test_answers_have_the_declared_keys(client, manager, figures, schema, name):
    client.force_login(manager)
    path, component, _filters, _grouped = REPORTS[name]
    body = client.get(path, PARAMS[name]).json()
    _keys_match(body, component, schema["components"]["schemas"], name)


class _Table(HTMLParser):
    """The text of each body and footer row of the table with ``data-testid``."""

    def __init__(self, testid):
        super().__init__()
        self.testid, self.inside, self.head, self.rows, self.cell = testid, 0, False, [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("data-testid") == self.testid:
            self.inside = 1
        elif self.inside and tag == "table":
            self.inside += 1
        elif self.inside and tag == "thead":
            self.head = True
        elif self.inside and not self.head and tag == "tr":
            self.rows.append([])
        elif self.inside and not self.head and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if self.inside and tag == "table":
            self.inside -= 1
        elif self.inside and tag == "thead":
            self.head = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def _page_rows(client, name, testid):
    response = client.get(reverse(f"analytics:{name}"), PARAMS[name])
    assert response.status_code == 200
    table = _Table(testid)
    table.feed(response.content.decode())
    assert table.rows, name
    return table.rows


def _amount(text):
    """The number in a money or plain cell as the API writes it ("€1,234.50" → "1234.50")."""
    if text in ("—", None):
        return None
    return re.sub(r"[^\d.\-−]", "", text).replace("−", "-")


def test_time_in_stage_page_and_api_show_the_same_figures(client, manager, figures):
    client.force_login(manager)
    api = client.get(reverse("analytics-api:stages"), PARAMS["stages"]).json()["rows"]
    page = _page_rows(client, "stages", "stage-time")
    expected = [
        [r["label"], r["stage_label"], str(r["stays"]), r["avg_days"], r["median_days"]]
        + [str(r["in_stage_now"]), r["in_stage_now_avg_days"], r["in_stage_now_median_days"]]
        for r in api
    ]
    assert [[c if c != "—" else None for c in row] for row in page] == expected


def test_velocity_page_and_api_show_the_same_figures(client, manager, figures):
    client.force_login(manager)
    api = client.get(reverse("analytics-api:velocity"), PARAMS["velocity"]).json()
    page = _page_rows(client, "velocity", "velocity")
    assert len(page) == len(api["rows"]) + 1  # and the total
    for row, r in zip(page, [*api["rows"], api["total"]], strict=True):
        now = r["current"]
        assert [row[0], row[1], _amount(row[3]), _amount(row[4]), _amount(row[5]), _amount(row[6])] == [
            r["label"],
            str(now["open_deals"]),
            now["avg_won_amount"],
            now["avg_cycle_days"],
            now["velocity"],
            r["previous"]["velocity"],
        ]
        assert _amount(row[7]) == r["change_percent"]
    assert any(Decimal(r["current"]["velocity"] or 0) for r in api["rows"])


def test_cohorts_page_and_api_show_the_same_figures(client, manager, figures):
    client.force_login(manager)
    api = client.get(reverse("analytics-api:cohorts"), PARAMS["cohorts"]).json()["cohorts"]
    page = _page_rows(client, "cohorts", "cohorts")
    assert [row[1:5] for row in page] == [[str(c[k]) for k in ("deals", "won", "lost", "open")] for c in api]
    # Each age: % won / % lost / % open, the API's shares in whole percent.
    for row, c in zip(page, api, strict=True):
        shown = row[6:]
        assert len(shown) == len(c["ages"])
        for cell, age in zip(shown, c["ages"], strict=True):
            parts = [int(p) for p in cell.split("/")]
            shares = [Decimal(age[k]) * 100 for k in ("won_share", "lost_share", "open_share")]
            assert all(abs(p - s) <= Decimal("0.5") for p, s in zip(parts, shares, strict=True)), (cell, age)


def test_forecast_accuracy_page_and_api_show_the_same_figures(client, manager, figures):
    client.force_login(manager)
    api = client.get(reverse("analytics-api:accuracy"), PARAMS["accuracy"]).json()["rows"]
    page = _page_rows(client, "accuracy", "accuracy")
    assert [[row[1], _amount(row[3]), _amount(row[4]), _amount(row[5]), _amount(row[6])] for row in page] == [
        [r["label"], r["weighted"], r["actual"], r["error"], r["error_percent"]] for r in api
    ]
    assert len(api) == 2


def test_targets_page_and_api_show_the_same_figures(client, manager, figures):
    client.force_login(manager)
    api = client.get(reverse("analytics-api:targets"), PARAMS["targets"]).json()["rows"]
    page = _page_rows(client, "targets", "targets-table")

    def plain(value):
        return str(Decimal(value).normalize()) if "." in value else value

    assert [
        [row[0], plain(_amount(row[3])), plain(_amount(row[4])), _amount(row[5]), plain(_amount(row[6].split("(")[0]))]
        for row in page
    ] == [[r["label"], plain(r["target"]), plain(r["achieved"]), r["percent"], plain(r["forecast"])] for r in api]
    assert len(api) == 2
