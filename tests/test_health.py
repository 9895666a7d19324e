"""/health/live and /health/ready: what a load balancer or Kubernetes asks. Readiness fails when
PostgreSQL or Redis goes away and recovers when they are back; nothing secret is revealed."""

import json
import shutil
import socket

import pytest
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from core import health
from core.models import OutboxEvent

from .redis_server import RedisServer, celery_pools_reset, free_port
from .test_redis_outage import _breakers_reset


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ready(client, **extra):
    response = client.get("/health/ready", **extra)
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


@pytest.mark.django_db
def test_live_answers_without_login_database_or_session(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")
    assert (response.status_code, json.loads(response.content)) == (200, {"status": "ok"})
    assert "Set-Cookie" not in response and "sessionid" not in response.cookies


@pytest.mark.django_db
def test_ready_says_what_it_checked_and_reveals_no_secret(client, settings):
    status, body = ready(client)
    assert status == 200 and body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "cache", "broker", "outbox"}
    assert all(check["ok"] for check in body["checks"].values())
    text = json.dumps(body)
    db = settings.DATABASES["default"]
    for secret in (db["NAME"], db.get("HOST"), db.get("PASSWORD"), settings.SECRET_KEY, settings.CELERY_BROKER_URL):
        if secret and len(str(secret)) > 3:
            assert str(secret) not in text


@pytest.mark.django_db
def test_probes_need_no_allowed_host_and_no_https(client, settings):
    """A load balancer calls the address (an IP as Host) over plain HTTP."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/health/live", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/health/ready", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/login/", HTTP_HOST="10.1.2.3:8000").status_code == 400  # the rest still checks


@pytest.mark.django_db
def test_ready_fails_with_a_big_outbox_backlog_and_recovers_when_it_drains(client, settings):
    settings.CRM_HEALTH_OUTBOX_MAX_PENDING = 2
    events = [OutboxEvent.objects.create(topic="test.backlog", payload={}) for _ in range(3)]
    status, body = ready(client)
    assert status == 503 and body["status"] == "fail"
    assert body["checks"]["outbox"] == {"ok": False, "pending": ">2", "oldest_age_seconds": 0}
    OutboxEvent.objects.filter(pk=events[0].pk).update(delivered_at=events[0].created_at)
    assert ready(client)[0] == 200


@pytest.mark.django_db
def test_ready_fails_while_a_migration_is_not_applied(client):
    """A release's code started before `migrate`: not ready until the migrations are applied."""
    health._migrations_applied.clear()
    applied = MigrationRecorder.Migration.objects.filter(app="core").order_by("-id").first()
    applied.delete()
    status, body = ready(client)
    assert status == 503 and body["checks"]["migrations"] == {"ok": False, "unapplied": 1}
    MigrationRecorder.Migration.objects.create(app=applied.app, name=applied.name)
    assert ready(client)[0] == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ready_fails_when_postgresql_is_unreachable_and_recovers(client):
    """This process loses PostgreSQL (its address now refuses connections), then finds it again."""
    connection = connections["default"]
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(_closed_port())
    try:
        status, body = ready(client)
        assert status == 503 and body["status"] == "fail"
        assert body["checks"]["database"] == {"ok": False, "error": "OperationalError", "database": "default"}
        assert body["checks"]["outbox"]["ok"] is False and body["checks"]["cache"]["ok"] is True
        assert client.get("/health/live").status_code == 200  # alive: do not restart it
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
    status, body = ready(client)
    assert status == 200, body


@pytest.fixture
def own_redis(settings, tmp_path):
    """Cache and broker on a redis-server of our own (never the machine's shared one)."""
    from crm.celery import app

    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(free_port(), tmp_path)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FaultTolerantRedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.port}/1",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
    settings.CRM_CACHE_RETRY_AFTER = settings.CRM_BROKER_RETRY_AFTER = 0
    previous = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url = f"redis://127.0.0.1:{server.port}/0"
    app.conf.task_always_eager = False
    celery_pools_reset()
    _breakers_reset()
    yield server
    server.stop()
    app.conf.broker_url, app.conf.task_always_eager = previous
    celery_pools_reset()
    _breakers_reset()


@pytest.mark.redis
@pytest.mark.django_db
def test_ready_fails_when_redis_stops_and_recovers_when_it_is_back(client, own_redis):
    status, body = ready(client)
    assert status == 200, body
    assert body["checks"]["broker"] == {"ok": True} and body["checks"]["cache"] == {"ok": True}

    own_redis.stop()
    status, body = ready(client)
    assert status == 503
    assert body["checks"]["cache"] == {"ok": False, "error": "unreachable"}
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"] == {"ok": True}
    assert str(own_redis.port) not in json.dumps(body)

    own_redis.start()
    celery_pools_reset()
    status, body = ready(client)
    assert status == 200, body
