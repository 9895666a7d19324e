"""Funnel, forecast (with snapshots and forecast versus actual) and lost deals on hand-built data."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory
from pipeline.selectors import pipeline_summary
from reports.models import ForecastSnapshot
from reports.selectors import forecast_report, funnel_report, lost_deals_report
from reports.services import forecast_snapshot_take, week_start_of
from reports.tasks import forecast_snapshot_take as snapshot_task

from .conftest import at

pytestmark = pytest.mark.django_db
D = Decimal


def walk(deal, user, *steps):
    """Move ``deal`` through (stage, when[, lost_reason]) steps with the one stage service."""
    for step in steps:
        stage, when = step[0], step[1]
        reason = step[2] if len(step) > 2 else None
        deal = opportunity_move_stage(opportunity=deal, stage=stage, user=user, at=at(when), lost_reason=reason)
    return deal


@pytest.fixture
def funnel_deals(rep, stages, lost_reason):
    """Four deals created in January 2024 in "New":
    1. New (2 days) → Qualifying (4 days) → Demo scheduled (10 days) → Won
    2. New (4 days) → Qualifying (6 days) → Lost
    3. New (1 day) → Demo scheduled (skips Qualifying), still open
    4. still in New
    """
    s = stages
    d1 = OpportunityFactory(owner=rep, created_at=at("2024-01-01"))
    walk(d1, rep, (s["Qualifying"], "2024-01-03"), (s["Demo scheduled"], "2024-01-07"), (s["Won"], "2024-01-17"))
    d2 = OpportunityFactory(owner=rep, created_at=at("2024-01-01"))
    walk(d2, rep, (s["Qualifying"], "2024-01-05"), (s["Lost"], "2024-01-11", lost_reason))
    d3 = OpportunityFactory(owner=rep, created_at=at("2024-01-02"))
    walk(d3, rep, (s["Demo scheduled"], "2024-01-03"))
    d4 = OpportunityFactory(owner=rep, created_at=at("2024-01-02"))
    return [d1, d2, d3, d4]


def test_funnel_every_figure(funnel_deals, crm_admin, pipeline):
    report = funnel_report(user=crm_admin, params={})
    steps = {step.stage.name: step for step in report.steps}
    assert [step.stage.name for step in report.steps] == [
        "New",
        "Qualifying",
        "Demo scheduled",
        "Pending commitment",
        "In negotiation",
        "Won",
    ]
    assert report.deals == 4
    assert steps["New"].reached == 4
    assert steps["Qualifying"].reached == 3  # 1, 2, and 3 which skipped it
    assert steps["Demo scheduled"].reached == 2
    assert steps["Pending commitment"].reached == 1  # the won deal passed every stage
    assert steps["Won"].reached == 1
    assert steps["New"].conversion == D("0.7500")
    assert steps["New"].drop_off == 1
    assert steps["Qualifying"].conversion == D("0.6667")
    assert steps["Won"].conversion is None
    # Time in New: 2, 4, 1 days (deal 4 has not left it) → median 2. Qualifying: 4 and 6 → 5.
    assert steps["New"].median_days == D("2.0")
    assert steps["Qualifying"].median_days == D("5.0")
    assert steps["Demo scheduled"].median_days == D("10.0")  # deal 3 is still there: not counted
    assert steps["Won"].median_days is None


def test_funnel_period_is_the_creation_date_and_visibility_applies(funnel_deals, crm_admin, other_rep):
    assert funnel_report(user=crm_admin, params={"date_from": "2024-01-02"}).deals == 2
    assert funnel_report(user=other_rep, params={}).deals == 0


def test_funnel_queries_do_not_grow(funnel_deals, crm_admin, rep, stages, django_assert_num_queries):
    # The default pipeline, its stages, the kept tables' time zones, the cohorts, the stays.
    with django_assert_num_queries(5):
        funnel_report(user=crm_admin, params={})
    for _ in range(3):
        walk(OpportunityFactory(owner=rep), rep, (stages["Qualifying"], "2024-02-01"))
    with django_assert_num_queries(5):
        funnel_report(user=crm_admin, params={})
    # A period that is not whole months reads the deals: one query for the reach, one for the stays
    # (and the rep's teams, for the filter's choices).
    with django_assert_num_queries(5):
        funnel_report(user=rep, params={"date_from": "2024-01-02"})


# --- Forecast --------------------------------------------------------------------------------------


@pytest.fixture
def open_deals(rep, teammate, other_rep, stages):
    today = timezone.localdate()
    first = today.replace(day=1)
    next_month = (first + datetime.timedelta(days=32)).replace(day=1)
    past = first - datetime.timedelta(days=40)
    return {
        # Qualifying is 20 %, Demo scheduled 25 %.
        "overdue": OpportunityFactory(
            owner=rep, stage=stages["Qualifying"], amount=D("1000.00"), expected_close_date=past
        ),
        "next": OpportunityFactory(
            owner=rep, stage=stages["Demo scheduled"], amount=D("333.33"), expected_close_date=next_month
        ),
        "next2": OpportunityFactory(
            owner=teammate, stage=stages["Demo scheduled"], amount=D("0.03"), expected_close_date=next_month
        ),
        "usd": OpportunityFactory(
            owner=teammate,
            stage=stages["Qualifying"],
            amount=D("50.00"),
            currency="USD",
            expected_close_date=next_month,
        ),
        "nodate": OpportunityFactory(owner=rep, stage=stages["New"], amount=D("10.00")),
        "other": OpportunityFactory(owner=other_rep, amount=D("777.00"), expected_close_date=next_month),
        "next_month": next_month,
        "past": past,
    }


def test_forecast_every_figure(open_deals, rep):
    report = forecast_report(user=rep, params={})
    months = {m.as_dict()["month"] or m.label: m for m in report.months}
    key = open_deals["next_month"].strftime("%Y-%m")
    assert months[key].count == 3
    assert months[key].unweighted == D("333.36")
    # 333.33 × 25 % + 0.03 × 25 % = 83.3325 + 0.0075 = 83.34 exactly once rounded at the end
    assert months[key].weighted == D("83.34")
    assert months[key].amount.unconverted == {"USD": D("50.00")}
    assert months["No expected date"].count == 1
    assert report.total.count == 5  # other_rep's deal is not visible to rep
    assert report.total.unweighted == D("1343.36")
    assert report.overdue.count == 1
    assert report.overdue.unweighted == D("1000.00")
    assert [d.name for d in report.overdue_deals] == [open_deals["overdue"].name]
    assert months[open_deals["past"].strftime("%Y-%m")].weighted == D("200.00")


def test_forecast_agrees_with_the_board(open_deals, rep, pipeline):
    """The board header (pipeline_summary) and the forecast total show the same open pipeline."""
    from opportunities.deal_filters import DealFilters

    report = forecast_report(user=rep, params={"pipeline": pipeline.pk})
    board = pipeline_summary(user=rep, pipeline=pipeline, filters=DealFilters())
    open_rows = [row for row in board if row.stage.is_open]
    assert sum(r.count for r in open_rows) == report.total.count
    assert sum(r.amount for r in open_rows) == report.total.unweighted
    assert sum(r.weighted for r in open_rows) == report.total.weighted
    assert {k: v for r in open_rows for k, v in r.unconverted.items()} == report.total.amount.unconverted
    # The forecast page's by-stage table is the board's own selector.
    assert [(r.stage, r.count, r.amount) for r in report.by_stage] == [(r.stage, r.count, r.amount) for r in board]


def test_forecast_page_api_and_export_agree(client, open_deals, rep):
    client.force_login(rep)
    api = client.get(reverse("reports-api:forecast")).json()
    assert api["total"]["amount"] == "1343.36"
    assert api["total"]["count"] == 5
    assert api["overdue"]["count"] == 1
    html = client.get(reverse("reports:forecast")).content.decode()
    assert "€1,343.36" in html and "$50.00" in html
    export = client.get(reverse("reports:forecast"), {"export": "csv"}).getvalue().decode("utf-8-sig")
    assert export.strip().splitlines()[-1].startswith("Total,5,1343.36,")


def test_snapshot_once_per_week_and_forecast_versus_actual(open_deals, rep, crm_admin, stages):
    today = timezone.localdate()
    assert forecast_snapshot_take(today=today) > 0
    rows = ForecastSnapshot.objects.count()
    assert forecast_snapshot_take(today=today) == 0  # second run in the same week: nothing
    snapshot_task.delay()  # the beat task, eagerly
    assert ForecastSnapshot.objects.count() == rows
    week = week_start_of(today)
    next_month = open_deals["next_month"]
    snap = ForecastSnapshot.objects.filter(week_start=week, month=next_month, owner=rep).get()
    assert (snap.count, snap.amount, snap.weighted) == (1, D("333.33"), D("83.3325"))

    # The deal due next month is won then: the forecast-versus-actual row shows both.
    deal = open_deals["next"]
    opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=rep, at=at(next_month.isoformat()))
    report = forecast_report(user=rep, params={})
    row = next(v for v in report.versus_actual if v.month == next_month)
    assert row.week_start == week
    assert row.forecast == D("333.36")  # rep and teammate (USD has no rate)
    assert row.weighted == D("83.34")
    assert row.actual == D("333.33")
    # Another team's manager does not see Nord's snapshot rows.
    from accounts.tests.factories import UserFactory

    outsider = UserFactory(username="outsider")
    assert forecast_report(user=outsider, params={}).versus_actual == []


def test_forecast_queries_do_not_grow(open_deals, rep, django_assert_num_queries):
    from accounts.models import User

    def run():
        reader = User.objects.get(pk=rep.pk)  # as in a request: the reader's teams are looked up once
        # months, overdue list, default pipeline, board totals (2: from the per-stage totals), teams,
        # snapshots
        with django_assert_num_queries(7):
            forecast_report(user=reader, params={})

    run()
    for _ in range(3):
        OpportunityFactory(owner=rep, expected_close_date=open_deals["next_month"])
    run()


# --- Lost deals ------------------------------------------------------------------------------------


def test_lost_deals_by_reason_and_stage(rep, stages, lost_reason, crm_admin, client, django_assert_num_queries):
    from pipeline.models import LostReason

    other_reason = LostReason.objects.exclude(pk=lost_reason.pk).first()
    s = stages
    d1 = OpportunityFactory(owner=rep, amount=D("100.00"))
    walk(d1, rep, (s["Qualifying"], "2024-01-03"), (s["Lost"], "2024-01-05", lost_reason))
    d2 = OpportunityFactory(owner=rep, amount=D("200.50"))
    walk(d2, rep, (s["Qualifying"], "2024-01-03"), (s["Lost"], "2024-01-06", other_reason))
    d3 = OpportunityFactory(owner=rep, amount=D("50.00"))
    walk(d3, rep, (s["Lost"], "2024-01-07", lost_reason))
    with django_assert_num_queries(2):  # the lost deals by reason and stage lost from, the stages
        report = lost_deals_report(user=crm_admin, params={})
    reasons = {g.label: (g.count, g.total_amount) for g in report.by_reason}
    assert reasons == {str(lost_reason): (2, D("150.00")), str(other_reason): (1, D("200.50"))}
    assert [(g.label, g.count, g.total_amount) for g in report.by_stage] == [
        ("New", 1, D("50.00")),
        ("Qualifying", 2, D("300.50")),
    ]
    assert (report.total.count, report.total.total_amount) == (3, D("350.50"))

    client.force_login(crm_admin)
    api = client.get(reverse("reports-api:lost_deals")).json()
    assert api["total"] == {
        "key": None,
        "label": "Total",
        "count": 3,
        "share": "1.0000",
        "amount": "350.50",
        "unconverted": {},
    }
    assert client.get(reverse("reports:lost_deals")).status_code == 200
    export = client.get(reverse("reports:lost_deals"), {"export": "csv"}).getvalue().decode("utf-8-sig")
    assert "Stage lost from,Qualifying,2,300.50" in export


def test_every_page_renders(client, rep, closed_deals):
    client.force_login(rep)
    for name in ("index", "won_lost", "funnel", "forecast", "lost_deals"):
        response = client.get(reverse(f"reports:{name}"))
        assert response.status_code == 200, name
        assert "<script>" not in response.content.decode()  # no inline code
    for name in ("funnel", "forecast"):
        assert client.get(reverse(f"reports-api:{name}")).status_code == 200
