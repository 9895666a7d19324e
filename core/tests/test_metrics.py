"""/metrics: Prometheus text that the client's own parser reads, behind a token or a staff login,
absent without a token; counters that move with requests, tasks and webhook deliveries."""

import pytest
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from core.models import OutboxEvent
from core.outbox import outbox_deliver_pending, registered_task
from integrations.models import WebhookDelivery
from integrations.services import webhook_create
from integrations.webhooks import webhook_deliveries_send_due
from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-the-tests"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_without_a_token_configured_there_is_no_metrics_endpoint(client, settings, crm_admin):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    crm_admin.is_staff = True
    crm_admin.save()
    client.force_login(crm_admin)
    assert client.get("/metrics").status_code == 404


def test_prometheus_may_scrape_the_machine_address_over_http(client, metrics_on, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", HTTP_HOST="10.1.2.3:8000").status_code == 401
    assert client.get("/metrics", HTTP_HOST="10.1.2.3:8000").status_code == 400  # no token: the usual checks


def test_metrics_need_the_token_or_a_staff_login(client, metrics_on, rep, crm_admin):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    client.force_login(rep)  # signed in, not staff
    assert client.get("/metrics").status_code == 401
    crm_admin.is_staff = True
    crm_admin.save()
    client.force_login(crm_admin)
    assert client.get("/metrics").status_code == 200


def test_requests_are_counted_by_view_and_status_with_latency_and_queries(client, metrics_on, rep):
    before = scrape(client)
    client.force_login(rep)
    assert client.get(reverse("home")).status_code == 200
    assert client.get("/no-such-page/").status_code == 404
    after = scrape(client)

    view = {"view": "home"}
    assert value(after, "crm_http_requests_total", method="GET", status="200", **view) == (
        value(before, "crm_http_requests_total", method="GET", status="200", **view) + 1
    )
    assert value(after, "crm_http_requests_total", view="<unmatched>", method="GET", status="404") >= 1
    client.generic("BREW", "/no-such-page/")  # a made-up method is not a new label value
    assert value(scrape(client), "crm_http_requests_total", view="<unmatched>", method="other", status="404") >= 1
    assert value(after, "crm_http_request_duration_seconds_count", **view) == (
        value(before, "crm_http_request_duration_seconds_count", **view) + 1
    )
    # The home page queries the database (session, user, ...): the histogram's sum grew by that.
    grown = value(after, "crm_http_request_db_queries_sum", **view) - value(
        before, "crm_http_request_db_queries_sum", **view
    )
    assert grown >= 2


def test_tasks_are_counted_by_name_and_outcome(client, metrics_on, rep, stages):
    name = "core.tasks.outbox_dispatch"
    before = scrape(client)
    registered_task(name).delay()
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    opportunity_move_stage(opportunity=deal, stage=stages["Qualifying"], user=rep)
    after = scrape(client)
    assert value(after, "crm_celery_tasks_total", task=name, outcome="success") >= (
        value(before, "crm_celery_tasks_total", task=name, outcome="success") + 1
    )
    assert value(after, "crm_celery_task_duration_seconds_count", task=name) > value(
        before, "crm_celery_task_duration_seconds_count", task=name
    )


def test_the_outbox_backlog_and_its_oldest_event_are_reported(client, metrics_on):
    from datetime import timedelta

    from django.utils import timezone

    assert value(scrape(client), "crm_outbox_pending_events") == 0
    OutboxEvent.objects.create(topic="test.backlog", payload={}, created_at=timezone.now() - timedelta(minutes=5))
    OutboxEvent.objects.create(topic="test.backlog", payload={})
    samples = scrape(client)
    assert value(samples, "crm_outbox_pending_events") == 2
    assert 290 < value(samples, "crm_outbox_oldest_pending_age_seconds") < 400
    assert value(samples, "crm_import_jobs", status="failed") == 0
    assert ("crm_webhook_deliveries_by_status", (("status", "pending"),)) in samples


def test_webhook_deliveries_are_counted_by_outcome(client, metrics_on, settings, rep, stages):
    """A receiver that refuses connections: the attempt is a retry, then the delivery is pending."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    webhook_create(
        user=rep, target_url=f"http://127.0.0.1:{closed_port}/hook", secret="s" * 20, events=["opportunity.won"]
    )
    before = scrape(client)
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=rep)
    outbox_deliver_pending()  # what the worker does after commit: fan the event out to deliveries
    webhook_deliveries_send_due()
    samples = scrape(client)
    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count() == 1
    assert value(samples, "crm_webhook_deliveries_total", outcome="retry") >= (
        value(before, "crm_webhook_deliveries_total", outcome="retry") + 1
    )
    assert value(samples, "crm_webhook_deliveries_by_status", status="pending") == 1


def test_email_polling_has_a_counter_for_the_mailbox_integration(client, metrics_on):
    from core.metrics import EMAIL_POLLS

    before = value(scrape(client), "crm_email_polls_total", outcome="ok")
    EMAIL_POLLS.labels(outcome="ok").inc()
    assert value(scrape(client), "crm_email_polls_total", outcome="ok") == before + 1
