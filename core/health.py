"""Readiness checks for a load balancer or Kubernetes: can this process serve requests?

Each check answers ``(ok, detail)``. Details never carry a host, a user name or an error message
(which can hold either): only what failed and the class of the error.
"""

import logging
import time
import uuid

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from .selectors import outbox_backlog

logger = logging.getLogger("crm.health")

# Once every migration is applied, a process never needs to ask again (they are not unapplied).
_migrations_applied: set[str] = set()


def _failure(exc: BaseException) -> dict:
    return {"ok": False, "error": type(exc).__name__}


def check_database() -> dict:
    """Every configured database answers ``SELECT 1``."""
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception as exc:
            logger.warning("Readiness: database %r unreachable (%s).", alias, type(exc).__name__)
            # A broken connection is not reused by the next check.
            connections[alias].close_if_unusable_or_obsolete()
            return {**_failure(exc), "database": alias}
    return {"ok": True}


def check_migrations() -> dict:
    """No migration of the code this process runs is left unapplied (a release migrated first)."""
    alias = DEFAULT_DB_ALIAS
    if alias in _migrations_applied:
        return {"ok": True}
    try:
        executor = MigrationExecutor(connections[alias])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return _failure(exc)
    if plan:
        return {"ok": False, "unapplied": len(plan)}
    _migrations_applied.add(alias)
    return {"ok": True}


def check_cache() -> dict:
    """The cache stores and returns a value. The Redis cache turns an outage into a miss (core/cache.py),
    so a value that does not come back is the failure."""
    key, value = f"crm:health:{uuid.uuid4().hex}", str(time.time())
    try:
        cache.set(key, value, timeout=10)
        came_back = cache.get(key)
        cache.delete(key)
    except Exception as exc:
        return _failure(exc)
    return {"ok": True} if came_back == value else {"ok": False, "error": "unreachable"}


def check_broker() -> dict:
    """The Celery broker accepts a connection, when tasks go through one (not when they run eagerly)."""
    app = current_app._get_current_object()
    if app.conf.task_always_eager:
        return {"ok": True, "broker": "none (tasks run in the web process)"}
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.CRM_HEALTH_BROKER_TIMEOUT)
            client = getattr(conn.default_channel, "client", None)
            if client is not None and hasattr(client, "ping"):  # Redis: connected is not answering
                client.ping()
    except Exception as exc:
        return _failure(exc)
    return {"ok": True}


def check_outbox() -> dict:
    """The outbox backlog is under ``CRM_HEALTH_OUTBOX_MAX_PENDING`` events."""
    limit = settings.CRM_HEALTH_OUTBOX_MAX_PENDING
    try:
        backlog = outbox_backlog(limit=limit)
    except Exception as exc:
        return _failure(exc)
    result = {
        "ok": backlog.pending <= limit,
        "pending": backlog.pending,
        "oldest_age_seconds": round(backlog.oldest_age),
    }
    if not result["ok"]:
        result["pending"] = f">{limit}"
    return result


CHECKS = {
    "database": check_database,
    "migrations": check_migrations,
    "cache": check_cache,
    "broker": check_broker,
    "outbox": check_outbox,
}


def readiness() -> tuple[bool, dict]:
    """Run every check; the database ones are skipped (as failed) when the database is down."""
    results = {"database": check_database()}
    for name, check in CHECKS.items():
        if name in results:
            continue
        if name in {"migrations", "outbox"} and not results["database"]["ok"]:
            results[name] = {"ok": False, "error": "database unreachable"}
            continue
        results[name] = check()
    return all(r["ok"] for r in results.values()), results
