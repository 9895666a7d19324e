"""Dark theme, keyboard shortcuts and folded filters in the real Chromium (issue 16)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_keyboard_shortcuts_and_their_help(page, login, live_server, rep, pipeline):
    OpportunityFactory(owner=rep, name="Licenze Rossi")
    login(page, rep)
    page.goto(f"{live_server.url}{reverse('opportunities:list')}")
    page.keyboard.press("/")
    expect(page.locator("main input[name=q]")).to_be_focused()
    page.keyboard.type("n?")  # typed into the field: no shortcut fires
    expect(page.locator("main input[name=q]")).to_have_value("n?")
    expect(page).to_have_url(f"{live_server.url}{reverse('opportunities:list')}")

    page.locator("h1").click()
    page.keyboard.press("?")
    dialog = page.get_by_test_id("shortcuts-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("New deal")
    expect(dialog).to_be_focused()  # shown (Bootstrap focuses it at the end of its transition)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.goto(f"{live_server.url}/")  # no search field in the page: "/" focuses the global search
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.locator("h1").click()
    page.keyboard.press("n")
    page.wait_for_url(f"{live_server.url}{reverse('opportunities:create')}")


def test_dark_theme_follows_the_system_and_the_switch_is_remembered(page, login, live_server, rep):
    page.emulate_media(color_scheme="dark")
    login(page, rep)
    html = page.locator("html")
    expect(html).to_have_attribute("data-bs-theme", "dark")
    page.locator("[data-set-theme=light]").click()
    expect(html).to_have_attribute("data-bs-theme", "light")
    expect(page.locator("[data-set-theme=light]")).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(html).to_have_attribute("data-bs-theme", "light")  # remembered in this browser
    page.locator("[data-set-theme=auto]").click()
    expect(html).to_have_attribute("data-bs-theme", "dark")
    page.emulate_media(color_scheme="light")  # the system changes its mind: "auto" follows live
    expect(html).to_have_attribute("data-bs-theme", "light")
    page.locator("[data-set-theme=dark]").click()
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(33, 37, 41)"


def test_list_filters_are_folded_on_a_phone(page, login, live_server, rep):
    login(page, rep)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}{reverse('opportunities:list')}")
    filters = page.get_by_test_id("filter-bar")
    expect(filters).to_be_hidden()
    page.get_by_test_id("filters-toggle").click()
    expect(filters).to_be_visible()
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}{reverse('opportunities:list')}")
    expect(page.get_by_test_id("filter-bar")).to_be_visible()
    expect(page.get_by_test_id("filters-toggle")).to_be_hidden()
