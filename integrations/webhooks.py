"""Webhooks: outbox events fan out to subscriptions, and a Celery task POSTs each delivery.

The fan-out runs inside the outbox's delivery transaction, so each event creates its deliveries
exactly once. Each POST carries the JSON body signed with the subscription's secret:
``X-CRM-Signature: sha256=<hex HMAC-SHA256 of the raw body>``, plus ``X-CRM-Event`` and
``X-CRM-Delivery``. A failure is retried with exponential backoff up to ``MAX_ATTEMPTS`` times.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.outbox import subscribe, task_request

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
    event_id = event.pk
    transaction.on_commit(lambda: _request_send(event_id))


def _request_send(event_id: int) -> None:
    """Ask a worker to send this event's deliveries now; retries of older ones are the sweep's job,
    so a request that emits an event (run eagerly without a broker) never sends other events'."""
    from .tasks import webhook_deliveries_send

    task_request(webhook_deliveries_send, kwargs={"event_id": event_id}, waiting="webhook deliveries")


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return not ip.is_global or ip.is_multicast


def target_refusal(url: str, *, resolve: bool) -> str | None:
    """Why we will not POST to ``url``, or None. A webhook must not become a way to reach the
    servers behind our firewall (SSRF): loopback, private, link-local (cloud metadata) and other
    non-public addresses are refused unless ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` is on (development,
    tests). With ``resolve`` the host name is looked up too, as it is just before sending."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "Webhook URLs must be http(s)."
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return None
    host = parts.hostname.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return "The target address is not a public one."
    try:
        addresses = [parts.hostname] if _literal_ip(parts.hostname) else []
        if resolve and not addresses:
            addresses = [info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)]
    except OSError:
        return None  # unresolvable: the send itself fails and is retried
    if any(_is_private(a) for a in addresses):
        return "The target address is not a public one."
    return None


def _literal_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def webhook_delivery_send(delivery: WebhookDelivery) -> bool:
    """POST one delivery and record the outcome. Returns True when the receiver answered 2xx."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    url = delivery.subscription.target_url
    delivery.attempts += 1
    refusal = target_refusal(url, resolve=True)
    if refusal:
        delivery.status, delivery.next_attempt_at, delivery.error = "failed", None, refusal
        delivery.save()
        return False
    request = urllib.request.Request(  # noqa: S310 (scheme checked by target_refusal)
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


def webhook_deliveries_send_due(*, limit: int = 100, event_id: int | None = None) -> int:
    """Send pending deliveries that are due (only those of ``event_id`` when given). Rows are locked
    one at a time (SKIP LOCKED), so several workers never send the same delivery twice at once."""
    sent = 0
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
    if event_id is not None:
        pending = pending.filter(event_id=event_id)
    for _ in range(limit):
        with transaction.atomic():
            delivery = (
                pending.select_for_update(skip_locked=True)
                .select_related("subscription")
                .exclude(next_attempt_at__gt=timezone.now())
                .order_by("created_at", "id")
                .first()
            )
            if delivery is None:
                break
            sent += webhook_delivery_send(delivery)
    return sent
