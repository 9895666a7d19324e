"""The foundation in the real browser: log in, open a deal, read its history, move it."""

import pytest

from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_open_a_deal_see_its_history_and_move_it(
    page, live_server, login, manager, rep, stages, lost_reason, screenshot
):
    deal = OpportunityFactory(owner=rep, name="Tablet per la rete vendita", stage=stages["Qualifying"])
    login(page, manager)

    page.click("text=Deals")
    page.click("text=Tablet per la rete vendita")
    history = page.locator("[data-testid=stage-history] tbody tr")
    assert history.count() == 1
    assert "Qualifying" in history.first.inner_text()

    # The stage bar asks for the lost reason before moving.
    page.click("[data-fragment=stages] button:has-text('Lost')")
    page.select_option("#lost-reason-select", str(lost_reason.pk))
    page.click("#lost-modal button[type=submit]")

    page.wait_for_selector("text=Moved to Lost.")
    assert history.count() == 2
    assert Opportunity.objects.get(pk=deal.pk).status == "lost"
    screenshot(page, "deal-detail-desktop")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    screenshot(page, "deal-detail-phone")
    assert page.locator("h1").is_visible()
