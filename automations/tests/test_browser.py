"""In the real Chromium, in Italian: a rep drags a deal to "Demo scheduled" on the board; the rule's
task is on the deal's page; the manager's rules page lists the run and fits a phone."""

import pytest
from playwright.sync_api import expect

from automations.models import ActionKind, RuleAction, Trigger
from automations.services import rule_save
from opportunities.tests.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def drag(page, source, target):
    """A SortableJS drag: press, nudge a few pixels, travel in small steps, release."""
    start, end = source.bounding_box(), target.bounding_box()
    x0, y0 = start["x"] + start["width"] / 2, start["y"] + 20
    x1, y1 = end["x"] + end["width"] / 2, end["y"] + end["height"] - 8
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 4, y0 + 4, steps=4)
    page.mouse.move(x1, y1, steps=25)
    page.wait_for_timeout(250)  # SortableJS's swap animation
    page.mouse.move(x1, y1 + 2, steps=2)
    page.wait_for_timeout(50)
    page.mouse.up()


def test_a_drag_to_demo_scheduled_creates_the_rules_task(italian, live_server, login, rep, manager, stages, screenshot):
    demo = stages["Demo scheduled"]
    rule_save(
        user=manager,
        team=manager.team,
        name="Demo fissata: preparare la demo",
        trigger=Trigger.STAGE_ENTERED,
        trigger_stage=demo,
        actions=[
            RuleAction(kind=ActionKind.CREATE_ACTIVITY, text="Prepare the demo", activity_kind="task", due_days=2)
        ],
    )
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Tablet Rossi")
    page = italian
    page.set_viewport_size({"width": 1920, "height": 1000})
    login(page, rep)
    page.goto(f"{live_server.url}/pipeline/")
    page.wait_for_selector("[data-board]")
    drag(
        page,
        page.locator(f"[data-opportunity-id='{deal.pk}']"),
        page.locator(f".board-cards[data-stage-id='{demo.pk}']"),
    )
    page.wait_for_selector("[data-testid=board-toast]")

    page.goto(f"{live_server.url}{deal.get_absolute_url()}")
    expect(page.get_by_text("Prepare the demo").first).to_be_visible()

    page.context.clear_cookies()
    login(page, manager)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/automations/")
    expect(page.get_by_role("heading", name="Regole automatiche")).to_be_visible()
    expect(page.locator("[data-testid=runs]").get_by_text("Tablet Rossi")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "automation-rules-phone")

    page.get_by_role("link", name="Demo fissata: preparare la demo").click()
    expect(page.get_by_role("heading", name="Modifica regola automatica")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "automation-rule-edit-phone")
