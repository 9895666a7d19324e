"""In the real Chromium (issue 18): a mention in a note lights the colleague's bell without a reload;
the notes feed, the bell and the notifications page, in Italian, with the rotting markers."""

import pytest
from playwright.sync_api import expect

from core.outbox import outbox_deliver_pending
from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_mention_in_a_note_lights_the_colleagues_bell(
    browser, live_server, login, rep, teammate, stages, screenshot, settings
):
    from conftest import checked_tab

    settings.CRM_NOTIFICATION_POLL_SECONDS = 0.5
    teammate.language = "it"  # told in their own language, whatever the author's
    teammate.save()

    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Rinnovo licenze")
    with checked_tab(browser, locale="it-IT") as colleague:
        login(colleague, teammate)
        bell = colleague.get_by_test_id("notification-count")
        expect(bell).to_be_hidden()

        with checked_tab(browser, locale="it-IT") as author:
            login(author, rep)
            author.goto(f"{live_server.url}{deal.get_absolute_url()}")
            box = author.locator("#notes textarea[data-mention-input]").first
            box.click()
            box.type("Puoi chiamare tu @team")
            author.locator("[data-mention-menu] li", has_text="teammate").click()
            expect(box).to_have_value("Puoi chiamare tu @teammate ")
            box.type("**oggi**?")
            author.get_by_test_id("note-save").click()
            expect(author.locator(".note-body").first).to_contain_text("Puoi chiamare tu @teammate oggi?")
            expect(author.locator(".note-body strong").first).to_have_text("oggi")
            screenshot(author, "notes-feed-it")
        outbox_deliver_pending()  # the worker's part (the live server's eager dispatch may already have)

        # The colleague's page was not reloaded: the polled count lights the bell.
        expect(colleague.get_by_test_id("notification-count")).to_have_text("1", timeout=15_000)
        colleague.get_by_test_id("notification-bell").click()
        expect(colleague.get_by_test_id("notifications")).to_contain_text(
            "ti ha menzionato in una nota su Rinnovo licenze"
        )
        screenshot(colleague, "notifications-it")
