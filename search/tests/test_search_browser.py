"""The navigation bar's search in the real Chromium, in Italian: "/" focuses it, suggestions
appear as one types, the arrow keys and Enter open one; the results page."""

import pytest
from playwright.sync_api import expect

from contacts.tests.factories import ContactFactory, OrganizationFactory
from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_suggestions_as_one_types_and_the_results_page(
    italian, login, live_server, rep, other_rep, pipeline, screenshot
):
    org = OrganizationFactory(owner=rep, name="Società Ferri S.p.A.", phone="+39 02 1234 5678")
    OrganizationFactory(owner=other_rep, name="Ferri Segreta")
    OpportunityFactory(owner=rep, organization=org, name="Impianto Ferri Nord")
    ContactFactory(owner=rep, organization=org, first_name="Luca", last_name="Ferri", email="luca@ferri.it")
    login(italian, rep)
    italian.locator("h1").first.click()
    italian.keyboard.press("/")
    box = italian.get_by_test_id("global-search")
    expect(box).to_be_focused()
    box.type("societa feri", delay=30)
    results = italian.get_by_test_id("global-search-results")
    expect(results).to_be_visible()
    expect(results).to_contain_text("Società Ferri S.p.A.")
    expect(results).to_contain_text("Organizzazioni")
    expect(results).not_to_contain_text("Segreta")
    screenshot(italian, "search-dropdown-it")
    box.press("ArrowDown")
    box.press("Enter")
    italian.wait_for_url(f"{live_server.url}{org.get_absolute_url()}")

    box = italian.get_by_test_id("global-search")
    box.fill("ferri")
    box.press("Enter")
    italian.wait_for_url("**/search/?q=ferri")
    expect(italian.get_by_test_id("search-group-deals")).to_contain_text("Impianto Ferri Nord")
    expect(italian.get_by_test_id("search-group-contacts")).to_contain_text("Luca Ferri")
    expect(italian.locator("main")).not_to_contain_text("Segreta")
    screenshot(italian, "search-results-it")
