"""Webhooks: outbox events fan out to subscriptions, and a Celery task POSTs each delivery.

The fan-out runs inside the outbox's delivery transaction, so each event creates its deliveries
exactly once. Each POST carries the JSON body signed with the subscription's secret:
``X-CRM-Signature: sha256=<hex HMAC-SHA256 of the raw body>``, plus ``X-CRM-Event`` and
``X-CRM-Delivery``. A failure is retried with exponential backoff up to ``MAX_ATTEMPTS`` times.
"""

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.outbox import subscribe

from .models import WebhookDelivery, WebhookEvent, WebhookSubscription

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
TIMEOUT_SECONDS = 5


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@subscribe(*WebhookEvent.values)
def webhook_fan_out(event) -> None:
    """Create one delivery per active subscription to this event's topic, then ask a worker to send."""
    subscriptions = [
        s for s in WebhookSubscription.objects.filter(active=True).only("pk", "events") if event.topic in s.events
    ]
    if not subscriptions:
        return
    body = {"id": event.pk, "event": event.topic, "created_at": event.created_at.isoformat(), "data": event.payload}
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(subscription=s, event_id=event.pk, topic=event.topic, payload=body, next_attempt_at=None)
            for s in subscriptions
        ],
        ignore_conflicts=True,
    )
    from .tasks import webhook_deliveries_send

    transaction.on_commit(lambda: _request_send(webhook_deliveries_send))


def _request_send(task) -> None:
    try:
        task.apply_async(retry=False)
    except Exception:  # broker down: the beat sweep sends them later
        logger.warning("Could not reach the task broker; webhook deliveries wait for the next sweep.")


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def webhook_delivery_send(delivery: WebhookDelivery) -> bool:
    """POST one delivery and record the outcome. Returns True when the receiver answered 2xx."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    url = delivery.subscription.target_url
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError("Webhook URLs must be http(s).")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "SalesCRM-Webhooks/1",
            "X-CRM-Event": delivery.topic,
            "X-CRM-Delivery": str(delivery.pk),
            "X-CRM-Signature": signature(delivery.subscription.secret, body),
        },
    )
    delivery.attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            delivery.response_status = response.status
            delivery.response_body = response.read(2000).decode("utf-8", "replace")
            ok = 200 <= response.status < 300
    except urllib.error.HTTPError as exc:
        delivery.response_status = exc.code
        delivery.response_body = exc.read(2000).decode("utf-8", "replace")
        ok = False
    except (urllib.error.URLError, OSError, ValueError) as exc:
        delivery.error = f"{type(exc).__name__}: {exc}"[:2000]
        ok = False
    now = timezone.now()
    if ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at, delivery.error = "delivered", now, None, ""
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    delivery.save()
    return ok


def webhook_deliveries_send_due(*, limit: int = 100) -> int:
    """Send pending deliveries that are due. Rows are locked one at a time (SKIP LOCKED), so
    several workers never send the same delivery twice at once."""
    sent = 0
    for _ in range(limit):
        with transaction.atomic():
            delivery = (
                WebhookDelivery.objects.select_for_update(skip_locked=True)
                .select_related("subscription")
                .filter(status=WebhookDelivery.Status.PENDING)
                .exclude(next_attempt_at__gt=timezone.now())
                .order_by("created_at", "id")
                .first()
            )
            if delivery is None:
                break
            sent += webhook_delivery_send(delivery)
    return sent
