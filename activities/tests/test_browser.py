"""The calendar and a quote in the real browser, with screenshots to look at."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from activities.tests.factories import ActivityFactory
from opportunities.services import opportunity_line_add, opportunity_update
from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _at(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone())


def test_calendar_month_week_agenda_and_feed(page, live_server, login, rep, stages, screenshot):
    today = timezone.localdate()
    deals = []
    for n, name in enumerate(["Rinnovo licenze Caffè Nero", "Fornitura tablet", "Consulenza & formazione"]):
        opp = OpportunityFactory(owner=rep, name=name, expected_close_date=today + datetime.timedelta(days=3 + n * 7))
        deals.append(
            opportunity_update(
                opportunity=opp,
                user=rep,
                data={"next_step": "Inviare offerta", "next_step_date": today + datetime.timedelta(days=1 + n * 5)},
            )
        )
    subjects = ["Chiamata con Niccolò", "Demo prodotto", "Riunione di avanzamento", "Inviare listino"]
    for n in range(12):
        day = today + datetime.timedelta(days=(n * 5) % 27 - 12)
        ActivityFactory(
            owner=rep,
            subject=subjects[n % 4],
            kind=["call", "meeting", "task", "email"][n % 4],
            due_at=_at(day, 9 + n % 8, 30 if n % 2 else 0),
            opportunity=deals[n % 3],
            done=n % 5 == 0,
            done_at=timezone.now() if n % 5 == 0 else None,
        )
    login(page, rep)
    page.click("nav >> text=Calendar")
    page.wait_for_selector("[data-testid=calendar-month]")
    assert page.locator(".cal-entry").count() >= 12
    page.click("text=Create feed address")
    feed = page.locator("#feed-url").input_value()
    assert feed.startswith(live_server.url + "/calendar/feed/") and feed.endswith(".ics")
    screenshot(page, "calendar-month")

    page.click("a.btn:has-text('Week')")
    page.wait_for_selector("[data-testid=calendar-week]")
    screenshot(page, "calendar-week")
    page.click("a.btn:has-text('Agenda')")
    page.wait_for_selector("[data-testid=calendar-agenda]")
    screenshot(page, "calendar-agenda")

    page.click("[data-testid=calendar-agenda] a:has-text('Next step') >> nth=0")
    page.wait_for_selector("[data-testid=deal-lines]")
    page.go_back()
    page.click("[data-testid=calendar-agenda] a:has-text('Demo prodotto') >> nth=0")
    page.wait_for_selector("h1:has-text('Demo prodotto')")
    screenshot(page, "activity-form")

    page.click("nav >> text=Activities")
    page.wait_for_selector("[data-testid=overdue]")
    overdue = page.locator("[data-testid=overdue] li[data-activity-id]")
    before = overdue.count()
    assert before >= 1
    screenshot(page, "activities-mine")
    overdue.first.locator("button[title='Mark as done']").click()
    page.wait_for_selector("text=Marked as done.")
    assert page.locator("[data-testid=overdue] li[data-activity-id]").count() == before - 1


def test_quote_page_from_a_deal(page, live_server, login, rep, stages, screenshot):
    opp = OpportunityFactory(owner=rep, name="Arredo uffici Sàrl & Figli")
    opportunity_line_add(
        opportunity=opp, user=rep, description="Scrivania operativa", quantity=Decimal(8), unit_price=Decimal("289.00")
    )
    opportunity_line_add(
        opportunity=opp,
        user=rep,
        description="Sedia ergonomica",
        quantity=Decimal(8),
        unit_price=Decimal("179.90"),
        discount_percent=Decimal(10),
    )
    login(page, rep)
    page.goto(live_server.url + opp.get_absolute_url())
    page.click("text=Set amount from lines")
    page.wait_for_selector("text=Amount set to")
    page.click("text=Add a product line")
    screenshot(page, "deal-lines")
    page.click("button:has-text('New quote')")
    page.wait_for_selector("[data-testid=quote-lines]")
    page.click("button:has-text('Issue and mark as sent')")
    page.wait_for_selector("text=can no longer be changed")
    screenshot(page, "quote-detail")
