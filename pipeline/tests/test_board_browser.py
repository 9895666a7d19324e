"""The board in the real Chromium: drag and drop, the lost-reason dialog, reordering, a stale move
from a second browser, the keyboard "Move to…" menu, and screenshots at desktop and phone width."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def card(page, deal):
    return page.locator(f"[data-opportunity-id='{deal.pk}']")


def column_cards(page, stage):
    return page.locator(f".board-cards[data-stage-id='{stage.pk}']")


def header(page, stage):
    return page.locator(f"[data-column-header][data-stage-id='{stage.pk}']")


def drag(page, source, target, *, y_fraction=None):
    """A SortableJS drag: press, nudge a few pixels, travel in small steps, release."""
    start = source.bounding_box()
    end = target.bounding_box()
    x0, y0 = start["x"] + start["width"] / 2, start["y"] + 20
    x1 = end["x"] + end["width"] / 2
    y1 = end["y"] + (end["height"] * y_fraction if y_fraction is not None else end["height"] - 8)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 4, y0 + 4, steps=4)
    page.mouse.move(x1, y1, steps=25)
    # SortableJS ignores the pointer while its 150 ms swap animation runs: wait it out, as a
    # person's hand does, then nudge so the last position counts before releasing.
    page.wait_for_timeout(250)
    page.mouse.move(x1, y1 + 2, steps=2)
    page.wait_for_timeout(50)
    page.mouse.up()


@pytest.fixture
def board_page(page, live_server, login, rep):
    page.set_viewport_size({"width": 1920, "height": 1000})  # every column on screen, so drags reach them
    login(page, rep)

    def open_board():
        page.goto(f"{live_server.url}/pipeline/")
        page.wait_for_selector("[data-board]")
        return page

    return open_board


def test_drag_to_another_column_persists_and_updates_totals(board_page, rep, stages, screenshot):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Tablet Rossi", amount=Decimal("1200.00"))
    OpportunityFactory(owner=rep, stage=stages["Qualifying"], name="Stampanti Verdi", amount=Decimal("300.00"))
    page = board_page()
    assert header(page, stages["Qualifying"]).get_attribute("data-amount") == "300.00"

    drag(page, card(page, deal), column_cards(page, stages["Qualifying"]))

    page.wait_for_selector("[data-testid=board-toast]")
    assert header(page, stages["Qualifying"]).get_attribute("data-amount") == "1500.00"
    assert header(page, stages["Qualifying"]).get_attribute("data-count") == "2"
    assert header(page, stages["New"]).get_attribute("data-amount") == "0.00"
    page.reload()
    expect(column_cards(page, stages["Qualifying"]).locator(f"[data-opportunity-id='{deal.pk}']")).to_have_count(1)
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["Qualifying"]
    screenshot(page, "board-desktop")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    screenshot(page, "board-phone")
    # On a phone the board scrolls sideways and each card's menu is still reachable.
    assert page.evaluate("document.querySelector('[data-board]').scrollWidth > window.innerWidth")
    assert card(page, deal).locator("text=Move to…").is_visible()


def test_drop_on_lost_asks_for_a_reason_and_cancel_puts_the_card_back(board_page, rep, stages, lost_reason):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Server Bianchi")
    page = board_page()

    drag(page, card(page, deal), column_cards(page, stages["Lost"]))
    page.wait_for_selector("#lost-modal.show")
    page.click("#lost-modal button:has-text('Cancel')")
    page.wait_for_selector("#lost-modal", state="hidden")
    expect(column_cards(page, stages["New"]).locator(f"[data-opportunity-id='{deal.pk}']")).to_have_count(1)
    assert Opportunity.objects.get(pk=deal.pk).status == "open"

    # Submitting without a reason is refused by the dialog; with one the move is made.
    drag(page, card(page, deal), column_cards(page, stages["Lost"]))
    page.wait_for_selector("#lost-modal.show")
    page.click("#lost-modal button:has-text('Mark as lost')")
    assert page.locator("#lost-modal.show").count() == 1
    page.select_option("#lost-reason-select", str(lost_reason.pk))
    page.click("#lost-modal button:has-text('Mark as lost')")
    page.wait_for_selector("[data-testid=board-toast].text-bg-success")
    deal.refresh_from_db()
    assert deal.status == "lost" and deal.lost_reason == lost_reason
    expect(column_cards(page, stages["Lost"]).locator(f"[data-opportunity-id='{deal.pk}']")).to_have_count(1)


def test_reorder_within_a_column_persists(board_page, rep, stages):
    a, b, c = (OpportunityFactory(owner=rep, stage=stages["New"], name=f"Deal {x}") for x in "ABC")
    page = board_page()

    def ids():
        cards = column_cards(page, stages["New"]).locator(".board-card")
        return cards.evaluate_all("els => els.map(e => Number(e.dataset.opportunityId))")

    assert ids() == [c.pk, b.pk, a.pk]

    drag(page, card(page, c), column_cards(page, stages["New"]))  # to the bottom

    page.wait_for_selector("[data-testid=board-toast]")
    assert ids() == [b.pk, a.pk, c.pk]
    page.reload()
    assert ids() == [b.pk, a.pk, c.pk]


def test_a_move_from_a_stale_board_is_refused_and_rolled_back(board_page, browser, live_server, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Licenze Neri")
    first = board_page()
    second_context = browser.new_context(viewport={"width": 1920, "height": 1000})
    second = second_context.new_page()
    try:
        # The same rep, in another browser, has the board open too.
        second.goto(f"{live_server.url}/login/")
        second.fill("#id_username", rep.username)
        second.fill("#id_password", "test-password-123")
        second.click("button[type=submit]")
        second.wait_for_url(f"{live_server.url}/")
        second.goto(f"{live_server.url}/pipeline/")

        drag(first, card(first, deal), column_cards(first, stages["Qualifying"]))
        first.wait_for_selector("[data-testid=board-toast].text-bg-success")

        drag(second, card(second, deal), column_cards(second, stages["Demo scheduled"]))
        second.wait_for_selector("[data-testid=board-toast].text-bg-danger")
        toast = second.locator("[data-testid=board-toast]").inner_text()
        assert "Qualifying" in toast and "not saved" in toast
        expect(column_cards(second, stages["New"]).locator(f"[data-opportunity-id='{deal.pk}']")).to_have_count(1)
        assert Opportunity.objects.get(pk=deal.pk).stage == stages["Qualifying"]
    finally:
        second_context.close()


def test_the_move_to_menu_works_with_the_keyboard(board_page, rep, stages):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Consulenza Gialli", amount=Decimal("800.00"))
    page = board_page()

    toggle = card(page, deal).locator("[data-bs-toggle=dropdown]")
    toggle.focus()
    page.keyboard.press("Enter")
    select = card(page, deal).locator("select[name=stage]")
    select.wait_for(state="visible")
    page.keyboard.press("Tab")  # into the stage list
    assert page.evaluate("document.activeElement.name") == "stage"
    select.select_option(str(stages["In negotiation"].pk))
    page.keyboard.press("Tab")
    while page.evaluate("document.activeElement.tagName") != "BUTTON":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    page.wait_for_selector("[data-testid=board-toast].text-bg-success")
    expect(column_cards(page, stages["In negotiation"]).locator(f"[data-opportunity-id='{deal.pk}']")).to_have_count(1)
    assert header(page, stages["In negotiation"]).get_attribute("data-weighted") == "600.00"
    assert Opportunity.objects.get(pk=deal.pk).stage == stages["In negotiation"]


def test_show_more_loads_the_next_cards_without_repeating_or_skipping(board_page, rep, stages, settings):
    settings.CRM_BOARD_PAGE_SIZE = 8
    deals = [OpportunityFactory(owner=rep, stage=stages["Qualifying"], name=f"Pagina {i}") for i in range(17)]
    mover = OpportunityFactory(owner=rep, stage=stages["New"], name="Nuovo arrivo")
    page = board_page()
    page.set_viewport_size({"width": 1920, "height": 700})  # the "Show more" button below the fold
    cards = column_cards(page, stages["Qualifying"]).locator(".board-card")
    expect(cards).to_have_count(8)
    assert header(page, stages["Qualifying"]).get_attribute("data-count") == "17"

    # A card dragged into the column before "Show more": the next page must still follow on.
    drag(page, card(page, mover), column_cards(page, stages["Qualifying"]), y_fraction=0.05)
    page.wait_for_selector("[data-testid=board-toast].text-bg-success")
    expect(cards).to_have_count(9)

    page.click(f"#more-{stages['Qualifying'].pk} button")
    expect(cards).to_have_count(17)
    page.click(f"#more-{stages['Qualifying'].pk} button")
    expect(cards).to_have_count(18)
    shown = cards.evaluate_all("els => els.map(e => Number(e.dataset.opportunityId))")
    assert sorted(shown) == sorted([d.pk for d in deals] + [mover.pk])
    expect(page.locator(f"#more-{stages['Qualifying'].pk} button")).to_have_count(0)


def test_quick_add_puts_a_new_deal_at_the_top_of_the_column(board_page, rep, stages):
    from contacts.tests.factories import OrganizationFactory

    OpportunityFactory(owner=rep, stage=stages["Demo scheduled"], name="Già qui")
    existing = OrganizationFactory(owner=rep, name="Mobilificio Neri")
    page = board_page()
    column = page.locator(f".board-column[data-stage-id='{stages['Demo scheduled'].pk}']")
    column.locator("summary").click()
    column.locator("input[name=name]").fill("Arredi ufficio")
    column.locator("input[name=organization]").press_sequentially("mobil")
    page.wait_for_selector("#board-organizations option[value='Mobilificio Neri']", state="attached")
    column.locator("input[name=organization]").fill("Mobilificio Neri")
    column.locator("input[name=amount]").fill("2500")
    column.locator("button:has-text('Add')").click()
    page.wait_for_selector("text=Arredi ufficio")
    deal = Opportunity.objects.get(name="Arredi ufficio")
    assert deal.stage == stages["Demo scheduled"] and deal.owner == rep
    assert deal.organization == existing  # picked, not created again
    first = column_cards(page, stages["Demo scheduled"]).locator(".board-card").first
    assert first.get_attribute("data-opportunity-id") == str(deal.pk)
    assert header(page, stages["Demo scheduled"]).get_attribute("data-amount") == "3500.00"


def test_the_lost_column_starts_collapsed_and_still_takes_drops(board_page, rep, stages, lost_reason):
    lost = OpportunityFactory(owner=rep, stage=stages["Lost"], name="Perso prima", lost_reason=lost_reason)
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Da perdere")
    page = board_page()
    lost_column = page.locator(f".board-column[data-stage-id='{stages['Lost'].pk}']")
    expect(card(page, lost)).to_be_hidden()
    assert header(page, stages["Lost"]).get_attribute("data-count") == "1"

    drag(page, card(page, deal), column_cards(page, stages["Lost"]))
    page.wait_for_selector("#lost-modal.show")
    page.select_option("#lost-reason-select", str(lost_reason.pk))
    page.click("#lost-modal button:has-text('Mark as lost')")
    page.wait_for_selector("[data-testid=board-toast].text-bg-success")
    assert header(page, stages["Lost"]).get_attribute("data-count") == "2"
    assert Opportunity.objects.get(pk=deal.pk).status == "lost"

    lost_column.locator("[data-collapse-column]").click()
    expect(card(page, lost)).to_be_visible()
    expect(card(page, deal)).to_be_visible()


def test_the_won_column_starts_collapsed_like_lost(board_page, rep, stages):
    """Every won deal expanded made the Won column the longest on the board: it starts folded, like
    Lost, with its count and sum in the header (a drag across it to Lost: the test above)."""
    won = OpportunityFactory(owner=rep, stage=stages["Won"], name="Vinto prima")
    OpportunityFactory(owner=rep, stage=stages["New"], name="In corso")
    page = board_page()
    won_column = page.locator(f".board-column[data-stage-id='{stages['Won'].pk}']")
    expect(card(page, won)).to_be_hidden()
    assert header(page, stages["Won"]).get_attribute("data-count") == "1"
    width = won_column.bounding_box()["width"]
    won_column.locator("[data-collapse-column]").click()
    expect(card(page, won)).to_be_visible()
    won_column.locator("[data-collapse-column]").click()
    expect(card(page, won)).to_be_hidden()
    assert won_column.bounding_box()["width"] == width


def test_on_a_phone_the_filters_fold_away_and_the_columns_snap(page, live_server, login, rep, stages, screenshot):
    OpportunityFactory(owner=rep, stage=stages["New"], name="Telefono")
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, rep)
    page.goto(f"{live_server.url}/pipeline/?scope=mine")
    expect(page.locator("[data-testid=board-filters]")).to_be_hidden()
    toggle = page.locator("[data-testid=board-filters-toggle]")
    assert "1" in toggle.inner_text()  # one filter is on
    screenshot(page, "board-phone-filters-folded")
    toggle.click()
    expect(page.locator("[data-testid=board-filters]")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('[data-board]')).scrollSnapType").startswith("x")
    column_width = page.locator(".board-column").first.bounding_box()["width"]
    assert 300 < column_width < 390  # one column fills most of the screen, the next one peeks in


def test_the_move_to_menu_works_on_a_touch_phone(browser, live_server, rep, stages, screenshot):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Toccami")
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    phone = context.new_page()
    try:
        phone.goto(f"{live_server.url}/login/")
        phone.fill("#id_username", rep.username)
        phone.fill("#id_password", "test-password-123")
        phone.tap("button[type=submit]")
        phone.wait_for_url(f"{live_server.url}/")
        phone.goto(f"{live_server.url}/pipeline/")
        phone.locator(f"[data-opportunity-id='{deal.pk}'] [data-bs-toggle=dropdown]").tap()
        form = phone.locator(f"[data-opportunity-id='{deal.pk}'] .board-move-form")
        form.locator("select[name=stage]").select_option(str(stages["Pending commitment"].pk))
        screenshot(phone, "board-phone-move-menu")
        form.locator("button[type=submit]").tap()
        phone.wait_for_selector("[data-testid=board-toast].text-bg-success")
        assert Opportunity.objects.get(pk=deal.pk).stage == stages["Pending commitment"]
        assert (
            phone.locator(f"[data-column-header][data-stage-id='{stages['Pending commitment'].pk}']").get_attribute(
                "data-count"
            )
            == "1"
        )
    finally:
        context.close()


def test_a_busy_board_reads_well_on_desktop_and_phone(page, live_server, login, rep, teammate, stages, screenshot):
    import datetime

    from django.utils import timezone

    from contacts.tests.factories import ContactFactory

    today = timezone.localdate()
    stale = OpportunityFactory(
        owner=rep, stage=stages["Qualifying"], name="Rinnovo parco stampanti", amount=Decimal("18500.00")
    )
    long_ago = timezone.now() - datetime.timedelta(days=40)
    Opportunity.objects.filter(pk=stale.pk).update(
        stage_entered_at=long_ago, rots_at=long_ago + datetime.timedelta(days=7)
    )
    OpportunityFactory(
        owner=rep,
        stage=stages["New"],
        name="Licenze CAD",
        amount=Decimal("4200.00"),
        expected_close_date=today - datetime.timedelta(days=5),
        next_step="Chiamare l'ufficio acquisti",
    )
    contact = ContactFactory(owner=rep, organization=None, first_name="Giulia", last_name="Ferri")
    OpportunityFactory(owner=rep, stage=stages["Demo scheduled"], name="Consulenza", contact=contact, organization=None)
    OpportunityFactory(owner=teammate, stage=stages["In negotiation"], name="Affare del collega")
    OpportunityFactory(owner=rep, stage=stages["Won"], name="Firmato")
    login(page, rep)
    page.goto(f"{live_server.url}/pipeline/")
    expect(card(page, stale).locator("[data-stale]")).to_be_visible()
    expect(page.locator(".board-card .overdue")).to_have_count(1)
    expect(page.locator("text=Giulia Ferri")).to_be_visible()
    expect(page.locator(".board-card-locked")).to_have_count(1)
    screenshot(page, "board-busy-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    screenshot(page, "board-busy-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # only the board scrolls sideways


def test_the_board_in_italian_moves_and_keeps_its_hooks(browser, live_server, rep, stages, screenshot):
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Stampanti", amount=Decimal("1234.50"))
    context = browser.new_context(viewport={"width": 1920, "height": 1000}, locale="it-IT")
    tab = context.new_page()
    try:
        tab.goto(f"{live_server.url}/login/")
        tab.fill("#id_username", rep.username)
        tab.fill("#id_password", "test-password-123")
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{live_server.url}/")
        tab.goto(f"{live_server.url}/pipeline/")
        assert tab.locator("html").get_attribute("lang") == "it"
        expect(tab.locator(f"[data-opportunity-id='{deal.pk}']")).to_contain_text("1.234,50")
        drag(tab, tab.locator(f"[data-opportunity-id='{deal.pk}']"), column_cards(tab, stages["Qualifying"]))
        tab.wait_for_selector("[data-testid=board-toast].text-bg-success")
        assert header(tab, stages["Qualifying"]).get_attribute("data-amount") == "1234.50"
        expect(header(tab, stages["Qualifying"])).to_contain_text("1.234,50")
        screenshot(tab, "board-desktop-italian")
    finally:
        context.close()
