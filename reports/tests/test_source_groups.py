"""Won/lost and funnel split by web form and by UTM campaign (issue 20): the figures equal a count
made apart over every matching deal, a rep sees only the deals visible to them, and the page, the
API and the exports show the same numbers with a query budget that does not grow with the deals."""

import csv
import io
from collections import Counter

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from pipeline.models import Stage, StageChange
from reports.selectors import funnel_report, won_lost_report
from webforms.tests.factories import WebFormFactory

from .conftest import at, closed_deal
from .test_funnel_forecast_lost import walk

pytestmark = pytest.mark.django_db


def ref(form):
    """A web form as the deal service takes it (``opportunity_create(lead_form=...)``)."""
    return {"id": form.pk, "name": form.name, "slug": form.slug} if form else None


@pytest.fixture
def forms(manager):
    return {
        "Contatti": WebFormFactory(name="Contatti", owner=manager),
        "Demo": WebFormFactory(name="Demo", owner=manager),
    }


@pytest.fixture
def sourced_deals(rep, teammate, other_rep, stages, lost_reason, forms):
    """Closed deals of three owners (two teams) from two forms, three campaigns, or neither."""
    won, lost = stages["Won"], stages["Lost"]
    plan = [
        (rep, won, "100.00", forms["Contatti"], "spring"),
        (rep, won, "200.00", forms["Contatti"], "spring"),
        (rep, lost, "50.00", forms["Contatti"], "autumn"),
        (teammate, won, "300.00", forms["Demo"], "spring"),
        (teammate, lost, "70.00", None, ""),
        (other_rep, won, "900.00", forms["Demo"], "fair"),
        (other_rep, lost, "10.00", forms["Contatti"], "spring"),
        (other_rep, won, "40.00", None, ""),
    ]
    return [
        closed_deal(
            owner,
            stage,
            amount,
            "2024-03-01",
            "2024-03-20",
            lost_reason=lost_reason if stage == lost else None,
            lead_form=ref(form),
            utm_campaign=campaign,
        )
        for owner, stage, amount, form, campaign in plan
    ]


def counted_apart(group_by, owners=None):
    """{group key: (won, lost, won amount)} over the deals, counted in Python."""
    counts = {}
    for deal in Opportunity.objects.filter(status__in=["won", "lost"]):
        if owners is not None and deal.owner_id not in owners:
            continue
        key = getattr(deal, group_by) or None
        won, lost, amount = counts.get(key, (0, 0, 0))
        if deal.status == "won":
            counts[key] = (won + 1, lost, amount + deal.amount)
        else:
            counts[key] = (won, lost + 1, amount)
    return {None if k is None else str(k): v for k, v in counts.items()}


@pytest.mark.parametrize("group_by", ["lead_form", "utm_campaign"])
def test_won_lost_by_source_equals_a_count_of_every_deal(sourced_deals, crm_admin, group_by):
    report = won_lost_report(user=crm_admin, params={"group_by": group_by})
    got = {row.key: (row.won_count, row.lost_count, row.won_amount) for row in report.rows}
    assert got == counted_apart(group_by)
    assert report.total.won_count + report.total.lost_count == len(sourced_deals)


def test_won_lost_by_form_labels(sourced_deals, crm_admin, forms):
    report = won_lost_report(user=crm_admin, params={"group_by": "lead_form"})
    assert [row.label for row in report.rows] == ["Contatti", "Demo", "No web form"]
    assert report.group_label == "Web form"
    campaigns = won_lost_report(user=crm_admin, params={"group_by": "utm_campaign"})
    assert [row.label for row in campaigns.rows] == ["autumn", "fair", "spring", "No campaign"]


@pytest.mark.parametrize("group_by", ["lead_form", "utm_campaign"])
def test_a_rep_counts_only_the_deals_visible_to_them(sourced_deals, rep, teammate, group_by):
    report = won_lost_report(user=rep, params={"group_by": group_by})
    got = {row.key: (row.won_count, row.lost_count, row.won_amount) for row in report.rows}
    assert got == counted_apart(group_by, owners={rep.pk, teammate.pk})
    assert "fair" not in {row.key for row in report.rows}  # only another team's deal came from it


def test_won_lost_by_source_budget_does_not_grow(rep, stages, forms, crm_admin, django_assert_num_queries):
    def run():
        with django_assert_num_queries(2):  # the deals grouped, the forms' names
            won_lost_report(user=crm_admin, params={"group_by": "lead_form"})
        with django_assert_num_queries(1):  # a campaign is its own name
            won_lost_report(user=crm_admin, params={"group_by": "utm_campaign"})

    closed_deal(rep, stages["Won"], "1.00", "2024-01-01", "2024-01-02", lead_form=ref(forms["Demo"]))
    run()
    for i in range(6):
        form = forms["Demo" if i % 2 else "Contatti"]
        closed_deal(rep, stages["Won"], "1.00", "2024-01-01", "2024-01-03", lead_form=ref(form), utm_campaign=f"c{i}")
    run()


# --- The funnel ------------------------------------------------------------------------------------


@pytest.fixture
def funnel_sourced(rep, teammate, other_rep, stages, lost_reason, forms):
    s = stages
    plan = [
        (rep, forms["Contatti"], "spring", [(s["Qualifying"], "2024-01-03"), (s["Won"], "2024-01-09")]),
        (rep, forms["Contatti"], "spring", [(s["Qualifying"], "2024-01-04"), (s["Lost"], "2024-01-08", lost_reason)]),
        (rep, forms["Contatti"], "autumn", []),
        (teammate, forms["Demo"], "spring", [(s["Demo scheduled"], "2024-01-05")]),
        (teammate, None, "", [(s["Qualifying"], "2024-01-02")]),
        (other_rep, forms["Demo"], "fair", [(s["Qualifying"], "2024-01-02"), (s["In negotiation"], "2024-01-06")]),
        (other_rep, forms["Contatti"], "spring", [(s["Qualifying"], "2024-01-07")]),
    ]
    deals = []
    for owner, form, campaign, steps in plan:
        deal = OpportunityFactory(owner=owner, created_at=at("2024-01-01"), lead_form=ref(form), utm_campaign=campaign)
        deals.append(walk(deal, owner, *steps))
    return deals


def funnel_apart(group_by, pipeline, owners=None):
    """{group key: {stage name: deals reaching it}} from the stage history rows themselves."""
    stages = [s for s in pipeline.stages.order_by("order") if s.kind != Stage.Kind.LOST]
    first = stages[0].order
    furthest = {}
    for change in StageChange.objects.select_related("to_stage", "opportunity"):
        deal = change.opportunity
        if (owners is not None and deal.owner_id not in owners) or change.to_stage.kind == Stage.Kind.LOST:
            continue
        key = getattr(deal, group_by) or None
        furthest[(key, deal.pk)] = max(furthest.get((key, deal.pk), first), change.to_stage.order)
    result = {}
    for (key, _), top in furthest.items():
        group = result.setdefault(None if key is None else str(key), Counter())
        for stage in stages:
            group[stage.name] += top >= stage.order
    return {key: {name: group[name] for name in (s.name for s in stages)} for key, group in result.items()}


@pytest.mark.parametrize("group_by", ["lead_form", "utm_campaign"])
def test_funnel_by_source_equals_the_stage_history(funnel_sourced, crm_admin, rep, teammate, pipeline, group_by):
    report = funnel_report(user=crm_admin, params={"group_by": group_by})
    got = {g.key: {step.stage.name: step.reached for step in g.steps} for g in report.groups}
    assert got == funnel_apart(group_by, pipeline)
    assert sum(g.deals for g in report.groups) == report.deals == len(funnel_sourced)
    ungrouped = funnel_report(user=crm_admin, params={})
    assert [s.reached for s in report.steps] == [s.reached for s in ungrouped.steps]
    assert [s.median_days for s in report.steps] == [s.median_days for s in ungrouped.steps]

    mine = funnel_report(user=rep, params={"group_by": group_by})
    got = {g.key: {step.stage.name: step.reached for step in g.steps} for g in mine.groups}
    assert got == funnel_apart(group_by, pipeline, owners={rep.pk, teammate.pk})


def test_funnel_group_medians(funnel_sourced, crm_admin, forms):
    report = funnel_report(user=crm_admin, params={"group_by": "lead_form"})
    contatti = next(g for g in report.groups if g.label == "Contatti")
    steps = {step.stage.name: step for step in contatti.steps}
    # Time in New: 2, 3 and 6 days (the third deal of the form has not left it) → 3.
    assert steps["New"].median_days == 3
    assert steps["Qualifying"].median_days == 5  # 6 and 4 days
    assert [g.label for g in report.groups] == ["Contatti", "Demo", "No web form"]


def test_funnel_by_source_budget_does_not_grow(rep, stages, forms, crm_admin, django_assert_num_queries):
    def run():
        with django_assert_num_queries(5):  # default pipeline, stages, deals by history, stays, forms' names
            funnel_report(user=crm_admin, params={"group_by": "lead_form"})

    OpportunityFactory(owner=rep, created_at=at("2024-01-01"), lead_form=ref(forms["Demo"]))
    run()
    for i in range(6):
        deal = OpportunityFactory(owner=rep, created_at=at("2024-01-01"), lead_form=ref(forms["Contatti"]))
        walk(deal, rep, (stages["Qualifying"], f"2024-01-0{i + 2}"))
    run()


# --- Page, API and exports -------------------------------------------------------------------------


def _csv(response):
    return list(csv.reader(io.StringIO(response.getvalue().decode("utf-8-sig"))))


def test_won_lost_page_api_and_exports_by_form_agree(client, sourced_deals, rep, forms):
    client.force_login(rep)
    params = {"group_by": "lead_form"}
    api = client.get(reverse("reports-api:won_lost"), params).json()
    assert api["group_by"] == "lead_form"
    rows = {row["label"]: row for row in api["rows"]}
    assert (rows["Contatti"]["won_count"], rows["Contatti"]["lost_count"], rows["Contatti"]["won_amount"]) == (
        2,
        1,
        "300.00",
    )
    assert rows["Demo"]["won_amount"] == "300.00"  # the other team's 900.00 is not theirs to see

    html = client.get(reverse("reports:won_lost"), params).content.decode()
    assert "Contatti" in html and "No web form" in html and "€300.00" in html

    exported = {row[0]: row for row in _csv(client.get(reverse("reports:won_lost"), {**params, "export": "csv"}))}
    assert exported["Contatti"][1:4] == ["2", "1", "300.00"]
    assert exported["Total"][1:4] == ["3", "2", "600.00"]
    sheet = load_workbook(
        io.BytesIO(client.get(reverse("reports:won_lost"), {**params, "export": "xlsx"}).content)
    ).active
    values = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["Demo"][1:4] == (1, 0, 300.0)


def test_funnel_page_api_and_exports_by_campaign_agree(client, funnel_sourced, crm_admin):
    client.force_login(crm_admin)
    params = {"group_by": "utm_campaign"}
    api = client.get(reverse("reports-api:funnel"), params).json()
    assert api["group_by"] == "utm_campaign"
    spring = next(g for g in api["groups"] if g["key"] == "spring")
    assert spring["deals"] == 4
    assert [s["reached"] for s in spring["steps"]][:3] == [4, 4, 2]  # New, Qualifying, Demo (won passed it)

    page = client.get(reverse("reports:funnel"), params)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="funnel-groups"' in html and "spring" in html and "No campaign" in html

    rows = _csv(client.get(reverse("reports:funnel"), {**params, "export": "csv"}))
    assert rows[0][:3] == ["Group", "Stage", "Deals reaching it"]
    assert ["spring", "New", "4"] in [row[:3] for row in rows]
    assert ["All deals", "New", "7"] in [row[:3] for row in rows]
    sheet = load_workbook(io.BytesIO(client.get(reverse("reports:funnel"), {**params, "export": "xlsx"}).content))
    assert ("spring", "Qualifying", 4) in [row[:3] for row in sheet.active.iter_rows(min_row=2, values_only=True)]

    plain = client.get(reverse("reports-api:funnel")).json()
    assert plain["group_by"] is None and plain["groups"] == []


def test_unknown_grouping_answers_400(client, crm_admin):
    client.force_login(crm_admin)
    response = client.get(reverse("reports-api:funnel"), {"group_by": "owner"})
    assert response.status_code == 400
    assert "group_by" in response.json()["error"]["fields"]
