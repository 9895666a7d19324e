"""Prometheus metrics (``prometheus-client``), served on ``/metrics`` (core/views.py).

Counters and histograms are recorded where things happen: each request (core/observability.py),
each Celery task (signals, same module), each webhook delivery (integrations/webhooks.py), each
e-mail poll (``EMAIL_POLLS``, for the mailbox integration to record). Gauges that describe the
database (the outbox backlog and the age of its oldest event, import jobs and webhook deliveries
by status) are computed when Prometheus scrapes, by :class:`DatabaseCollector`.

Several processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (to an empty directory, the same for the
gunicorn workers and the Celery workers of one machine) every process writes its samples there and
``/metrics`` adds them up (``prometheus_client.multiprocess``); gunicorn.conf.py empties it at
start and removes the files of a worker that exits. Without it a process reports its own samples.
"""

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Requests: by view (its URL name, a bounded set) and status.
HTTP_REQUESTS = Counter("crm_http_requests", "HTTP requests by view, method and status.", ["view", "method", "status"])
HTTP_LATENCY = Histogram(
    "crm_http_request_duration_seconds",
    "Time to answer an HTTP request, by view.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_QUERIES = Histogram(
    "crm_http_request_db_queries",
    "Database queries made to answer an HTTP request, by view.",
    ["view"],
    buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200),
)
# Celery tasks: by task name and outcome (success, failure, retry).
TASKS = Counter("crm_celery_tasks", "Celery tasks run, by task name and outcome.", ["task", "outcome"])
TASK_LATENCY = Histogram(
    "crm_celery_task_duration_seconds",
    "Time a Celery task ran, by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0),
)
# Webhook delivery attempts: delivered, retry (will try again), failed (given up), skipped.
WEBHOOK_DELIVERIES = Counter("crm_webhook_deliveries", "Webhook delivery attempts by outcome.", ["outcome"])
# E-mail polling: every mailbox poll (mail.services.mailbox_poll) records ok / error and what it fetched.
EMAIL_POLLS = Counter("crm_email_polls", "Mailbox polls by outcome.", ["outcome"])
EMAIL_POLLED_MESSAGES = Counter("crm_email_polled_messages", "E-mail messages fetched by mailbox polls.")


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: a few cheap, indexed queries per scrape."""

    def collect(self):
        from .selectors import ops_snapshot

        snapshot = ops_snapshot()
        yield GaugeMetricFamily(
            "crm_outbox_pending_events", "Outbox events not delivered yet (backlog).", value=snapshot.outbox_pending
        )
        yield GaugeMetricFamily(
            "crm_outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered outbox event (0 when none).",
            value=snapshot.outbox_oldest_age,
        )
        yield GaugeMetricFamily(
            "crm_outbox_failed_events", "Outbox events that ran out of attempts.", value=snapshot.outbox_failed
        )
        for name, documentation, counts in (
            ("crm_import_jobs", "Import jobs by status.", snapshot.import_jobs),
            ("crm_webhook_deliveries_by_status", "Webhook deliveries by current status.", snapshot.webhook_deliveries),
        ):
            family = GaugeMetricFamily(name, documentation, labels=["status"])
            for status, count in sorted(counts.items()):
                family.add_metric([status], count)
            yield family


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def metrics_render() -> tuple[bytes, str]:
    """The exposition text: this process's (or every process's, in multiprocess mode) samples plus
    the database gauges."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessRegistry())
    registry.register(DatabaseCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _ProcessRegistry(Collector):
    """The default registry (our counters plus the process and Python collectors), re-exposed."""

    def collect(self):
        yield from REGISTRY.collect()
