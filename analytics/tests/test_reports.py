"""Time in stage, velocity, cohorts and forecast accuracy on small hand-made data: figures worked
out on paper, visibility, bad filters, and query counts that do not grow with the data."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.accuracy import forecast_accuracy_report
from analytics.selectors.cohorts import cohort_report
from analytics.selectors.stages import stage_time_report, velocity_report
from opportunities.tests.factories import OpportunityFactory
from pipeline.models import StageChange
from reports.models import ForecastSnapshot


def at(day: str, hour=12):
    return timezone.make_aware(datetime.datetime.fromisoformat(day).replace(hour=hour))


def history(deal, *steps):
    """Replace the deal's stage history with (stage, day) steps."""
    StageChange.objects.filter(opportunity=deal).delete()
    for stage, day in steps:
        StageChange.objects.create(
            opportunity=deal,
            to_stage=stage,
            changed_at=at(day),
            amount=deal.amount,
            currency=deal.currency,
            probability=stage.probability,
        )


@pytest.fixture
def deals(rep, teammate, other_rep, stages, lost_reason):
    open_stages = sorted((s for s in stages.values() if s.kind == "open"), key=lambda s: s.order)
    first, second = open_stages[0], open_stages[1]
    won, lost = stages["Won"], stages["Lost"]
    a = OpportunityFactory(
        owner=rep, stage=won, amount=Decimal("1000.00"), created_at=at("2024-01-01"), closed_at=at("2024-01-11")
    )
    history(a, (first, "2024-01-01"), (second, "2024-01-04"), (won, "2024-01-11"))
    b = OpportunityFactory(
        owner=rep,
        stage=lost,
        lost_reason=lost_reason,
        amount=Decimal("400.00"),
        created_at=at("2024-01-10"),
        closed_at=at("2024-03-10"),
    )
    history(b, (first, "2024-01-10"), (second, "2024-01-20"), (lost, "2024-03-10"))
    c = OpportunityFactory(
        owner=teammate, stage=won, amount=Decimal("600.00"), created_at=at("2024-02-01"), closed_at=at("2024-02-21")
    )
    history(c, (first, "2024-02-01"), (second, "2024-02-02"), (won, "2024-02-21"))
    # Other team: invisible to the manager of Nord.
    d = OpportunityFactory(
        owner=other_rep, stage=won, amount=Decimal("999.00"), created_at=at("2024-01-05"), closed_at=at("2024-01-06")
    )
    history(d, (first, "2024-01-05"), (won, "2024-01-06"))
    return {"first": first, "second": second, "a": a, "b": b, "c": c, "d": d}


def test_time_in_stage_in_calendar_days(manager, deals):
    report = stage_time_report(user=manager, params={"group_by": ""})
    by_stage = {r.stage.pk: r for r in report.rows}
    first, second = by_stage[deals["first"].pk], by_stage[deals["second"].pk]
    assert first.finished_count == 3 and first.avg_days == Decimal("4.7") and first.median_days == Decimal("3.0")
    # 7, 50 (20 Jan → 10 Mar 2024), 19 days
    assert second.finished_count == 3 and second.avg_days == Decimal("25.3") and second.median_days == Decimal("19.0")
    by_owner = stage_time_report(user=manager, params={"group_by": "owner"})
    assert {r.label for r in by_owner.rows} == {
        str(deals["a"].owner.get_full_name() or "rep"),
        deals["c"].owner.get_full_name() or "teammate",
    }


def test_still_in_stage_counted_to_today_apart(manager, rep, stages):
    open_stage = sorted((s for s in stages.values() if s.kind == "open"), key=lambda s: s.order)[0]
    entered = timezone.now() - datetime.timedelta(days=10)
    deal = OpportunityFactory(owner=rep, stage=open_stage, amount=Decimal("10"))
    type(deal).objects.filter(pk=deal.pk).update(stage_entered_at=entered)
    report = stage_time_report(user=manager, params={})
    row = next(r for r in report.rows if r.stage == open_stage)
    assert row.current_count == 1 and row.current_avg_days == Decimal("10.0") and row.finished_count == 0
    assert report.stuck[open_stage][0].pk == deal.pk and report.stuck[open_stage][0].days_in_stage == 10


def test_velocity_and_previous_period(manager, deals):
    report = velocity_report(
        user=manager, params={"group_by": "team", "date_from": "2024-01-01", "date_to": "2024-03-31"}
    )
    (row,) = report.rows
    # Closed in Q1 2024: won a (1000, 10 days) and c (600, 20 days), lost b. Open on 31 March: none.
    assert (row.current.won, row.current.lost, row.current.open) == (2, 1, 0)
    assert row.current.avg_won_amount == Decimal("800.00") and row.current.avg_cycle_days == Decimal("15.0")
    assert row.current.velocity == Decimal("0.00")
    jan = velocity_report(user=manager, params={"date_from": "2024-01-01", "date_to": "2024-01-31"})
    # End of January: b and c are open (c created 1 Feb: not yet) → b only; closed: a won.
    assert jan.total.current.open == 1 and jan.total.current.won == 1
    # 1 × 1 × 1000 ÷ 10 = 100 per day
    assert jan.total.current.velocity == Decimal("100.00")
    assert (jan.previous_start, jan.previous_end) == (datetime.date(2023, 12, 1), datetime.date(2023, 12, 31))


def test_cohorts(manager, deals):
    report = cohort_report(user=manager, params={"months": "3"})
    jan, feb = report.cohorts
    assert (jan.deals, jan.won, jan.lost) == (2, 1, 1)
    assert [(a.won, a.lost, a.open) for a in jan.ages] == [(1, 0, 1), (1, 0, 1), (1, 1, 0)]
    assert feb.win_rate == Decimal("1.0000")


def test_forecast_accuracy(manager, rep, deals, pipeline):
    month = datetime.date(2024, 1, 1)
    ForecastSnapshot.objects.create(
        week_start=datetime.date(2023, 12, 25),
        pipeline=pipeline,
        owner=rep,
        month=month,
        count=2,
        amount=Decimal("2000"),
        weighted=Decimal("1250"),
    )
    # Taken during the month: the one before the month began wins.
    ForecastSnapshot.objects.create(
        week_start=datetime.date(2024, 1, 8),
        pipeline=pipeline,
        owner=rep,
        month=month,
        count=1,
        amount=Decimal("100"),
        weighted=Decimal("50"),
    )
    report = forecast_accuracy_report(user=manager, params={"group_by": "owner"})
    (row,) = [r for r in report.rows if r.month == month and r.weighted]
    assert row.week_start == datetime.date(2023, 12, 25)
    assert row.actual == Decimal("1000.00") and row.error == Decimal("250.00") and row.error_percent == Decimal("25.0")


@pytest.mark.parametrize("name", ["stages", "velocity", "cohorts", "accuracy"])
def test_pages_api_and_bad_filters(client, manager, deals, name):
    client.force_login(manager)
    page = client.get(reverse(f"analytics:{name}"))
    assert page.status_code == 200
    assert client.get(reverse(f"analytics:{name}"), {"export": "xlsx"}).status_code == 200
    api = client.get(reverse(f"analytics-api:{name}"))
    assert api.status_code == 200
    bad = client.get(reverse(f"analytics-api:{name}"), {"date_from": "soon"})
    assert bad.status_code == 400 and "date_from" in bad.content.decode()
    assert client.get(reverse(f"analytics:{name}"), {"date_from": "soon"}).status_code == 400


@pytest.mark.parametrize("name", ["stages", "velocity", "cohorts", "accuracy", "targets"])
def test_query_counts_do_not_grow(client, crm_admin, deals, rep, stages, name, django_assert_num_queries):
    client.force_login(crm_admin)
    url = reverse(f"analytics-api:{name}")
    params = {"group_by": "owner"} if name in ("stages", "velocity", "accuracy") else {}
    client.get(url, params)
    with CaptureQueriesContext(connection) as first:
        client.get(url, params)
    for i in range(6):
        deal = OpportunityFactory(
            owner=rep,
            stage=stages["Won"],
            amount=Decimal("5"),
            created_at=at(f"2024-0{1 + i % 3}-02"),
            closed_at=at("2024-03-03"),
        )
        history(deal, (deals["first"], f"2024-0{1 + i % 3}-02"), (stages["Won"], "2024-03-03"))
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url, params)


def test_the_funnel_and_time_in_stage_count_the_same_days(client, crm_admin, manager, rep, stages):
    """One definition of a stay's days serves both pages: calendar days in the CRM's time zone,
    whatever the hours and the change to summer time (31 March 2024 in Rome), read by the funnel's
    kept table, by the funnel from the deals, and by the time-in-stage report."""

    def moment(text):
        return timezone.make_aware(datetime.datetime.fromisoformat(text))

    new, qualifying, won = stages["New"], stages["Qualifying"], stages["Won"]

    def deal(steps):
        made = OpportunityFactory(owner=rep, stage=steps[-1][0], amount=Decimal("100"), created_at=moment(steps[0][1]))
        StageChange.objects.filter(opportunity=made).delete()
        for stage, when in steps:
            StageChange.objects.create(
                opportunity=made,
                to_stage=stage,
                changed_at=moment(when),
                amount=made.amount,
                currency=made.currency,
                probability=stage.probability,
            )
        return made

    # 18:00 on Friday to 9:00 on Tuesday across the change: 4 days (87 hours: 3 elapsed days).
    deal([(new, "2024-03-29T18:00"), (qualifying, "2024-04-02T09:00"), (won, "2024-04-05T20:00")])
    # Noon to noon across the change: 1 day (23 hours: 0 elapsed days).
    deal([(new, "2024-03-30T12:00"), (qualifying, "2024-03-31T12:00")])
    expected = {new.pk: ("2.5", 2), qualifying.pk: ("3.0", 1)}  # New: 4 and 1 days; Qualifying: 3

    march = {"date_from": "2024-03-01", "date_to": "2024-03-31"}
    for user, params in ((crm_admin, march), (manager, march), (crm_admin, {**march, "owner": rep.pk})):
        client.force_login(user)
        funnel_page = client.get(reverse("reports:funnel"), params).context["report"]
        stage_page = client.get(reverse("analytics:stages"), params).context["report"]
        funnel_api = client.get(reverse("reports-api:funnel"), params).json()
        stage_api = client.get(reverse("analytics-api:stages"), params).json()
        from_funnel = {s.stage.pk: (str(s.median_days), s.timed_count) for s in funnel_page.steps if s.timed_count}
        from_stage_page = {
            r.stage.pk: (str(r.median_days), r.finished_count) for r in stage_page.rows if r.finished_count
        }
        assert from_funnel == from_stage_page == expected, (user, params)
        assert (
            {s["stage"]: (s["median_days_in_stage"], s["timed_deals"]) for s in funnel_api["steps"] if s["timed_deals"]}
            == {r["stage"]: (r["median_days"], r["stays"]) for r in stage_api["rows"] if r["stays"]}
            == expected
        )
