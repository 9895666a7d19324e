"""Report subscriptions: a manager subscribes to a report with its filters; the beat task queues
the e-mail through the outbox; the e-mail reaches a real SMTP server (aiosmtpd) in the manager's
language, with the HTML summary and the XLSX attached, holding only what the manager may see."""

import datetime
import io
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from analytics.models import ReportSubscription
from analytics.services import report_subscriptions_queue, subscription_create, target_set
from core.outbox import outbox_deliver_pending

from .conftest import email_parts


def test_targets_report_arrives_in_italian_with_only_what_the_manager_sees(smtp, manager, rep, other_rep, crm_admin):
    manager.language, manager.email = "it", "manager@example.com"
    manager.save()
    rep.first_name, rep.last_name = "Rita", "Rossi"
    rep.save()
    other_rep.first_name, other_rep.last_name = "Otto", "Altri"
    other_rep.save()
    today = timezone.localdate()
    target_set(user=manager, owner=rep, period_kind="quarter", day=today, metric="won_count", value=Decimal("4"))
    target_set(
        user=crm_admin, owner=other_rep, period_kind="quarter", day=today, metric="won_count", value=Decimal("9")
    )
    subscription = subscription_create(
        user=manager, report="targets", params={"period_kind": "quarter"}, frequency="weekly"
    )
    assert subscription.next_send_at > timezone.now()
    assert report_subscriptions_queue() == 0  # not due yet
    ReportSubscription.objects.filter(pk=subscription.pk).update(
        next_send_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert report_subscriptions_queue() == 1
    assert report_subscriptions_queue() == 0  # moved to next week: never twice
    outbox_deliver_pending()
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "manager@example.com"
    assert "Obiettivi" in message["Subject"]
    html, text, attachments = email_parts(message)
    assert "Rita Rossi" in html and "Otto Altri" not in html
    assert "Apri il report nel CRM" in html
    ((name, content),) = attachments.items()
    assert name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Rappresentante o team"
    assert [row[0] for row in values[1:]] == ["Rita Rossi"]
    assert ReportSubscription.objects.get().next_send_at > timezone.now()


def test_subscribe_from_the_page_and_bad_filters(client, manager, rep):
    client.force_login(manager)
    response = client.post(
        reverse("analytics:subscriptions"), {"report": "velocity", "params": "group_by=team", "frequency": "monthly"}
    )
    assert response.status_code == 302
    assert ReportSubscription.objects.get().params == {"group_by": "team"}
    page = client.get(reverse("analytics:subscriptions")).content.decode()
    assert "group_by=team" in page
    response = client.post(
        reverse("analytics:subscriptions"), {"report": "velocity", "params": "group_by=planet", "frequency": "monthly"}
    )
    assert response.status_code == 200 and ReportSubscription.objects.count() == 1
    client.force_login(rep)
    response = client.post(
        reverse("analytics:subscriptions"), {"report": "targets", "params": "", "frequency": "weekly"}
    )
    assert response.status_code == 403
