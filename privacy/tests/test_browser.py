"""The legal hold in a real browser, in Italian, on a phone: a manager sets it from the contact's
privacy card, an administrator then finds the erasure refused, the manager lifts it."""

import pytest
from playwright.sync_api import expect

from contacts.tests.factories import ContactFactory
from privacy.models import LegalHold

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_sets_and_lifts_a_legal_hold_on_a_phone_in_italian(
    italian, live_server, login, manager, rep, crm_admin, screenshot
):
    person = ContactFactory(owner=rep, first_name="Ugo", last_name="Tenuto")
    italian.set_viewport_size({"width": 390, "height": 844})
    login(italian, manager)

    italian.goto(f"{live_server.url}{person.get_absolute_url()}")
    italian.locator("[data-testid=privacy-panel]").get_by_role("link", name="Blocco legale").click()
    expect(italian.locator("h1")).to_have_text("Blocco legale")
    assert italian.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
    italian.get_by_label("Motivo").fill("Contenzioso n. 14/2026")
    italian.get_by_role("button", name="Imposta il blocco legale").click()
    expect(italian.locator("[data-testid=legal-hold-badge]")).to_contain_text("Contenzioso n. 14/2026")
    screenshot(italian, "privacy-legal-hold-set-it")

    italian.context.clear_cookies()
    login(italian, crm_admin)
    italian.goto(f"{live_server.url}/privacy/contacts/{person.pk}/erase/")
    expect(italian.get_by_role("alert")).to_contain_text("Contenzioso n. 14/2026")
    expect(italian.get_by_role("button", name="Cancella")).to_have_count(0)

    italian.goto(f"{live_server.url}/privacy/contacts/{person.pk}/legal-hold/")
    italian.get_by_role("button", name="Revoca il blocco legale").click()
    expect(italian.locator("[data-testid=privacy-panel]")).to_be_visible()
    assert not LegalHold.objects.filter(contact=person).exists()
