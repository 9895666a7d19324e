"""In the real browser, in Italian: select "all matching" across pages, change the owner, follow the
job's progress to its result; save a board view shared with the team, which a teammate opens."""

import pytest

from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory
from savedviews.models import SavedView

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_select_all_matching_and_change_the_owner(
    italian, live_server, login, manager, rep, teammate, screenshot, settings
):
    settings.CRM_BULK_INLINE_LIMIT = 10  # 30 deals: the job goes to the worker (eager here) and its page
    for n in range(30):
        OpportunityFactory(owner=rep, name=f"Fornitura {n:02d}")
    OpportunityFactory(owner=rep, name="Altro affare")
    page = italian
    login(page, manager)
    page.goto(f"{live_server.url}/opportunities/?q=Fornitura")
    rows = page.locator("[data-testid=opportunity-table] tbody tr")
    assert rows.count() == 25  # one page of 30
    page.check("[data-testid=bulk-page]")
    assert "25" in page.locator("[data-bulk-count]").inner_text()
    page.check("[data-testid=bulk-all]")
    assert "30" in page.locator("[data-bulk-count]").inner_text()
    screenshot(page, "bulk-list-it")
    page.click("[data-testid=bulk-owner]")
    assert "30 record" in page.locator("[data-testid=bulk-count]").inner_text()
    page.select_option("#bulk-owner-select", str(teammate.pk))
    screenshot(page, "bulk-confirm-it")
    # With eager Celery the job runs in the request after commit: give a loaded machine time.
    with page.expect_navigation(timeout=120_000):
        page.click("[data-testid=bulk-run]", no_wait_after=True)
    page.wait_for_selector("[data-testid=bulk-progress][data-status=done]", timeout=120_000)
    assert page.locator(".progress-bar").get_attribute("data-progress") == "100"
    assert page.locator("[data-count=changed]").inner_text() == "30"
    assert page.locator("[data-count=refused]").inner_text() == "0"
    screenshot(page, "bulk-result-it")
    assert Opportunity.objects.filter(owner=teammate).count() == 30
    assert Opportunity.objects.get(name="Altro affare").owner == rep


def test_save_a_board_view_share_it_and_a_teammate_opens_it(
    browser, italian, live_server, login, manager, rep, teammate, stages, screenshot
):
    OpportunityFactory(owner=rep, name="Server di Rossi")
    OpportunityFactory(owner=teammate, name="Licenze di Bianchi")
    page = italian
    login(page, manager)
    page.goto(f"{live_server.url}/pipeline/?q=Rossi")
    page.click("[data-testid=saved-views-toggle]")
    page.fill("[data-testid=saved-view-name]", "Affari di Maria")
    page.check("[data-testid=saved-view-visibility-team]")
    screenshot(page, "saved-view-save-it")
    page.click("[data-testid=saved-view-save]")
    page.wait_for_url("**view=*")
    view = SavedView.objects.get()
    assert (view.visibility, view.list_key) == ("team", "board")

    from conftest import checked_tab

    with checked_tab(browser, locale="it-IT") as other:
        login(other, teammate)
        other.goto(f"{live_server.url}/pipeline/")
        other.click("[data-testid=saved-views-toggle]")
        other.click("[data-testid=saved-view-link]:has-text('Affari di Maria')")
        other.wait_for_url("**view=*")
        assert other.locator("text=Server di Rossi").count() == 1
        assert other.locator("text=Licenze di Bianchi").count() == 0
        screenshot(other, "saved-view-teammate-board-it")
