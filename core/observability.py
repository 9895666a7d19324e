"""One log line and a few metrics per request and per Celery task, and the request id between them.

The middleware comes first in ``MIDDLEWARE``: it times everything below it, counts the database
queries, and echoes the request id in ``X-Request-ID``. The Celery signal handlers put the current
request id in the headers of every task published (``before_task_publish``), take it back in the
worker (``task_prerun``) and log and count the task when it ends (``task_postrun``). A task queued
by beat or from the shell gets its own id (the task id).
"""

import contextlib
import logging
import time

from celery import signals
from django.conf import settings
from django.core.signals import request_finished
from django.db import connections
from django.dispatch import receiver
from django.utils.functional import empty

from . import metrics
from .logs import request_id_accept, request_id_get, request_id_reset, request_id_set

request_logger = logging.getLogger("crm.request")
task_logger = logging.getLogger("crm.task")

REQUEST_ID_HEADER = "X-Request-ID"
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
TASK_HEADER = "crm_request_id"


class _QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _user_id(request) -> int | None:
    """The user's id if this request already knew who it was (never a query just for the log line)."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


def _view_name(request) -> str:
    if getattr(request, "view_name", None):  # answered by a middleware (the health checks)
        return request.view_name
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"
    return match.view_name or match._func_path


def _sentry_tag(request_id: str) -> None:
    """Errors reported to Sentry carry the request id, to find their log lines."""
    if settings.SENTRY_DSN:
        import sentry_sdk

        sentry_sdk.set_tag("request_id", request_id)


class RequestObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_accept(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        # Kept until the response is closed (request_finished below): Django logs a 4xx/5xx after
        # the middlewares return, and that line carries the id too.
        request_id_set(request_id)
        _sentry_tag(request_id)
        counter = _QueryCounter()
        started = time.perf_counter()
        wrappers = [connections[alias].execute_wrapper(counter) for alias in connections]
        for wrapper in wrappers:
            wrapper.__enter__()
        try:
            response = self.get_response(request)
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        duration = time.perf_counter() - started
        response[REQUEST_ID_HEADER] = request_id
        self._record(request, response.status_code, duration, counter.count)
        return response

    @staticmethod
    def _record(request, status: int, duration: float, queries: int) -> None:
        view = _view_name(request)
        # Labels stay a small set whatever clients send: unknown methods are "other".
        method = request.method if request.method in _METHODS else "other"
        metrics.HTTP_REQUESTS.labels(view=view, method=method, status=str(status)).inc()
        metrics.HTTP_LATENCY.labels(view=view).observe(duration)
        metrics.HTTP_QUERIES.labels(view=view).observe(queries)
        duration_ms = round(duration * 1000, 1)
        request_logger.info(
            "%s %s %s %.1fms %dq",
            request.method,
            request.path,
            status,
            duration_ms,
            queries,
            extra={
                "method": request.method,
                "path": request.path,
                "view": view,
                "status": status,
                "duration_ms": duration_ms,
                "queries": queries,
                "user_id": _user_id(request),
            },
        )


@receiver(request_finished, dispatch_uid="crm_request_id_clear")
def _request_id_clear(**_kwargs):
    request_id_set("")


# --- Celery ---------------------------------------------------------------------------------------
_running: dict[str, tuple[float, object]] = {}


@signals.before_task_publish.connect(weak=False)
def _request_id_to_task(headers=None, **_kwargs):
    request_id = request_id_get()
    if request_id and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


@signals.task_prerun.connect(weak=False)
def _task_started(task_id=None, task=None, **_kwargs):
    # A worker finds the header on the task's request; an eager task runs inside the request itself.
    request_id = getattr(task.request, TASK_HEADER, None) or request_id_get() or task_id
    _running[task_id] = (time.perf_counter(), request_id_set(request_id))
    _sentry_tag(request_id)


@signals.task_postrun.connect(weak=False)
def _task_finished(task_id=None, task=None, state=None, **_kwargs):
    started, token = _running.pop(task_id, (None, None))
    duration = time.perf_counter() - started if started is not None else 0.0
    outcome = {"SUCCESS": "success", "FAILURE": "failure", "RETRY": "retry"}.get(state or "", (state or "").lower())
    metrics.TASKS.labels(task=task.name, outcome=outcome).inc()
    metrics.TASK_LATENCY.labels(task=task.name).observe(duration)
    duration_ms = round(duration * 1000, 1)
    task_logger.info(
        "task %s %s %.1fms",
        task.name,
        outcome,
        duration_ms,
        extra={"task": task.name, "task_id": task_id, "outcome": outcome, "duration_ms": duration_ms},
    )
    if token is not None:
        # ValueError: set in another context (a thread pool); nothing to restore there.
        with contextlib.suppress(ValueError):
            request_id_reset(token)
