"""In the real browser, in Italian: a manager sets a quarterly target for a rep, the rep's home
shows the attainment, the manager subscribes to the targets report, and the scheduled e-mail
arrives at a real SMTP server (aiosmtpd) in Italian. Screenshots of every analytics page."""

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from analytics.models import ReportSubscription
from analytics.tasks import report_subscriptions_send
from core.outbox import outbox_deliver_pending
from opportunities.tests.factories import OpportunityFactory

from .conftest import email_parts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_quarterly_target_home_and_scheduled_email_in_italian(
    italian,
    live_server,
    login,
    manager,
    rep,
    stages,
    smtp,
    screenshot,
):
    manager.language, manager.email = "it", "manager@example.com"
    manager.save()
    rep.first_name, rep.last_name, rep.language = "Rita", "Rossi", "it"
    rep.save()
    noon = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(12)))
    OpportunityFactory(owner=rep, stage=stages["Won"], amount=Decimal("1500.00"), closed_at=noon)

    page = login(italian, manager)
    page.goto(f"{live_server.url}/analytics/targets/")
    page.wait_for_selector("[data-testid=targets-table]")
    page.click("[data-testid=target-new]")
    form = page.locator("[data-testid=target-form]")
    page.select_option("#id_owner", str(rep.pk))
    page.select_option("#id_period_kind", "quarter")
    page.select_option("#id_metric", "won_count")
    page.fill("#id_value", "4")
    screenshot(page, "analytics-target-form-it")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=targets-table] [data-percent]")
    assert "25,0" in page.locator("[data-testid=targets-table] [data-percent]").inner_text()
    page.wait_for_function("() => Chart.getChart(document.querySelector('canvas[data-report-chart]'))")
    screenshot(page, "analytics-targets-it")

    page.select_option("[data-testid=subscribe-form] select[name=frequency]", "monthly")
    page.click("[data-testid=subscribe-form] button[type=submit]")
    page.wait_for_selector("[data-testid=subscriptions]")
    assert "Obiettivi" in page.locator("[data-testid=subscriptions]").inner_text()
    screenshot(page, "analytics-subscriptions-it")

    for path, testid, name in (
        ("time-in-stage", "stage-time", "analytics-time-in-stage-it"),
        ("velocity", "velocity", "analytics-velocity-it"),
        ("cohorts", "cohorts", "analytics-cohorts-it"),
        ("forecast-accuracy", "accuracy", "analytics-forecast-accuracy-it"),
    ):
        page.goto(f"{live_server.url}/analytics/{path}/")
        page.wait_for_selector(f"[data-testid={testid}]")
        screenshot(page, name)

    page.context.clear_cookies()
    login(page, rep)
    mine = page.locator("[data-testid=home-targets-mine]")
    assert "Numero di trattative vinte" in mine.inner_text()
    assert "25,0 %" in mine.inner_text()
    screenshot(page, "analytics-rep-home-it")

    # The beat task, when the subscription comes due.
    ReportSubscription.objects.update(next_send_at=timezone.now() - datetime.timedelta(minutes=1))
    assert report_subscriptions_send() == 1
    outbox_deliver_pending()
    (message,) = smtp.messages
    assert message["To"] == "manager@example.com"
    assert "Obiettivi" in message["Subject"]
    html, _text, attachments = email_parts(message)
    assert "Rita Rossi" in html and "Apri il report nel CRM" in html
    # The attainment the rep's home showed, in Italian figures, in the e-mail and its XLSX.
    assert '<html lang="it">' in html and "25,0" in html
    ((name, content),) = attachments.items()
    assert name.endswith(".xlsx")
    sheet = [[c.value for c in row] for row in load_workbook(io.BytesIO(content)).active.iter_rows()]
    assert sheet[0][0] == "Rappresentante o team"
    assert [row[0] for row in sheet[1:]] == ["Rita Rossi"]
