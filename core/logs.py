"""Logging for operators: a request id that follows the work, and one line per request and per task.

``LOG_FORMAT=json`` (production's default) writes one JSON object per line, for a log shipper;
``LOG_FORMAT=text`` (the default with ``DEBUG``) writes lines people read. Both carry the request
id: the incoming ``X-Request-ID`` when it looks sane, else one made up here; it is echoed in the
response and travels with every Celery task the request queues (a task header, see
``core/observability.py``), so a request and the work it caused share one id.

This module is imported by the settings: it must not import Django models.
"""

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("crm_request_id", default="")

# Letters, digits and a few separators, at most 128 characters: enough for a UUID or a proxy's id,
# and nothing that could forge a log line or a header.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=-]{1,128}")

# What LogRecord carries anyway: not copied into a JSON line as an extra field.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def request_id_get() -> str:
    """The id of the request (or task) this code runs for; "" outside of one."""
    return _request_id.get()


def request_id_set(value: str) -> contextvars.Token:
    return _request_id.set(value)


def request_id_reset(token: contextvars.Token) -> None:
    _request_id.reset(token)


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_accept(incoming: str | None) -> str:
    """The client's (or proxy's) ``X-Request-ID`` when it is sane, else a new id."""
    if incoming and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return request_id_new()


class RequestIdFilter(logging.Filter):
    """Gives every record a ``request_id`` (empty outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and the record's extras
    (``logger.info("...", extra={"status": 200})`` becomes ``"status": 200``)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or None,
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def logging_config(*, log_format: str, level: str, tasks_eager: bool) -> dict:
    """The LOGGING setting for ``LOG_FORMAT`` ``json`` or ``text``."""
    if log_format not in {"json", "text"}:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT must be 'json' or 'text', not {log_format!r}.")
    formatter = {"()": JsonFormatter} if log_format == "json" else {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"crm": formatter},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "crm", "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Our own line per request replaces Django's (which logs 4xx/5xx again, unstructured).
            "django.server": {"level": "WARNING"},
            "axes": {"level": "WARNING"},
            # With eager tasks every after-commit dispatch would log a line in the web process.
            "celery.app.trace": {"level": "WARNING" if tasks_eager else "INFO"},
            # One line per request and per task (core/observability.py).
            "crm.request": {"level": "INFO"},
            "crm.task": {"level": "INFO"},
        },
    }


def sentry_init(dsn: str, *, environment: str = "", release: str = "") -> bool:
    """Report errors to Sentry (the official SDK) when a DSN is configured; nothing otherwise.
    No personal data is sent (no user e-mail, no IP address, no request body)."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=0.0,
    )
    return True
