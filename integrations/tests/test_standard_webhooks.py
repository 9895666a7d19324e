"""Deliveries as an integrator checks them: the `standardwebhooks` library (not our code) verifies
what a real HTTP receiver got; failures are logged; the owner redelivers through the API."""

import base64
import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from core.outbox import outbox_deliver_pending
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.services import webhook_create, webhook_delivery_redeliver, webhook_secret_rotate, webhook_update
from integrations.tests.test_webhooks import receiver  # noqa: F401 (the real HTTP receiver fixture)
from integrations.webhooks import webhook_deliveries_send_due
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
RAW_SECRET = "s3cret-shared-with-the-receiver"


def one_delivery(receiver, user, stages, **hook_kwargs):  # noqa: F811
    hook = webhook_create(user=user, target_url=receiver.url, events=["opportunity.created"], **hook_kwargs)
    OpportunityFactory(owner=user, stage=stages["New"], name="Tablet Rossi")
    outbox_deliver_pending()
    webhook_deliveries_send_due()
    return hook


def headers_of(request) -> dict:
    return dict(request["headers"].items())


def test_a_delivery_verifies_with_the_standardwebhooks_library(receiver, rep, stages):  # noqa: F811
    hook = one_delivery(receiver, rep, stages)

    assert hook.secret.startswith("whsec_") and len(base64.b64decode(hook.secret[6:])) == 32
    request = receiver.received[0]
    payload = Webhook(hook.secret).verify(request["body"], headers_of(request))
    assert payload["event"] == "opportunity.created"
    assert payload["data"]["opportunity"]["name"] == "Tablet Rossi"
    # Signed with another secret: refused.
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"another key, 32 bytes long......").decode()).verify(
            request["body"], headers_of(request)
        )


def test_a_tampered_body_or_an_old_timestamp_is_refused_by_the_library(receiver, rep, stages):  # noqa: F811
    hook = one_delivery(receiver, rep, stages)
    request = receiver.received[0]
    verifier = Webhook(hook.secret)

    with pytest.raises(WebhookVerificationError):
        verifier.verify(request["body"].replace(b"Tablet", b"Tablez"), headers_of(request))
    # A replay later on: the very same bytes and headers, received 10 minutes after they were signed.
    replayed = headers_of(request)
    old = int(replayed["webhook-timestamp"]) - 600
    replayed["webhook-timestamp"] = str(old)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verifier.verify(request["body"], replayed)
    # ...and moving the timestamp forward again breaks the signature, which covers it.
    replayed["webhook-timestamp"] = str(old + 600 + 1)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        verifier.verify(request["body"], replayed)


def test_a_raw_secret_of_before_keeps_its_key_in_both_schemes(receiver, rep, stages):  # noqa: F811
    import hashlib
    import hmac

    hook = one_delivery(receiver, rep, stages, secret=RAW_SECRET)

    assert hook.secret == "whsec_" + base64.b64encode(RAW_SECRET.encode()).decode()
    request = receiver.received[0]
    # The deprecated header, exactly as receivers compute it today, with the raw secret.
    expected = "sha256=" + hmac.new(RAW_SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-CRM-Signature"] == expected
    assert request["headers"]["X-CRM-Event"] == "opportunity.created"
    Webhook(hook.secret).verify(request["body"], headers_of(request))


def test_the_migration_converts_stored_raw_secrets_compatibly(rep):
    import importlib

    from django.apps import apps

    WebhookSubscription.objects.bulk_create(
        [WebhookSubscription(owner=rep, target_url="https://hooks.example.com/a", secret=RAW_SECRET, events=["x"])]
    )
    migration = importlib.import_module("integrations.migrations.0004_webhook_secrets_standard_form")
    migration.to_standard_form(apps, None)

    hook = WebhookSubscription.objects.get()
    assert hook.secret_converted
    assert base64.b64decode(hook.secret.removeprefix("whsec_")) == RAW_SECRET.encode()
    migration.to_raw_form(apps, None)
    assert WebhookSubscription.objects.get().secret == RAW_SECRET


def test_every_attempt_of_a_delivery_keeps_its_webhook_id_and_is_signed_anew(
    receiver,  # noqa: F811
    rep,
    stages,
    django_capture_on_commit_callbacks,
):
    receiver.fail_next = 1
    hook = one_delivery(receiver, rep, stages)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1

    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    webhook_deliveries_send_due()
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_redeliver(delivery=delivery, user=rep)  # eager: sent after commit

    first, second = receiver.received
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] == f"msg_{delivery.pk}"
    for request in (first, second):
        Webhook(hook.secret).verify(request["body"], headers_of(request))
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 3


def test_a_failed_attempt_is_logged_with_subscription_event_attempt_and_status(
    receiver,  # noqa: F811
    rep,
    stages,
    caplog,
):
    receiver.fail_next = 1
    with caplog.at_level(logging.WARNING, logger="integrations.webhooks"):
        hook = one_delivery(receiver, rep, stages)
    delivery = WebhookDelivery.objects.get()
    [line] = [r.getMessage() for r in caplog.records if r.name == "integrations.webhooks"]
    assert f"Webhook delivery {delivery.pk} failed" in line
    assert f"subscription {hook.pk}" in line and receiver.url in line
    assert f"event {delivery.event_id} (opportunity.created)" in line
    assert "attempt 1 of 6" in line and "status 500" in line and "next attempt at" in line


def test_an_unreachable_receiver_is_logged_with_its_error(settings, rep, stages, caplog):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with caplog.at_level(logging.WARNING, logger="integrations.webhooks"):
        one_delivery(type("R", (), {"url": f"http://127.0.0.1:{port}/hook"}), rep, stages)
    [line] = [r.getMessage() for r in caplog.records if r.name == "integrations.webhooks"]
    assert "status none" in line and "ConnectionRefusedError" in line


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_owner_redelivers_a_failed_delivery_through_the_api(
    receiver,  # noqa: F811
    rep,
    teammate,
    stages,
    django_capture_on_commit_callbacks,
):
    receiver.fail_next = 6
    hook = one_delivery(receiver, rep, stages)
    for _ in range(5):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        webhook_deliveries_send_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 6 and receiver.received == []
    url = f"/api/v1/webhooks/{hook.pk}/deliveries/{delivery.pk}/redeliver/"

    assert api(teammate).post(url).status_code == 404  # not their webhook
    with django_capture_on_commit_callbacks(execute=True):
        answer = api(rep).post(url)

    assert answer.status_code == 202 and answer.json()["id"] == delivery.pk
    assert len(receiver.received) == 1  # through the task, after commit
    Webhook(hook.secret).verify(receiver.received[0]["body"], headers_of(receiver.received[0]))
    log = api(rep).get(f"/api/v1/webhooks/{hook.pk}/deliveries/").json()["results"]
    assert [(d["status"], d["attempts"], d["response_status"]) for d in log] == [("delivered", 7, 204)]
    assert api(rep).post(f"/api/v1/webhooks/{hook.pk}/deliveries/999999/redeliver/").status_code == 404


def test_a_redelivery_without_a_worker_waits_for_the_sweep(
    receiver,  # noqa: F811
    rep,
    stages,
    django_capture_on_commit_callbacks,
):
    """With a broker that cannot be reached, the redelivery stays pending and due: the sweep sends it."""
    from crm.celery import app

    receiver.fail_next = 1
    hook = one_delivery(receiver, rep, stages)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    app.conf.task_always_eager = False
    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens there
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            webhook_delivery_redeliver(delivery=delivery, user=rep)
    finally:
        app.conf.broker_url, app.conf.task_always_eager = previous, True
    assert len(callbacks) == 1  # the task was asked for, and the broker could not be reached
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_attempt_at is None and receiver.received == []

    assert webhook_deliveries_send_due() == 1
    assert len(receiver.received) == 1 and receiver.received[0]["headers"]["webhook-id"] == f"msg_{delivery.pk}"
    Webhook(hook.secret).verify(receiver.received[0]["body"], headers_of(receiver.received[0]))


def test_a_paused_webhook_keeps_its_deliveries_until_resumed(receiver, rep, stages):  # noqa: F811
    receiver.fail_next = 1
    hook = one_delivery(receiver, rep, stages)
    webhook_update(webhook=hook, user=rep, data={"active": False})
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())

    assert webhook_deliveries_send_due() == 0
    delivery = WebhookDelivery.objects.get()
    from core.exceptions import ValidationError

    with pytest.raises(ValidationError) as excinfo:
        webhook_delivery_redeliver(delivery=delivery, user=rep)
    assert "delivery" in excinfo.value.message_dict
    webhook_update(webhook=hook, user=rep, data={"active": True})
    assert webhook_deliveries_send_due() == 1


def test_create_shows_the_generated_secret_once_and_rotation_replaces_it(receiver, rep, teammate, stages):  # noqa: F811
    created = api(rep).post(
        "/api/v1/webhooks/", {"target_url": receiver.url, "events": ["opportunity.created"]}, format="json"
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    hook_url = f"/api/v1/webhooks/{created.json()['id']}/"
    assert "secret" not in api(rep).get(hook_url).json()

    assert api(teammate).post(hook_url + "rotate-secret/").status_code == 404
    rotated = api(rep).post(hook_url + "rotate-secret/")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != secret

    OpportunityFactory(owner=rep, stage=stages["New"])
    outbox_deliver_pending()
    webhook_deliveries_send_due()
    request = receiver.received[0]
    Webhook(new_secret).verify(request["body"], headers_of(request))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request["body"], headers_of(request))


def test_only_the_owner_rotates_or_redelivers_in_the_services(receiver, rep, teammate, stages):  # noqa: F811
    from core.exceptions import ValidationError

    receiver.fail_next = 1
    hook = one_delivery(receiver, rep, stages)
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(ValidationError):
        webhook_secret_rotate(webhook=hook, user=teammate)
    with pytest.raises(ValidationError):
        webhook_delivery_redeliver(delivery=delivery, user=teammate)
    with pytest.raises(ValidationError):
        webhook_update(webhook=hook, user=teammate, data={"active": False})


@pytest.mark.parametrize(
    ("secret", "field_error"),
    [("short", True), ("whsec_" + base64.b64encode(b"tiny").decode(), True), ("x" * 400, False)],
)
def test_bad_secrets_are_refused_naming_the_field(rep, secret, field_error):
    answer = api(rep).post(
        "/api/v1/webhooks/",
        {"target_url": "https://hooks.example.com/in", "secret": secret, "events": ["opportunity.won"]},
        format="json",
    )
    assert answer.status_code == 400
    assert "secret" in answer.json()["error"]["fields"]


def test_without_a_worker_the_beat_process_sends_due_retries_itself(receiver, rep, stages):  # noqa: F811
    """Development (`make run`, no REDIS_URL): tasks are eager, so the beat process `make run` starts
    beside the web server runs each scheduled task itself; the retry sweep happens with no worker."""
    from celery.beat import ScheduleEntry, Scheduler
    from django.conf import settings

    from crm.celery import app

    receiver.fail_next = 1
    one_delivery(receiver, rep, stages)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())  # the backoff has passed
    app.loader.import_default_modules()
    scheduled = settings.CELERY_BEAT_SCHEDULE["webhook-retries"]
    entry = ScheduleEntry(name="webhook-retries", task=scheduled["task"], schedule=scheduled["schedule"], app=app)

    Scheduler(app, lazy=True).apply_async(entry, advance=False)

    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().status == "delivered"
