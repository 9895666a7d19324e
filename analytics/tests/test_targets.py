"""Targets: who may set them, attainment computed over every matching deal, the page, the API, the
home page; query counts that do not grow with the data."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import ChangeNotAllowed
from activities.models import Activity
from analytics.models import Metric, SalesTarget
from analytics.selectors.targets import targets_report
from analytics.services import target_set
from opportunities.tests.factories import OpportunityFactory

TODAY = timezone.localdate()


def at(day: datetime.date, hour=12):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def quarter_days():
    first = datetime.date(TODAY.year, 3 * ((TODAY.month - 1) // 3) + 1, 1)
    return first, first + datetime.timedelta(days=40)


@pytest.fixture
def won_deals(rep, teammate, other_rep, stages):
    first, second = quarter_days()
    deals = [
        OpportunityFactory(owner=rep, stage=stages["Won"], amount=Decimal("1000.00"), closed_at=at(first)),
        OpportunityFactory(owner=rep, stage=stages["Won"], amount=Decimal("250.50"), closed_at=at(second)),
        OpportunityFactory(owner=teammate, stage=stages["Won"], amount=Decimal("300.00"), closed_at=at(first)),
        OpportunityFactory(owner=other_rep, stage=stages["Won"], amount=Decimal("999.00"), closed_at=at(first)),
        # Last quarter: not counted.
        OpportunityFactory(
            owner=rep, stage=stages["Won"], amount=Decimal("5000.00"), closed_at=at(first - datetime.timedelta(days=1))
        ),
    ]
    # Open, expected in the quarter: 2000 × probability of its stage.
    open_stage = next(s for s in stages.values() if s.kind == "open" and s.probability)
    deals.append(OpportunityFactory(owner=rep, stage=open_stage, amount=Decimal("2000.00"), expected_close_date=second))
    return deals, open_stage


def test_manager_sets_targets_for_team_members_only(manager, rep, other_rep, team, other_team):
    target = target_set(
        user=manager, owner=rep, period_kind="quarter", day=TODAY, metric=Metric.WON_AMOUNT, value=Decimal("5000")
    )
    assert target.period_start == quarter_days()[0]
    # Setting it again replaces it.
    again = target_set(
        user=manager, owner=rep, period_kind="quarter", day=TODAY, metric=Metric.WON_AMOUNT, value=Decimal("6000")
    )
    assert again.pk == target.pk and SalesTarget.objects.get().value == Decimal("6000")
    target_set(user=manager, team=team, period_kind="month", day=TODAY, metric=Metric.WON_COUNT, value=Decimal("3"))
    with pytest.raises(ChangeNotAllowed):
        target_set(
            user=manager, owner=other_rep, period_kind="month", day=TODAY, metric=Metric.WON_COUNT, value=Decimal("1")
        )
    with pytest.raises(ChangeNotAllowed):
        target_set(
            user=manager, team=other_team, period_kind="month", day=TODAY, metric=Metric.WON_COUNT, value=Decimal("1")
        )
    with pytest.raises(ChangeNotAllowed):
        target_set(user=rep, owner=rep, period_kind="month", day=TODAY, metric=Metric.WON_COUNT, value=Decimal("1"))


def test_attainment_and_forecast(manager, rep, other_rep, team, won_deals):
    _deals, open_stage = won_deals
    target_set(user=manager, owner=rep, period_kind="quarter", day=TODAY, metric="won_amount", value=Decimal("5000"))
    target_set(user=manager, team=team, period_kind="quarter", day=TODAY, metric="won_count", value=Decimal("4"))
    report = targets_report(user=manager, params={})
    by_metric = {r.target.metric: r for r in report.rows}
    rep_row = by_metric["won_amount"]
    assert rep_row.achieved == Decimal("1250.50")
    assert rep_row.percent == Decimal("25.0")
    weighted = Decimal("2000.00") * open_stage.probability / 100
    assert rep_row.forecast == (Decimal("1250.50") + weighted).quantize(Decimal("0.01"))
    team_row = by_metric["won_count"]
    assert team_row.achieved == 3  # rep 2 + teammate 1; other team's deal not counted
    assert team_row.percent == Decimal("75.0")
    # The rep sees their own target and their team's; a rep of another team sees neither.
    assert {r.target.metric for r in targets_report(user=rep, params={}).rows} == {"won_count", "won_amount"}
    assert targets_report(user=other_rep, params={}).rows == []


def test_activities_done_target(manager, rep):
    first, _second = quarter_days()
    for _ in range(3):
        Activity.objects.create(owner=rep, subject="Call", kind="call", due_at=at(first), done=True, done_at=at(first))
    Activity.objects.create(owner=rep, subject="Call", kind="call", due_at=at(first), done=False)
    target_set(user=manager, owner=rep, period_kind="quarter", day=TODAY, metric="activities_done", value=Decimal("6"))
    row = targets_report(user=manager, params={}).rows[0]
    assert row.achieved == 3 and row.percent == Decimal("50.0") and row.forecast == Decimal("4.00")


def test_bad_filter_names_the_field(client, manager):
    client.force_login(manager)
    response = client.get(reverse("analytics:targets"), {"period_kind": "century"})
    assert response.status_code == 400
    response = client.get("/api/v1/analytics/targets/", {"day": "not-a-date"})
    assert response.status_code == 400 and "day" in response.content.decode()


def test_page_home_and_api_agree(client, manager, rep, won_deals):
    target_set(user=manager, owner=rep, period_kind="quarter", day=TODAY, metric="won_amount", value=Decimal("5000"))
    client.force_login(rep)
    home = client.get("/").content.decode()
    assert 'data-testid="home-targets-mine"' in home and "25.0" in home
    client.force_login(manager)
    home = client.get("/").content.decode()
    assert 'data-testid="home-targets-team"' in home
    page = client.get(reverse("analytics:targets")).content.decode()
    assert "25.0" in page
    api = client.get("/api/v1/analytics/targets/").json()
    assert api["rows"][0]["achieved"] == "1250.50" and api["rows"][0]["percent"] == "25.0"
    xlsx = client.get(reverse("analytics:targets"), {"export": "xlsx"})
    assert xlsx.status_code == 200


def test_api_sets_a_target_and_refuses_reps(client, manager, rep, won_deals):
    client.force_login(manager)
    response = client.post(
        "/api/v1/analytics/targets/",
        {"owner": rep.pk, "period_kind": "quarter", "day": TODAY.isoformat(), "metric": "won_amount", "value": "5000"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["achieved"] == "1250.50"
    response = client.post(
        "/api/v1/analytics/targets/",
        {"owner": rep.pk, "period_kind": "quarter", "day": TODAY.isoformat(), "metric": "won_amount", "value": "-1"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "value" in response.content.decode()
    client.force_login(rep)
    response = client.post(
        "/api/v1/analytics/targets/",
        {"owner": rep.pk, "period_kind": "quarter", "day": TODAY.isoformat(), "metric": "won_amount", "value": "5"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_form_sets_target(client, manager, rep):
    client.force_login(manager)
    response = client.post(
        reverse("analytics:target_set"),
        {"owner": rep.pk, "period_kind": "quarter", "day": TODAY.isoformat(), "metric": "won_count", "value": "4"},
    )
    assert response.status_code == 302
    assert SalesTarget.objects.get().value == 4
    response = client.post(
        reverse("analytics:target_set"), {"period_kind": "quarter", "day": "x", "metric": "won_count"}
    )
    assert response.status_code == 400
    client.force_login(rep)
    assert client.get(reverse("analytics:target_set")).status_code == 403


def test_query_count_does_not_grow(client, manager, rep, teammate, stages, django_assert_num_queries, won_deals):
    target_set(user=manager, owner=rep, period_kind="quarter", day=TODAY, metric="won_amount", value=Decimal("5000"))
    target_set(user=manager, owner=teammate, period_kind="quarter", day=TODAY, metric="won_count", value=Decimal("5"))

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            targets_report(user=manager, params={})
        return len(ctx.captured_queries)

    before = count()
    first, _ = quarter_days()
    for _ in range(5):
        OpportunityFactory(owner=teammate, stage=stages["Won"], amount=Decimal("10"), closed_at=at(first))
    with django_assert_num_queries(before):
        targets_report(user=manager, params={})
