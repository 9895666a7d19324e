"""The transactional outbox: every side effect of a write goes through here.

A service calls :func:`event_emit` inside its transaction. The event row commits (or rolls back)
together with the change. After commit we ask Celery to deliver pending events; if the broker is
unreachable we log and move on, and the periodic ``outbox-sweep`` delivers them later.

Handlers subscribe to topics with :func:`subscribe`. A handler runs inside the transaction that
marks the event delivered, so database work it does (creating webhook deliveries, say) happens
exactly once; a handler that raises leaves the event pending for a retry with backoff.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import OutboxEvent

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)

MAX_ATTEMPTS = 12


def subscribe(*topics: str):
    """Register the decorated function for these topics (``"opportunity.won"`` or ``"*"``)."""

    def register(func: Handler) -> Handler:
        for topic in topics:
            if func not in _handlers[topic]:
                _handlers[topic].append(func)
        return func

    return register


def handlers_for(topic: str) -> list[Handler]:
    return [*_handlers.get(topic, []), *_handlers.get("*", [])]


def event_emit(topic: str, payload: dict) -> OutboxEvent:
    """Record a side effect of the current transaction; it is delivered after commit."""
    event = OutboxEvent.objects.create(topic=topic, payload=payload)
    # One dispatch per transaction is enough, however many events it wrote.
    pending = transaction.get_connection().run_on_commit
    if not any(func is request_dispatch for _savepoints, func, _robust in pending):
        transaction.on_commit(request_dispatch)
    return event


def request_dispatch() -> None:
    """Ask a worker to deliver pending events."""
    from .tasks import outbox_dispatch

    task_request(outbox_dispatch, waiting="outbox events")


def task_request(task, *, kwargs: dict | None = None, waiting: str) -> None:
    """Ask a worker to run ``task`` now. Never fails the caller: when the broker is down or
    unreachable the work stays in the database (``waiting``) and the beat sweep does it later."""
    try:
        task.apply_async(kwargs=kwargs or {}, retry=False)
    except Exception:
        logger.warning("Could not reach the task broker; %s wait for the next sweep.", waiting)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts * 5, 3600))


def outbox_deliver_pending(*, limit: int = 200) -> int:
    """Deliver due events, oldest first. Returns how many were delivered. Safe to run in parallel."""
    delivered = 0
    while True:
        with transaction.atomic():
            event = (
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(delivered_at__isnull=True, next_attempt_at__lte=timezone.now())
                .filter(attempts__lt=MAX_ATTEMPTS)
                .order_by("next_attempt_at", "id")
                .first()
            )
            if event is None:
                return delivered
            try:
                with transaction.atomic():
                    for handler in handlers_for(event.topic):
                        handler(event)
            except Exception as exc:  # a handler failed: retry later with backoff
                logger.exception("Outbox event %s (%s) failed", event.pk, event.topic)
                event.attempts += 1
                event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                event.next_attempt_at = timezone.now() + backoff(event.attempts)
                event.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            else:
                event.attempts += 1
                event.delivered_at = timezone.now()
                event.save(update_fields=["attempts", "delivered_at"])
                delivered += 1
        if delivered >= limit:
            return delivered
