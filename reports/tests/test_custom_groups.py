"""Won/lost and the funnel grouped by a single-choice custom field of deals or of their organization
(issue 17: "won/lost by Settore"): the figures equal a count made apart over every closed deal, a
rep counts only what they may see, labels are the choices' in the reader's language, and the page,
the API and the export agree."""

import csv
import io

import pytest
from django.urls import reverse

from contacts.tests.factories import OrganizationFactory
from customfields.tests.factories import CustomFieldFactory, settore
from opportunities.models import Opportunity
from reports.selectors import funnel_report, won_lost_report

from .conftest import at, closed_deal
from .test_funnel_forecast_lost import walk

pytestmark = pytest.mark.django_db

PLAN = [  # owner, won?, amount, deal's sector, organization's size
    ("rep", True, "100.00", "pa", "small"),
    ("rep", True, "200.00", "pa", "large"),
    ("rep", False, "50.00", "servizi", "small"),
    ("teammate", True, "300.00", "servizi", None),
    ("teammate", False, "70.00", None, "large"),
    ("other_rep", True, "900.00", "manifattura", "large"),
    ("other_rep", False, "10.00", "pa", None),
]


@pytest.fixture
def graded(request, stages, lost_reason):
    settore()
    CustomFieldFactory(
        entity="organization",
        key="dimensione",
        label_it="Dimensione",
        label_en="Size",
        type="choice",
        choices=[
            {"key": "small", "label_it": "Piccola", "label_en": "Small", "removed": False},
            {"key": "large", "label_it": "Grande", "label_en": "Large", "removed": False},
        ],
    )
    deals = []
    for owner_name, won, amount, sector, size in PLAN:
        owner = request.getfixturevalue(owner_name)
        organization = OrganizationFactory(owner=owner, custom_fields={"dimensione": size} if size else {})
        deals.append(
            closed_deal(
                owner,
                stages["Won"] if won else stages["Lost"],
                amount,
                "2024-03-01",
                "2024-03-20",
                lost_reason=None if won else lost_reason,
                organization=organization,
                custom_fields={"settore": sector} if sector else {},
            )
        )
    return deals


def counted_apart(value_of, owners=None):
    counts = {}
    for deal in Opportunity.objects.filter(status__in=["won", "lost"]).select_related("organization"):
        if owners is not None and deal.owner_id not in owners:
            continue
        key = value_of(deal) or None
        won, lost, amount = counts.get(key, (0, 0, 0))
        counts[key] = (won + 1, lost, amount + deal.amount) if deal.status == "won" else (won, lost + 1, amount)
    return counts


def sector(deal):
    return deal.custom_fields.get("settore")


def size(deal):
    return (deal.organization.custom_fields or {}).get("dimensione") if deal.organization_id else None


@pytest.mark.parametrize(("group_by", "value_of"), [("cf_settore", sector), ("org_cf_dimensione", size)])
def test_won_lost_by_a_custom_choice_equals_a_count_of_every_deal(graded, crm_admin, group_by, value_of):
    report = won_lost_report(user=crm_admin, params={"group_by": group_by})
    got = {row.key: (row.won_count, row.lost_count, row.won_amount) for row in report.rows}
    assert got == counted_apart(value_of)
    assert report.total.won_count + report.total.lost_count == len(graded)


def test_groups_are_labelled_in_the_choices_order_with_the_empty_group_last(graded, crm_admin):
    report = won_lost_report(user=crm_admin, params={"group_by": "cf_settore"})
    assert [row.label for row in report.rows] == ["Manufacturing", "Services", "Public sector", "No value"]
    assert report.group_label == "Sector"
    by_size = won_lost_report(user=crm_admin, params={"group_by": "org_cf_dimensione"})
    assert [row.label for row in by_size.rows] == ["Small", "Large", "No value"]
    assert by_size.group_label == "Organization: Size"


def test_a_rep_counts_only_the_deals_visible_to_them(graded, rep, teammate):
    report = won_lost_report(user=rep, params={"group_by": "cf_settore"})
    got = {row.key: (row.won_count, row.lost_count, row.won_amount) for row in report.rows}
    assert got == counted_apart(sector, owners={rep.pk, teammate.pk})
    assert "manifattura" not in got  # only another team's deal is in manufacturing


def test_an_unknown_or_non_choice_field_is_a_400_naming_group_by(graded, client, crm_admin):
    CustomFieldFactory(key="budget", label_en="Budget", type="money")
    client.force_login(crm_admin)
    for value in ("cf_nope", "cf_budget"):
        response = client.get("/api/v1/reports/won-lost/", {"group_by": value})
        assert response.status_code == 400
        assert "group_by" in response.content.decode()


def test_page_api_and_export_show_the_same_numbers_in_italian(graded, client, crm_admin):
    client.force_login(crm_admin)
    client.cookies["django_language"] = "it"
    api = client.get("/api/v1/reports/won-lost/", {"group_by": "cf_settore"}).json()
    api_rows = {row["label"]: (row["won_count"], row["lost_count"]) for row in api["rows"]}
    page = client.get(reverse("reports:won_lost"), {"group_by": "cf_settore"}, headers={"Accept-Language": "it"})
    html = page.content.decode()
    assert "Pubblica amministrazione" in html and "Settore" in html
    export = client.get(reverse("reports:won_lost"), {"group_by": "cf_settore", "export": "csv"})
    text = (
        b"".join(export.streaming_content).decode("utf-8-sig")
        if export.streaming
        else export.content.decode("utf-8-sig")
    )
    exported = list(csv.reader(io.StringIO(text), delimiter=";" if ";" in text.splitlines()[0] else ","))
    labels = {row[0] for row in exported[1:]}
    assert {"Pubblica amministrazione", "Servizi", "Manifattura"} <= labels
    assert api_rows["Pubblica amministrazione"] == (2, 1)


def test_the_funnel_splits_by_a_custom_choice(rep, stages, crm_admin):
    settore()
    s = stages
    for value, steps in [
        ("pa", [(s["Qualifying"], "2024-01-03"), (s["Won"], "2024-01-09")]),
        ("pa", [(s["Qualifying"], "2024-01-04")]),
        ("servizi", []),
    ]:
        deal = Opportunity.objects.get(pk=walk(_open(rep, value), rep, *steps).pk)
        assert deal.custom_fields["settore"] == value
    report = funnel_report(user=crm_admin, params={"group_by": "cf_settore", "date_from": "2024-01-01"})
    groups = {group.label: [step.reached for step in group.steps] for group in report.groups}
    assert groups["Public sector"][:2] == [2, 2] and groups["Services"][:2] == [1, 0]
    assert report.deals == sum(group.deals for group in report.groups) == 3


def _open(owner, value):
    from opportunities.tests.factories import OpportunityFactory

    return OpportunityFactory(owner=owner, created_at=at("2024-01-01"), custom_fields={"settore": value})
