"""The transactional outbox: every side effect of a write goes through here.

A service calls :func:`event_emit` inside its transaction. The event row commits (or rolls back)
together with the change. After commit we ask Celery to deliver pending events; if the broker is
unreachable we log (once a minute at most) and move on without trying again for a few seconds,
and the periodic ``outbox-sweep`` delivers them later.

Handlers subscribe to topics with :func:`subscribe`. A handler runs inside the transaction that
marks the event delivered, so database work it does (creating webhook deliveries, say) happens
exactly once; a handler that raises leaves the event pending for a retry with backoff.
"""

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

import kombu.exceptions
import redis.exceptions
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.utils.url import maybe_sanitize_url

from .breaker import Breaker
from .logs import request_id_get, request_id_reset, request_id_set
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
    event = OutboxEvent.objects.create(topic=topic, payload=payload, request_id=request_id_get()[:64])
    # One dispatch per transaction is enough, however many events it wrote.
    pending = transaction.get_connection().run_on_commit
    if not any(func is request_dispatch for _savepoints, func, _robust in pending):
        transaction.on_commit(request_dispatch)
    return event


def events_emit(events: list[tuple[str, dict]]) -> list[OutboxEvent]:
    """:func:`event_emit` for many events at once (``(topic, payload)`` pairs): one INSERT per
    thousand rows, for services that change many records in one transaction (a bulk stage move)."""
    if not events:
        return []
    request_id = request_id_get()[:64]
    rows = OutboxEvent.objects.bulk_create(
        [OutboxEvent(topic=topic, payload=payload, request_id=request_id) for topic, payload in events],
        batch_size=1000,
    )
    pending = transaction.get_connection().run_on_commit
    if not any(func is request_dispatch for _savepoints, func, _robust in pending):
        transaction.on_commit(request_dispatch)
    return rows


def request_dispatch() -> None:
    """Ask a worker to deliver pending events."""
    task_request("core.tasks.outbox_dispatch", waiting="outbox events")


_tasks_import_lock = threading.Lock()


def registered_task(name: str):
    """The Celery task called ``name``. Code below the tasks (services, the outbox) asks for a task
    by name instead of importing it: tasks import services, never the other way round. A process
    that has not imported every app's tasks.py yet (a web process) does so now, as a worker does
    when it starts; a name no app defines is a KeyError, not a silently lost job."""
    app = current_app._get_current_object()
    if name not in app.tasks:
        # One thread imports, the others wait for it: a thread that saw the import half done found
        # no task yet (50 web-form posts at once, each in its own thread).
        with _tasks_import_lock:
            if name not in app.tasks:
                app.loader.import_default_modules()  # Celery's autodiscovery (crm/celery.py)
    return app.tasks[name]


def task_request(task_name: str, *, kwargs: dict | None = None, waiting: str) -> None:
    """Ask a worker to run the task called ``task_name`` now. Never fails the caller: when the
    broker is down or unreachable the work stays in the database (``waiting``) and the beat sweep
    does it later.

    Never slows the caller much either: one publish attempt with short time-outs (settings), and
    after a broker failure this process does not try again for ``CRM_BROKER_RETRY_AFTER`` seconds;
    the sweep delivers what those writes left behind."""
    task = registered_task(task_name)
    app = task.app
    if app.conf.task_always_eager:  # no broker: the task runs here and now
        try:
            task.apply_async(kwargs=kwargs or {}, retry=False)
        except Exception:
            logger.exception("Task %s failed; %s wait for the next sweep.", task.name, waiting)
        return
    breaker = _broker_breaker(app)
    if not breaker.allows():
        logger.debug("Task broker down; %s wait for the next sweep.", waiting)
        return
    try:
        task.apply_async(kwargs=kwargs or {}, retry=False)
    except BROKER_ERRORS as exc:
        breaker.failed(exc)
        logger.debug("Could not reach the task broker; %s wait for the next sweep.", waiting)
    except Exception:
        logger.exception("Could not queue task %s; %s wait for the next sweep.", task.name, waiting)
    else:
        breaker.succeeded()


# What "the broker is not there" looks like when publishing (kombu wraps most of it).
BROKER_ERRORS = (
    kombu.exceptions.OperationalError,
    kombu.exceptions.ConnectionError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
)
_broker_breakers: dict[str, Breaker] = {}


def _broker_breaker(app) -> Breaker:
    """One breaker per broker URL and process."""
    url = str(app.conf.broker_url or "")
    breaker = _broker_breakers.get(url)
    if breaker is None:
        breaker = _broker_breakers.setdefault(
            url,
            Breaker(
                f"Task broker ({maybe_sanitize_url(url)})",
                retry_after=lambda: getattr(settings, "CRM_BROKER_RETRY_AFTER", 10),
                fallback="writes succeed and their side effects wait in the outbox for the beat sweep",
            ),
        )
    return breaker


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
            # The handlers (and the tasks they queue) log under the id of the request that wrote it.
            token = request_id_set(event.request_id or request_id_get())
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
            finally:
                request_id_reset(token)
        if delivered >= limit:
            return delivered
