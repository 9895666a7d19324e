"""The CRM in Italian in the real Chromium: the board, a report and a deal page show translated
labels, the Italian stage names and amounts as 1.234,56 €; the navbar switcher turns it to English.
Screenshots of both languages go to test-artifacts/."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def text(page, selector="body") -> str:
    """What the user reads, with no-break spaces (Babel puts one before €) as plain spaces."""
    return page.locator(selector).inner_text().replace("\xa0", " ").replace("\u202f", " ")


@pytest.fixture
def italian_deals(rep, stages, lost_reason):
    rep.language = "it"
    rep.save()
    demo = OpportunityFactory(
        owner=rep,
        name="Licenze CRM Rossi",
        stage=stages["Demo scheduled"],
        amount=Decimal("1234.56"),
        expected_close_date=datetime.date(2026, 12, 31),
    )
    now = timezone.now()
    created, closed = now - datetime.timedelta(days=30), now - datetime.timedelta(days=3)
    OpportunityFactory(
        owner=rep, name="Rinnovo Bianchi", stage=stages["Won"], amount=Decimal("1234.56"), closed_at=closed
    )
    OpportunityFactory(
        owner=rep,
        name="Gara Verdi",
        stage=stages["Lost"],
        amount=Decimal("800"),
        closed_at=closed,
        lost_reason=lost_reason,
    )
    # Created a month ago (the factory stamps "now"), so the sales cycle reads 27 days.
    Opportunity.objects.exclude(pk=demo.pk).update(created_at=created)
    return demo


@pytest.fixture
def italian_page(browser, live_server):
    """A tab of an Italian browser (its date pickers read gg/mm/aaaa); console errors fail the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="it-IT")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_board_report_and_deal_in_italian_then_english(
    italian_page, login, live_server, screenshot, rep, italian_deals
):
    page = italian_page
    login(page, rep)
    expect(page.locator("html")).to_have_attribute("lang", "it")

    page.goto(f"{live_server.url}/pipeline/")
    board = text(page)
    for label in [
        "Trattative",
        "Organizzazioni",
        "Nuova",
        "In fase di verifica",
        "Demo programmata",
        "In attesa di impegno",
        "Trattativa in corso",
        "Ottenuta",
        "Persa",
    ]:
        assert label in board, label
    card = page.locator(f"[data-opportunity-id='{italian_deals.pk}']")
    expect(card).to_contain_text("Licenze CRM Rossi")
    assert "1.234,56 €" in text(page, f"[data-opportunity-id='{italian_deals.pk}']")
    assert "31/12/2026" in text(page, f"[data-opportunity-id='{italian_deals.pk}']")
    screenshot(page, "i18n-board-it")

    page.goto(f"{live_server.url}/reports/won-lost/")
    report = text(page)
    assert "Tasso di vincita" in report and "27,0 giorni" in report
    assert "1.234,56 €" in report
    screenshot(page, "i18n-report-won-lost-it")

    page.goto(f"{live_server.url}/opportunities/{italian_deals.pk}/")
    deal = text(page)
    assert "Demo programmata" in deal and "Importo" in deal and "1.234,56 €" in deal and "31/12/2026" in deal
    screenshot(page, "i18n-deal-it")

    # The switcher in the navigation bar: English, saved on the profile, same page.
    page.locator("nav form.language-switcher button[value=en]").click()
    page.wait_for_url(f"{live_server.url}/opportunities/{italian_deals.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    deal = text(page)
    assert "Demo scheduled" in deal and "€1,234.56" in deal and "31 Dec 2026" in deal
    rep.refresh_from_db()
    assert rep.language == "en"

    page.goto(f"{live_server.url}/pipeline/")
    assert "Demo scheduled" in text(page) and "Pending commitment" in text(page)
    assert "€1,234.56" in text(page, f"[data-opportunity-id='{italian_deals.pk}']")
    screenshot(page, "i18n-board-en")
    page.goto(f"{live_server.url}/reports/won-lost/")
    assert "Win rate" in text(page) and "€1,234.56" in text(page)
    screenshot(page, "i18n-report-won-lost-en")
