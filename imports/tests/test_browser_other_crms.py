"""A HubSpot export in the real browser: the mapping page, the values to map, Run enabled once done."""

from pathlib import Path

import pytest

from accounts.tests.factories import UserFactory
from crm.celery import app
from imports.models import ImportJob
from imports.services import import_run
from opportunities.models import Opportunity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DATA = Path(__file__).parent / "data"


def test_a_hubspot_export_is_mapped_previewed_and_run(page, live_server, login, crm_admin, stages, screenshot):
    UserFactory(username="mferri", first_name="Marco", last_name="Ferri")
    UserFactory(username="gbianchi", first_name="Giulia", last_name="Bianchi")
    app.conf.task_always_eager = False  # the test plays the worker

    login(page, crm_admin)
    page.goto(f"{live_server.url}/imports/?kind=opportunity")
    page.set_input_files("#id_file", str(DATA / "hubspot_deals.csv"))
    page.click("button:has-text('Upload and map columns')")

    assert page.locator("#id_name").input_value() == "Deal Name"
    assert page.locator("#id_close_date").input_value() == "Close Date"
    assert page.locator("#id_probability").input_value() == "Deal probability"
    page.select_option("#id_create", "both")
    page.fill("#id_save_as", "HubSpot deals")
    screenshot(page, "import-crm-mapping")
    page.click("button:has-text('Preview')")

    assert page.locator("[data-unknown]").first.get_attribute("data-unknown") == "8"
    assert page.locator("#run-form button").is_disabled()
    assert "0–1" in page.locator("#probability-scale").inner_text()
    screenshot(page, "import-crm-values-to-map")

    stage_labels = {
        "Contract Sent": "Sales pipeline › In negotiation",
        "Appointment Scheduled": "Sales pipeline › New",
        "Qualified To Buy": "Sales pipeline › Qualifying",
        "Presentation Scheduled": "Sales pipeline › Demo scheduled",
        "Decision Maker Bought-In": "Sales pipeline › Pending commitment",
    }
    reasons = {"Budget cut": "No budget", "Chose competitor": "Chose a competitor"}
    for row in page.locator("[data-values] tr[data-unknown-value]").all():
        value = row.locator("label").inner_text()
        select = row.locator("select")
        if value in stage_labels:
            select.select_option(label=stage_labels[value])
        elif value in reasons:
            select.select_option(label=reasons[value])
        else:
            select.select_option("__skip__")
    page.click("button:has-text('Save the values and check again')")

    assert page.locator("[data-unknown]").first.get_attribute("data-unknown") == "0"
    assert page.locator("[data-count=created]").inner_text() == "19"
    assert page.locator("[data-count=rejected]").inner_text() == "1"
    assert "is set to “skip”" in page.locator("#rejected-rows").inner_text()
    assert page.locator("#run-form button").is_enabled()
    screenshot(page, "import-crm-preview")
    page.click("#run-form button")

    page.wait_for_selector("#import-progress[data-status=queued]")
    import_run(job_id=ImportJob.objects.get().pk)
    page.wait_for_selector("#import-progress[data-status=done]")
    assert "9 open, 6 won, 4 lost" in page.locator("#import-statuses").inner_text()
    screenshot(page, "import-crm-result")
    assert Opportunity.objects.filter(status="lost").count() == 4
