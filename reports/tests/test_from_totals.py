"""The won/lost report read from the monthly totals (opportunities.ClosedMonth) equals the report
added up from the deals themselves (``CRM_DEAL_ROLLUPS=False``), for every reader, filter and
grouping; periods that are not whole months, and products, are added up from the deals."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from opportunities.services import opportunity_archive, opportunity_move_stage, opportunity_update
from reports.selectors import won_lost_report

from .conftest import closed_deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def more_deals(closed_deals, rep, teammate, other_rep, crm_admin, stages, lost_reason):
    """The hand-built deals, plus deals closed this month and last month (for the presets), one
    archived, one reopened and one whose owner changed team's hands."""
    today = timezone.localdate()
    last_month = today.replace(day=1) - datetime.timedelta(days=1)
    won, lost = stages["Won"], stages["Lost"]
    recent = [
        closed_deal(rep, won, "120.00", (today - datetime.timedelta(days=40)).isoformat(), today.isoformat()),
        closed_deal(teammate, lost, "80.00", "2024-06-01", last_month.isoformat(), lost_reason=lost_reason),
        closed_deal(other_rep, won, "55.55", "2024-06-01", last_month.isoformat(), lead_source="partner"),
        closed_deal(rep, won, "10.00", "2024-06-01", today.isoformat(), currency="USD"),
    ]
    archived = closed_deal(rep, won, "9999.00", "2024-01-01", "2024-01-15")
    opportunity_archive(opportunity=archived, user=rep)
    reopened = closed_deal(rep, lost, "333.00", "2024-01-01", "2024-01-16", lost_reason=lost_reason)
    opportunity_move_stage(opportunity=reopened, stage=stages["New"], user=rep)
    # Only an admin may hand a deal to another team (accounts.permissions.assignable_owners).
    opportunity_update(opportunity=recent[2], user=crm_admin, data={"owner": teammate})
    return recent


def readers(rep, manager, other_rep, crm_admin):
    return (rep, manager, other_rep, crm_admin)


def from_totals(queries) -> bool:
    return any("opportunities_closedmonth" in q["sql"] for q in queries.captured_queries)


def both_ways(settings, user, params):
    with CaptureQueriesContext(connection) as queries:
        kept = won_lost_report(user=user, params=params).as_dict()
    with override_settings(CRM_DEAL_ROLLUPS=False):
        live = won_lost_report(user=user, params=params).as_dict()
    return kept, live, from_totals(queries)


def test_whole_months_come_from_the_totals_and_equal_the_deals(
    more_deals, rep, manager, other_rep, crm_admin, team, pipeline, settings
):
    groupings = ["owner", "team", "type", "lost_reason", "lead_source", "month", "quarter"]
    filters = [
        {},
        {"period": "this_month"},
        {"period": "this_quarter"},
        {"period": "this_year"},
        {"period": "last_12_months"},
        {"date_from": "2024-01-01", "date_to": "2024-02-29"},
        {"date_from": "2024-02-01"},
        {"date_to": "2024-03-31"},
        {"team": team.pk},
        {"owner": rep.pk},
        {"type": "new_business"},
        {"lead_source": "website"},
        {"pipeline": pipeline.pk},
        {"currency": "USD"},
        {"currency": "EUR", "type": "new_business"},
    ]
    for user in readers(rep, manager, other_rep, crm_admin):
        for group_by in groupings:
            for extra in filters:
                params = {"group_by": group_by, **extra}
                if (extra.get("team") or extra.get("owner")) and user == other_rep:
                    continue  # not a team or a person other_rep may choose: the filter refuses them
                kept, live, used = both_ways(settings, user, params)
                assert used, params
                assert kept == live, (user.username, params)
    overall = won_lost_report(user=crm_admin, params={}).total
    assert (overall.won_count, overall.lost_count) == (7, 3)  # not the archived or the reopened deal


def test_other_periods_and_products_add_up_the_deals(more_deals, rep, crm_admin, products, settings):
    for params in (
        {"date_from": "2024-01-05", "date_to": "2024-02-29"},  # not a month's first day
        {"date_from": "2024-01-01", "date_to": "2024-02-10"},  # not a month's last day
        {"group_by": "product"},
        {"product": products["Alpha"].pk},
    ):
        for user in (rep, crm_admin):
            kept, live, used = both_ways(settings, user, params)
            assert not used, params
            assert kept == live


def test_another_time_zone_adds_up_the_deals(more_deals, crm_admin, settings):
    """The totals count months of the time zone they were installed with; a reader in another one
    gets the live figures (whose months are theirs)."""
    with timezone.override("America/New_York"):
        kept, live, used = both_ways(settings, crm_admin, {"group_by": "month"})
    assert not used
    assert kept == live


def test_amounts_without_a_rate_stay_apart(more_deals, crm_admin):
    report = won_lost_report(user=crm_admin, params={"group_by": "owner"})
    assert report.total.unconverted == [
        {"currency": "USD", "won_amount": Decimal("710.00"), "lost_amount": Decimal("0.00")}
    ]
