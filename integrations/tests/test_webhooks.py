"""Webhooks delivered to a real HTTP receiver on 127.0.0.1, signed, retried, logged."""

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from core.outbox import outbox_deliver_pending
from integrations.models import WebhookDelivery
from integrations.services import webhook_create
from integrations.webhooks import webhook_deliveries_send_due
from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
SECRET = "s3cret-shared-with-the-receiver"


@pytest.fixture
def receiver(settings):
    """A real HTTP server in a thread; ``receiver.fail_next`` makes it answer 500 that many times.
    It listens on 127.0.0.1, which webhooks may only reach with private targets allowed."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if server.fail_next:
                server.fail_next -= 1
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"temporarily broken")
                return
            received.append({"headers": self.headers, "body": body})  # case-insensitive
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.fail_next = 0
    server.received = received
    server.url = f"http://127.0.0.1:{server.server_port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_won_deal_is_posted_signed_to_the_subscriber(receiver, rep, stages):
    webhook_create(user=rep, target_url=receiver.url, secret=SECRET, events=["opportunity.won"])
    deal = OpportunityFactory(owner=rep, stage=stages["New"], name="Tablet Rossi")
    opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=rep)

    outbox_deliver_pending()
    assert webhook_deliveries_send_due() == 1

    assert len(receiver.received) == 1  # created and stage_changed were not subscribed
    request = receiver.received[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-CRM-Signature"] == expected
    assert request["headers"]["X-CRM-Event"] == "opportunity.won"
    payload = json.loads(request["body"])
    assert payload["event"] == "opportunity.won"
    assert payload["data"]["opportunity"]["name"] == "Tablet Rossi"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.response_status == 204 and delivery.attempts == 1


def test_a_failing_receiver_is_retried_with_backoff_and_logged(receiver, rep, stages):
    from django.utils import timezone

    receiver.fail_next = 1
    webhook_create(user=rep, target_url=receiver.url, secret=SECRET, events=["opportunity.created"])
    OpportunityFactory(owner=rep, stage=stages["New"])
    outbox_deliver_pending()

    assert webhook_deliveries_send_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.response_status == 500
    assert delivery.next_attempt_at > timezone.now()
    assert webhook_deliveries_send_due() == 0  # not due yet: nothing is sent again

    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    assert webhook_deliveries_send_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert len(receiver.received) == 1


def test_each_event_creates_its_deliveries_once(receiver, rep, stages):
    webhook_create(user=rep, target_url=receiver.url, secret=SECRET, events=["opportunity.created"])
    OpportunityFactory(owner=rep, stage=stages["New"])

    outbox_deliver_pending()
    outbox_deliver_pending()

    assert WebhookDelivery.objects.count() == 1


def test_webhooks_api_manages_own_subscriptions_and_shows_the_log(rep, teammate, receiver, stages):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(rep)
    bad = client.post(
        "/api/v1/webhooks/", {"target_url": "not a url", "secret": "x", "events": ["nope"]}, format="json"
    )
    assert bad.status_code == 400
    assert {"target_url", "secret", "events"} <= set(bad.json()["error"]["fields"])

    created = client.post(
        "/api/v1/webhooks/",
        {"target_url": receiver.url, "secret": SECRET, "events": ["opportunity.created"]},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["secret"] == "whsec_" + base64.b64encode(SECRET.encode()).decode()  # shown on create
    assert "secret" not in client.get(f"/api/v1/webhooks/{created.json()['id']}/").json()  # and only then
    OpportunityFactory(owner=rep, stage=stages["New"])
    outbox_deliver_pending()
    webhook_deliveries_send_due()
    log = client.get(f"/api/v1/webhooks/{created.json()['id']}/deliveries/").json()["results"]
    assert [d["status"] for d in log] == ["delivered"]

    other = APIClient()
    other.force_authenticate(teammate)
    assert other.get(f"/api/v1/webhooks/{created.json()['id']}/").status_code == 404


def test_a_request_sends_only_its_own_events_deliveries(receiver, rep, stages):
    """Retries belong to the periodic sweep: a move must not wait for every other failing delivery
    (without a broker tasks run inside the request)."""
    from django.utils import timezone

    from integrations.tasks import webhook_deliveries_send

    webhook_create(user=rep, target_url=receiver.url, secret=SECRET, events=["opportunity.created"])
    receiver.fail_next = 3
    for _ in range(3):
        OpportunityFactory(owner=rep, stage=stages["New"])
    outbox_deliver_pending()
    webhook_deliveries_send_due()
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())  # three failed ones, due again
    OpportunityFactory(owner=rep, stage=stages["New"], name="Fresh")
    outbox_deliver_pending()
    fresh = WebhookDelivery.objects.get(payload__data__opportunity__name="Fresh")

    assert webhook_deliveries_send(event_id=fresh.event_id) == 1
    assert [json.loads(r["body"])["data"]["opportunity"]["name"] for r in receiver.received] == ["Fresh"]
    assert WebhookDelivery.objects.filter(status="pending").count() == 3
    assert webhook_deliveries_send() == 3  # the sweep


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
    ],
)
def test_webhooks_to_private_addresses_are_refused_by_field(rep, url):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        webhook_create(user=rep, target_url=url, secret=SECRET, events=["opportunity.created"])
    assert "public addresses" in excinfo.value.message_dict["target_url"][0]


def test_a_public_name_that_resolves_to_a_private_address_is_not_posted(rep, stages, monkeypatch):
    import socket

    hook = webhook_create(
        user=rep, target_url="https://hooks.example.com/in", secret=SECRET, events=["opportunity.created"]
    )
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("192.168.1.10", 443))])
    OpportunityFactory(owner=rep, stage=stages["New"])
    outbox_deliver_pending()

    assert webhook_deliveries_send_due() == 0
    delivery = WebhookDelivery.objects.get(subscription=hook)
    assert delivery.status == "failed" and delivery.error == "The target address is not a public one."
