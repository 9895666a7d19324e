"""Each report page in the real browser: charts drawn from the page's JSON, tables, the filter form,
and a print preview without the navigation."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory

from .conftest import at, closed_deal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def report_data(rep, teammate, stages, lost_reason, products):
    today = timezone.localdate()
    for i in range(8):
        day = today - datetime.timedelta(days=30 * i + 3)
        owner = rep if i % 2 else teammate
        closed_deal(
            owner,
            stages["Won"],
            f"{1000 + 250 * i}.00",
            (day - datetime.timedelta(days=20 + i)).isoformat(),
            day.isoformat(),
            product=products["Alpha" if i % 3 else "Beta"],
        )
        deal = OpportunityFactory(
            owner=owner,
            amount=Decimal(f"{400 + 90 * i}.50"),
            created_at=at((day - datetime.timedelta(days=40)).isoformat()),
        )
        opportunity_move_stage(
            opportunity=deal,
            stage=stages["Qualifying"],
            user=owner,
            at=at((day - datetime.timedelta(days=30)).isoformat()),
        )
        opportunity_move_stage(
            opportunity=deal, stage=stages["Lost"], user=owner, lost_reason=lost_reason, at=at(day.isoformat())
        )
        OpportunityFactory(
            owner=owner,
            stage=stages["Demo scheduled"],
            amount=Decimal(f"{2000 + 300 * i}.00"),
            expected_close_date=today + datetime.timedelta(days=30 * i - 20),
        )


def test_every_report_page_draws_its_charts(page, live_server, login, manager, report_data, screenshot):
    login(page, manager)
    page.click("text=Reports")
    page.click("text=Won/lost")
    page.wait_for_selector("[data-testid=won-lost-table]")
    assert page.locator("canvas[data-report-chart]").count() == 2
    page.wait_for_function("() => Chart.getChart(document.querySelector('canvas[data-report-chart]'))")
    assert "Total" in page.locator("[data-testid=won-lost-total]").inner_text()
    screenshot(page, "reports-won-lost")

    page.select_option("select[name=group_by]", "month")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**group_by=month**")
    screenshot(page, "reports-won-lost-by-month")

    for tab, testid, name in (
        ("Funnel", "funnel-table", "reports-funnel"),
        ("Forecast", "forecast-table", "reports-forecast"),
        ("Lost deals", "lost-by-reason", "reports-lost-deals"),
    ):
        page.click(f".report-tabs >> text={tab}")
        page.wait_for_selector(f"[data-testid={testid}]")
        page.wait_for_function("() => Chart.getChart(document.querySelector('canvas[data-report-chart]'))")
        screenshot(page, name)

    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible()
    assert not page.locator("form.filter-bar").is_visible()
    screenshot(page, "reports-lost-deals-print")
