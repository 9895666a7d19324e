"""Webhooks: outbox events fan out to subscriptions, and a Celery task POSTs each delivery.

The fan-out runs inside the outbox's delivery transaction, so each event creates its deliveries
exactly once. Each POST carries the JSON body signed by the Standard Webhooks scheme with the
subscription's ``whsec_`` secret: ``webhook-id`` (the same on every attempt of one delivery, so a
receiver can drop duplicates), ``webhook-timestamp`` (this attempt's time, in seconds) and
``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``; a receiver that refuses
old timestamps cannot be fed a replay. The headers used before, ``X-CRM-Signature:
sha256=<hex HMAC-SHA256 of the raw body>`` (same key), ``X-CRM-Event`` and ``X-CRM-Delivery``, are
still sent for one release (deprecated). A failure is logged and retried with exponential backoff up
to ``MAX_ATTEMPTS`` times; its owner can ask for a redelivery (:func:`webhook_delivery_redeliver`).

Every event names its record (the topic's kind, ``opportunity.updated`` → ``payload["opportunity"]["id"]``).
A subscription gets a delivery only when its owner may see that record (the app's ``visible_to``), and
only for events newer than the subscription; the same check runs again just before the POST, and the
delivery log shows only deliveries about records the owner may see now. An event whose record cannot
be named is delivered to nobody.

Sending never follows redirects, connects to the very address that was resolved and checked (no DNS
rebinding between the check and the connection) and keeps only a short printable excerpt of the answer.
"""

import base64
import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import operator
import socket
import ssl
import urllib.parse
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact, Organization
from core.metrics import WEBHOOK_DELIVERIES
from core.outbox import subscribe, task_request
from mail.models import EmailMessage
from opportunities.models import Opportunity

from .models import WebhookDelivery, WebhookEvent, WebhookSubscription, webhook_secret_key, webhook_secret_standard

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
TIMEOUT_SECONDS = 5
EXCERPT_CHARS = 200
NOT_PUBLIC = "The target address is not a public one."
NOT_VISIBLE = "Not sent: the subscription's owner may no longer see this record."
REDIRECT = "The receiver answered with a redirect; redirects are not followed."


def _key(secret: str) -> bytes:
    return webhook_secret_key(webhook_secret_standard(secret))


def signature(secret: str, body: bytes) -> str:
    """The deprecated ``X-CRM-Signature`` value: hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(_key(secret), body, hashlib.sha256).hexdigest()


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of the Standard Webhooks scheme (version ``v1``)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


def delivery_message_id(delivery: WebhookDelivery) -> str:
    """The ``webhook-id`` of a delivery: one event for one subscription, the same on every attempt."""
    return f"msg_{delivery.pk}"


def signed_headers(delivery: WebhookDelivery, body: bytes, *, now=None) -> dict:
    """Every header of one attempt: the Standard Webhooks ones and, for one release, the old ones."""
    secret = delivery.subscription.secret
    message_id = delivery_message_id(delivery)
    timestamp = int((now or timezone.now()).timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": "SalesCRM-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, message_id, timestamp, body),
        # Deprecated (README "Webhooks"): removed in the release after this one.
        "X-CRM-Event": delivery.topic,
        "X-CRM-Delivery": str(delivery.pk),
        "X-CRM-Signature": signature(secret, body),
    }


# --- Whose events: the record an event is about, and who may see it --------------------------------


# The kinds of record webhooks speak of, by the first part of their topics.
RECORD_MODELS = {"opportunity": Opportunity, "organization": Organization, "contact": Contact, "email": EmailMessage}


def event_record(topic: str, payload) -> tuple[str, int] | None:
    """``(kind, id)`` of the record an event is about, or None when it does not name one."""
    kind = topic.partition(".")[0]
    if kind not in RECORD_MODELS or not isinstance(payload, dict):
        return None
    record = payload.get(kind)
    record_id = record.get("id") if isinstance(record, dict) else None
    if type(record_id) is not int:
        return None
    return kind, record_id


def record_visible(user, kind: str, record_id: int | None) -> bool:
    """Whether ``user`` may see the record now, by the same ``visible_to`` every page starts from
    (archived records included, as there). Unknown kinds and inactive users: no."""
    model = RECORD_MODELS.get(kind)
    if model is None or record_id is None or not user.is_active:
        return False
    return model.objects.visible_to(user).filter(pk=record_id).exists()


def webhook_delivery_log(*, subscription: WebhookSubscription, user):
    """The delivery log of ``subscription`` as ``user`` reads it, newest first: only deliveries about
    records ``user`` may see now (a delivery whose record cannot be named is never shown)."""
    visible = functools.reduce(
        operator.or_,
        (
            Q(record_kind=kind, record_id__in=model.objects.visible_to(user).values("pk"))
            for kind, model in RECORD_MODELS.items()
        ),
    )
    return subscription.deliveries.filter(visible).order_by("-created_at", "-id")


@subscribe(*WebhookEvent.values)
def webhook_fan_out(event) -> None:
    """Create one delivery per active subscription to this event's topic whose owner may see the
    event's record and which existed before the event, then ask a worker to send."""
    candidates = [
        s
        for s in WebhookSubscription.objects.filter(
            active=True, owner__is_active=True, after_event_id__lt=event.pk
        ).select_related("owner")
        if event.topic in s.events
    ]
    if not candidates:
        return
    record = event_record(event.topic, event.payload)
    if record is None:  # fail closed: nobody can be shown to be allowed to see it
        logger.warning("Webhook event %s (%s) names no record: delivered to nobody.", event.pk, event.topic)
        return
    kind, record_id = record
    subscriptions = [s for s in candidates if record_visible(s.owner, kind, record_id)]
    if not subscriptions:
        return
    body = {"id": event.pk, "event": event.topic, "created_at": event.created_at.isoformat(), "data": event.payload}
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription=s,
                event_id=event.pk,
                topic=event.topic,
                record_kind=kind,
                record_id=record_id,
                payload=body,
                next_attempt_at=None,
            )
            for s in subscriptions
        ],
        ignore_conflicts=True,
    )
    event_id = event.pk
    transaction.on_commit(lambda: _request_send(event_id))


def _request_send(event_id: int) -> None:
    """Ask a worker to send this event's deliveries now; retries of older ones are the sweep's job,
    so a request that emits an event (run eagerly without a broker) never sends other events'."""
    task_request(
        "integrations.tasks.webhook_deliveries_send", kwargs={"event_id": event_id}, waiting="webhook deliveries"
    )


# --- Where to: refusing private targets, and connecting to the address that was checked ------------


class TargetRefused(Exception):
    pass


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return not ip.is_global or ip.is_multicast


def _literal_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _default_port(parts) -> int:
    return parts.port or (443 if parts.scheme.lower() == "https" else 80)


def _checked_addresses(url: str, *, resolve: bool) -> list[str]:
    """The addresses ``url``'s host stands for, each of them allowed (raises :class:`TargetRefused`).
    Without ``resolve`` only what the URL itself says is checked (a literal address, localhost)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise TargetRefused("Webhook URLs must be http(s).")
    host = parts.hostname
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_TARGETS
    name = host.lower().rstrip(".")
    if not allow_private and (name == "localhost" or name.endswith(".localhost")):
        raise TargetRefused(NOT_PUBLIC)
    if _literal_ip(host):
        addresses = [host]
    elif resolve:
        infos = socket.getaddrinfo(host, _default_port(parts), type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
    else:
        addresses = []
    if not allow_private and any(_is_private(a) for a in addresses):
        raise TargetRefused(NOT_PUBLIC)
    return addresses


def target_refusal(url: str, *, resolve: bool) -> str | None:
    """Why we will not POST to ``url``, or None. A webhook must not become a way to reach the
    servers behind our firewall (SSRF): loopback, private, link-local (cloud metadata) and other
    non-public addresses are refused unless ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` is on (development,
    tests). With ``resolve`` the host name is looked up too, as it is just before sending."""
    try:
        _checked_addresses(url, resolve=resolve)
    except TargetRefused as exc:
        return str(exc)
    except (OSError, ValueError):
        return None  # unresolvable: the send itself fails and is retried
    return None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to ``address`` (checked), with the URL's host name in the Host header."""

    def __init__(self, host, port, *, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self):
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``address`` (checked); SNI and the certificate check use the URL's host name."""

    def __init__(self, host, port, *, address, timeout):
        self.pinned_context = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.pinned_context)
        self.pinned_address = address

    def connect(self):
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock = self.pinned_context.wrap_socket(sock, server_hostname=self.host)


def _excerpt(raw: bytes) -> str:
    """A short, printable start of a receiver's answer, for the delivery log."""
    text = raw.decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else " " for ch in text)[:EXCERPT_CHARS].strip()


def _post(url: str, body: bytes, headers: dict) -> tuple[int, str]:
    """POST ``body`` to ``url`` once, without following redirects, connected to an address that was
    checked after resolving the name once. Returns the status and a short excerpt of the answer
    (nothing of a redirect's). Raises TargetRefused, OSError, ValueError or HTTPException."""
    parts = urllib.parse.urlsplit(url)
    addresses = _checked_addresses(url, resolve=True)
    connection_class = _PinnedHTTPSConnection if parts.scheme.lower() == "https" else _PinnedHTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    last_error: Exception = OSError("The host name resolved to no address.")
    for address in addresses:
        connection = connection_class(parts.hostname, _default_port(parts), address=address, timeout=TIMEOUT_SECONDS)
        try:
            connection.connect()
        except OSError as exc:  # try the name's next address
            connection.close()
            last_error = exc
            continue
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            status = response.status
            excerpt = "" if 300 <= status < 400 else _excerpt(response.read(4 * EXCERPT_CHARS))
            return status, excerpt
        finally:
            connection.close()
    raise last_error


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def _log_failure(delivery: WebhookDelivery) -> None:
    """One line per failed attempt, for whoever runs the worker: which subscription, which event,
    which attempt, what the receiver answered or what went wrong, and what happens next."""
    if delivery.status == WebhookDelivery.Status.PENDING and delivery.next_attempt_at:
        outcome = f"next attempt at {delivery.next_attempt_at.isoformat()}"
    else:
        outcome = "no more attempts"
    logger.warning(
        "Webhook delivery %s failed: subscription %s (%s), event %s (%s), attempt %s of %s, status %s, error %s; %s.",
        delivery.pk,
        delivery.subscription_id,
        delivery.subscription.target_url,
        delivery.event_id,
        delivery.topic,
        delivery.attempts,
        MAX_ATTEMPTS,
        delivery.response_status if delivery.response_status is not None else "none",
        delivery.error or "none",
        outcome,
    )


def webhook_delivery_send(delivery: WebhookDelivery) -> bool:
    """POST one delivery and record the outcome. Returns True when the receiver answered 2xx.

    A delivery about a record its subscription's owner may no longer see is skipped for good: its
    payload is dropped and nothing is POSTed."""
    subscription = delivery.subscription
    if not record_visible(subscription.owner, delivery.record_kind, delivery.record_id):
        delivery.status, delivery.next_attempt_at, delivery.error = WebhookDelivery.Status.SKIPPED, None, NOT_VISIBLE
        delivery.payload, delivery.response_body = {}, ""
        delivery.save()
        logger.info("Webhook delivery %s skipped: %s", delivery.pk, NOT_VISIBLE)
        WEBHOOK_DELIVERIES.labels(outcome="skipped").inc()
        return False
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    delivery.attempts += 1
    headers = signed_headers(delivery, body)
    delivery.response_status, delivery.response_body, delivery.error = None, "", ""
    try:
        delivery.response_status, delivery.response_body = _post(subscription.target_url, body, headers)
    except TargetRefused as exc:
        delivery.status, delivery.next_attempt_at, delivery.error = WebhookDelivery.Status.FAILED, None, str(exc)
        delivery.save()
        _log_failure(delivery)
        WEBHOOK_DELIVERIES.labels(outcome="failed").inc()
        return False
    except (OSError, ValueError, http.client.HTTPException) as exc:
        delivery.error = f"{type(exc).__name__}: {exc}"[:2000]
    status = delivery.response_status
    ok = status is not None and 200 <= status < 300
    if status is not None and 300 <= status < 400:
        delivery.error = REDIRECT
    now = timezone.now()
    if ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.Status.DELIVERED, now, None
        outcome = "delivered"
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
        outcome = "failed"
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        outcome = "retry"
    delivery.save()
    if not ok:
        _log_failure(delivery)
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
    return ok


def webhook_deliveries_send_due(
    *, limit: int = 100, event_id: int | None = None, delivery_id: int | None = None
) -> int:
    """Send pending deliveries that are due (only those of ``event_id``, or the one ``delivery_id``,
    when given). Rows are locked one at a time (SKIP LOCKED), so several workers never send the same
    delivery twice at once."""
    sent = 0
    # A paused subscription's deliveries wait, pending, until it is resumed.
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, subscription__active=True)
    if event_id is not None:
        pending = pending.filter(event_id=event_id)
    if delivery_id is not None:
        pending = pending.filter(pk=delivery_id)
    for _ in range(limit):
        with transaction.atomic():
            delivery = (
                pending.select_for_update(skip_locked=True, of=("self",))
                .select_related("subscription__owner")
                .exclude(next_attempt_at__gt=timezone.now())
                .order_by("created_at", "id")
                .first()
            )
            if delivery is None:
                break
            sent += webhook_delivery_send(delivery)
    return sent


def webhook_post(url: str, payload: dict) -> tuple[int, str]:
    """POST ``payload`` as JSON to ``url`` once, with the same guards as a subscription's delivery
    (public addresses only, no redirects followed, a short excerpt of the answer). For callers that
    log the outcome themselves (an automation rule's webhook action). Raises TargetRefused, OSError,
    ValueError or HTTPException when nothing was answered."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "SalesCRM-Automations/1"}
    return _post(url, body, headers)
