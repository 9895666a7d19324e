"""The won/lost report: each figure on hand-built data, visibility, currencies, and that the page,
the API and the exports show the same numbers."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from reports.selectors import won_lost_report

from .conftest import closed_deal

pytestmark = pytest.mark.django_db

D = Decimal


def by_label(report):
    return {row.label: row for row in report.rows}


def test_by_owner_every_figure(closed_deals, crm_admin, rep, teammate, other_rep):
    report = won_lost_report(user=crm_admin, params={"group_by": "owner"})
    rows = by_label(report)
    mine = rows[rep.get_full_name()]
    assert (mine.won_count, mine.lost_count) == (2, 1)
    assert mine.won_amount == D("1500.25")
    assert mine.lost_amount == D("300.10")
    assert mine.win_rate == D("0.6667")
    assert mine.win_rate_by_value == D("0.8333")  # 1500.25 / 1800.35 = 0.83331...
    assert mine.avg_won_amount == D("750.13")  # 750.125 rounded half up, once, at the end
    assert mine.avg_cycle_days == D("20.0")  # (10 + 30) / 2

    theirs = rows[teammate.get_full_name()]
    assert (theirs.won_count, theirs.lost_count) == (1, 1)
    # The USD deal has no rate: counted, but its amount is shown apart and never added to EUR.
    assert theirs.won_amount == D("0.00")
    assert theirs.unconverted == [{"currency": "USD", "won_amount": D("700.00"), "lost_amount": D("0.00")}]
    assert theirs.win_rate == D("0.5000")
    assert theirs.avg_won_amount is None
    assert theirs.avg_cycle_days == D("33.0")

    total = report.total
    assert (total.won_count, total.lost_count) == (4, 2)
    assert total.won_amount == D("2499.25")
    assert total.lost_amount == D("500.10")
    assert total.win_rate == D("0.6667")
    assert total.avg_won_amount == D("833.08")  # 2499.25 / 3 converted won deals
    assert total.unconverted == [{"currency": "USD", "won_amount": D("700.00"), "lost_amount": D("0.00")}]
    assert [row.label for row in report.rows] == sorted(
        [rep.get_full_name(), teammate.get_full_name(), other_rep.get_full_name()], key=str.lower
    )


def test_single_currency_reports_only_that_currency_unconverted(closed_deals, crm_admin, teammate):
    report = won_lost_report(user=crm_admin, params={"group_by": "owner", "currency": "USD"})
    assert [row.label for row in report.rows] == [teammate.get_full_name()]
    row = report.rows[0]
    assert (row.won_count, row.lost_count, row.won_amount, row.avg_won_amount) == (1, 0, D("700.00"), D("700.00"))
    assert report.currency == "USD"
    assert row.unconverted == []


@pytest.mark.parametrize(
    "group_by, expected",
    [
        (
            "month",
            {
                "Jan 2024": (1, 0, "1000.00"),
                "Feb 2024": (1, 1, "500.25"),
                "Mar 2024": (1, 0, "999.00"),
                "Apr 2024": (1, 1, "0.00"),
            },
        ),
        ("quarter", {"Q1 2024": (3, 1, "2499.25"), "Q2 2024": (1, 1, "0.00")}),
        ("product", {"Alpha": (1, 1, "1000.00"), "Beta": (2, 0, "1499.25"), "No product": (1, 1, "0.00")}),
        ("type", {"New business": (3, 2, "1999.00"), "Existing business": (1, 0, "500.25")}),
        (
            "lead_source",
            {"Website": (1, 1, "1000.00"), "Referral": (1, 0, "500.25"), "No lead source": (2, 1, "999.00")},
        ),
        ("lost_reason", {"Price": (0, 2, "0.00"), "No lost reason (won)": (4, 0, "2499.25")}),
        ("team", {"Nord": (3, 2, "1500.25"), "Sud": (1, 0, "999.00")}),
    ],
)
def test_groupings(closed_deals, crm_admin, group_by, expected):
    report = won_lost_report(user=crm_admin, params={"group_by": group_by})
    got = {row.label: (row.won_count, row.lost_count, str(row.won_amount)) for row in report.rows}
    assert got == expected
    # Every deal is in exactly one group: the total row is the same whatever the grouping.
    assert (report.total.won_count, report.total.lost_count, report.total.won_amount) == (4, 2, D("2499.25"))


def test_keys_and_labels_people_read(closed_deals, crm_admin, products):
    report = won_lost_report(user=crm_admin, params={"group_by": "quarter"})
    assert [(r.key, r.label) for r in report.rows] == [("2024-Q1", "Q1 2024"), ("2024-Q2", "Q2 2024")]
    with translation.override("it"):  # issue 16: months and quarters were ISO in Italian too
        report = won_lost_report(user=crm_admin, params={"group_by": "quarter"})
        assert [(r.key, r.label) for r in report.rows] == [("2024-Q1", "T1 2024"), ("2024-Q2", "T2 2024")]
        report = won_lost_report(user=crm_admin, params={"group_by": "month", "date_from": "2024-01-01"})
        assert [r.label for r in report.rows][:2] == ["gen 2024", "feb 2024"]
        period = won_lost_report(user=crm_admin, params={"date_from": "2026-10-01", "date_to": "2026-12-31"})
        assert period.filter.period_text == "1 ott 2026 – 31 dic 2026"
    report = won_lost_report(user=crm_admin, params={"group_by": "product"})
    assert report.rows[0].key == str(products["Alpha"].pk)


def test_a_rep_sees_only_their_team(closed_deals, rep, other_rep, manager):
    for user in (rep, manager):
        report = won_lost_report(user=user, params={"group_by": "owner"})
        assert other_rep.get_full_name() not in by_label(report)
        assert (report.total.won_count, report.total.lost_count) == (3, 2)
    report = won_lost_report(user=other_rep, params={})
    assert [row.label for row in report.rows] == [other_rep.get_full_name()]


def test_filters(closed_deals, crm_admin, rep, team, products, stages):
    def total(**params):
        t = won_lost_report(user=crm_admin, params=params).total
        return t.won_count, t.lost_count

    assert total(date_from="2024-02-01", date_to="2024-02-29") == (1, 1)  # b and c; f closed on 1 March
    assert total(date_from="2024-03-01", date_to="2024-03-01") == (1, 0)
    assert total(owner=rep.pk) == (2, 1)
    assert total(team=team.pk) == (3, 2)
    assert total(type="existing_business") == (1, 0)
    assert total(lead_source="website") == (1, 1)
    assert total(product=products["Beta"].pk) == (2, 0)
    assert total(pipeline=stages["Won"].pipeline_id) == (4, 2)


def test_archived_deals_are_not_counted(closed_deals, crm_admin):
    from opportunities.services import opportunity_archive

    opportunity_archive(opportunity=closed_deals["a"], user=crm_admin)
    assert won_lost_report(user=crm_admin, params={}).total.won_count == 3


def test_period_presets(rep, stages, crm_admin):
    from django.utils import timezone

    today = timezone.localdate()
    closed_deal(rep, stages["Won"], "10.00", (today.replace(day=1)).isoformat(), today.isoformat())
    for period in ("this_month", "this_quarter", "this_year", "last_12_months"):
        assert won_lost_report(user=crm_admin, params={"period": period}).total.won_count == 1


def test_bad_filters_name_the_field(crm_admin):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        won_lost_report(user=crm_admin, params={"group_by": "planet", "date_from": "yesterday"})
    assert set(exc.value.message_dict) == {"group_by", "date_from"}


def test_queries_do_not_grow_with_deals(
    rep, stages, lost_reason, crm_admin, products, django_assert_num_queries, django_assert_max_num_queries
):
    def run():
        # the time zone of the monthly totals, then the totals themselves
        for group_by in ("month", "quarter", "type", "lead_source"):
            with django_assert_num_queries(2):
                won_lost_report(user=crm_admin, params={"group_by": group_by})
        for group_by in ("owner", "team", "lost_reason"):
            with django_assert_max_num_queries(3):  # + the names of the groups, when there are any
                won_lost_report(user=crm_admin, params={"group_by": group_by})
        with django_assert_max_num_queries(2):  # by product: the deals themselves, + the products' names
            won_lost_report(user=crm_admin, params={"group_by": "product"})

    closed_deal(rep, stages["Won"], "1.00", "2024-01-01", "2024-01-02", product=products["Alpha"])
    run()
    for i in range(5):
        closed_deal(
            rep,
            stages["Lost"],
            "2.00",
            "2024-01-01",
            f"2024-02-0{i + 1}",
            lost_reason=lost_reason,
            product=products["Beta"],
        )
    run()


# --- Page, API and exports agree ---------------------------------------------------------------------


def test_page_api_and_exports_agree(client, closed_deals, crm_admin, rep):
    client.force_login(crm_admin)
    params = {"group_by": "owner"}
    api = client.get(reverse("reports-api:won_lost"), params).json()
    mine = next(r for r in api["rows"] if r["label"] == rep.get_full_name())
    assert mine == {
        "key": str(rep.pk),
        "label": rep.get_full_name(),
        "won_count": 2,
        "lost_count": 1,
        "won_amount": "1500.25",
        "lost_amount": "300.10",
        "win_rate": "0.6667",
        "win_rate_by_value": "0.8333",
        "avg_won_amount": "750.13",
        "avg_cycle_days": "20.0",
        "unconverted": [],
    }
    assert api["total"]["won_amount"] == "2499.25"
    assert api["total"]["unconverted"] == [{"currency": "USD", "won_amount": "700.00", "lost_amount": "0.00"}]

    page = client.get(reverse("reports:won_lost"), params)
    assert page.status_code == 200
    html = page.content.decode()
    assert "€1,500.25" in html and "€2,499.25" in html and "$700.00" in html and "66.7%" in html

    rows = list(
        csv.reader(
            io.StringIO(
                client.get(reverse("reports:won_lost"), {**params, "export": "csv"}).getvalue().decode("utf-8-sig")
            )
        )
    )
    assert rows[0][0] == "Group"
    exported = {row[0]: row for row in rows[1:]}
    assert exported[rep.get_full_name()][1:5] == ["2", "1", "1500.25", "300.10"]
    assert exported["Total"][1:5] == ["4", "2", "2499.25", "500.10"]
    assert exported["Total"][9] == "USD 700.00/0.00"

    response = client.get(reverse("reports:won_lost"), {**params, "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["Total"][1:5] == (4, 2, 2499.25, 500.1)


def test_api_answers_400_naming_the_field(client, crm_admin):
    client.force_login(crm_admin)
    response = client.get(reverse("reports-api:won_lost"), {"group_by": "planet"})
    assert response.status_code == 400
    assert "group_by" in response.json()["error"]["fields"]  # the API's one error format


def test_page_shows_bad_filters_on_the_form(client, crm_admin):
    client.force_login(crm_admin)
    response = client.get(reverse("reports:won_lost"), {"date_from": "soon"})
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()


def test_anonymous_users_are_sent_to_login(client):
    assert client.get(reverse("reports:won_lost")).status_code == 302
    assert client.get(reverse("reports-api:won_lost")).status_code in (401, 403)


def test_page_query_budget(client, closed_deals, crm_admin, django_assert_max_num_queries):
    client.force_login(crm_admin)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("reports:won_lost"), {"group_by": "owner"}).status_code == 200


def test_filter_offers_only_visible_people(rep, other_rep, teammate, crm_admin):
    from reports.filters import ReportFilter

    owners = set(ReportFilter({}, user=rep).filters["owner"].queryset)
    assert rep in owners and teammate in owners and other_rep not in owners
    assert other_rep in set(ReportFilter({}, user=crm_admin).filters["owner"].queryset)


def test_a_period_ending_before_it_starts_is_refused(client, crm_admin):
    client.force_login(crm_admin)
    params = {"date_from": "2024-03-01", "date_to": "2024-02-01"}
    response = client.get(reverse("reports-api:won_lost"), params)
    assert response.status_code == 400 and "date_to" in response.json()["error"]["fields"]
    page = client.get(reverse("reports:won_lost"), params)
    assert page.status_code == 400
    assert "The end of the period is before its start." in page.content.decode()
