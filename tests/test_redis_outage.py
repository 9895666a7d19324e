"""With Redis gone (the cache and the Celery broker), the CRM keeps working: log-in, pages, the
board, moves and the API answer from the database; the API throttle lets requests through; a write
does not wait for the broker; and when Redis is back the side effects written meanwhile go out.

The tests marked ``redis`` use the project's Redis settings (``REDIS_URL``) pointed at a
redis-server they start and stop themselves (never the machine's shared one). The others need no
Redis at all: a closed port is a Redis that is down.
"""

import logging
import os
import shutil
import time

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from contacts.tests.factories import OrganizationFactory
from core import cache as fault_tolerant_cache
from core import outbox
from core.breaker import Breaker
from core.models import OutboxEvent
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

from .redis_server import RedisServer, celery_pools_reset, free_port

PASSWORD = "test-password-123"
SESSION_KEY_PREFIX = "django.contrib.sessions.cached_db"


def _breakers_reset():
    fault_tolerant_cache.breakers_reset()
    outbox._broker_breakers.clear()


@pytest.fixture
def own_redis(settings, tmp_path):
    """Cache and broker on our own redis-server, with the project's cache and broker settings.

    The breaker windows are long (60 s) so that what the test counts cannot depend on how slow the
    machine is; a test ends an outage by setting them to 0 (the settings are read at each call)."""
    from crm.celery import app

    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    assert settings.CACHES["default"]["BACKEND"] != "django.core.cache.backends.locmem.LocMemCache"
    server = RedisServer(int(os.environ.get("CRM_TEST_REDIS_PORT") or free_port()), tmp_path)
    server.start()
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{server.port}/1"}}
    settings.CRM_CACHE_RETRY_AFTER = settings.CRM_BROKER_RETRY_AFTER = 60
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


def _cache_breaker() -> Breaker:
    return caches["default"]._state.breaker


def _broker_breaker() -> Breaker:
    from crm.celery import app

    return outbox._broker_breaker(app)


def _login(client: Client, user) -> None:
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home"), response.status_code
    assert client.get(reverse("home")).status_code == 200


def _session_cached(client: Client) -> bool:
    return caches["default"].has_key(SESSION_KEY_PREFIX + client.cookies["sessionid"].value)


def _move(client: Client, deal, stage):
    deal.refresh_from_db()
    return client.post(
        reverse("pipeline:move", args=[deal.pk]),
        {"stage": stage.pk, "version": deal.version},
        HTTP_ACCEPT="application/json",
    )


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)  # the stages fixture re-seeds the pipelines
def test_with_redis_stopped_the_crm_works_and_the_side_effects_go_out_when_it_is_back(own_redis, settings, rep, stages):
    from celery.contrib.testing.worker import start_worker

    from crm.celery import app

    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    org = OrganizationFactory(owner=rep)
    OutboxEvent.objects.update(delivered_at=OutboxEvent.objects.first().created_at)  # the set-up is not under test
    earlier = Client()
    _login(earlier, rep)
    assert _session_cached(earlier)  # Redis was there: the session is in the cache

    own_redis.stop()

    # A session made before the outage is read from the database.
    assert earlier.get(reverse("pipeline:board")).status_code == 200
    # Log-in works, and so does the session it makes.
    browser = Client()
    _login(browser, rep)
    assert browser.get(reverse("pipeline:board")).status_code == 200
    moved = _move(browser, deal, stages["Qualifying"])
    assert moved.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == stages["Qualifying"]
    # The API: a list and a create, through the session (the throttle cannot count: it lets them by).
    listed = browser.get("/api/v1/opportunities/")
    assert listed.status_code == 200 and deal.pk in [row["id"] for row in listed.json()["results"]]
    created = browser.post(
        "/api/v1/opportunities/",
        {"name": "Rinnovo licenze", "organization": org.pk, "amount": "1200.00", "stage": stages["New"].pk},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert _move(browser, deal, stages["Demo scheduled"]).status_code == 200
    assert earlier.post(reverse("logout")).status_code == 302

    # Each write asked the broker once at most: the first failure opened the breaker, the others
    # did not even try (no connection time-out paid per write). Likewise for the cache.
    assert (_broker_breaker().failures, _broker_breaker().skipped) == (1, 2)
    assert _cache_breaker().failures == 1 and _cache_breaker().skipped > 10
    pending = set(OutboxEvent.objects.filter(delivered_at__isnull=True).values_list("pk", flat=True))
    assert len(pending) >= 3  # two moves and a create, each with its events

    # Redis is back (empty: it kept nothing). The next write asks a worker, which delivers
    # everything pending, the outage's events included; and the cache is used again.
    own_redis.start()
    settings.CRM_CACHE_RETRY_AFTER = settings.CRM_BROKER_RETRY_AFTER = 0
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert _move(browser, deal, stages["Pending commitment"]).status_code == 200
        deadline = time.monotonic() + 30
        while OutboxEvent.objects.filter(delivered_at__isnull=True).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert not OutboxEvent.objects.filter(pk__in=pending, delivered_at__isnull=True).exists()
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()
    assert not _broker_breaker().is_down and not _cache_breaker().is_down
    assert browser.get(reverse("home")).status_code == 200
    assert _session_cached(browser)
    assert Opportunity.objects.filter(name="Rinnovo licenze").exists()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)  # the stages fixture re-seeds the pipelines
def test_a_hung_redis_costs_one_short_timeout_and_a_session_logged_out_meanwhile_stays_out(
    own_redis, settings, rep, stages
):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    leaver, stayer = Client(), Client()
    _login(leaver, rep)
    _login(stayer, rep)
    old_cookie = leaver.cookies["sessionid"].value
    assert _session_cached(leaver)

    own_redis.freeze()  # connections are accepted, nothing answers
    assert leaver.post(reverse("logout")).status_code == 302
    assert stayer.get(reverse("pipeline:board")).status_code == 200
    assert _move(stayer, deal, stages["Qualifying"]).status_code == 200
    assert _move(stayer, deal, stages["Demo scheduled"]).status_code == 200
    assert stayer.get("/api/v1/opportunities/").status_code == 200
    # One time-out each (a fraction of a second, see the configuration test), then Redis is skipped.
    assert _cache_breaker().failures == 1 and _cache_breaker().skipped > 5
    assert (_broker_breaker().failures, _broker_breaker().skipped) == (1, 1)

    # Redis answers again with everything it held, the session logged out above included (a network
    # partition, not a restart). The log-out it missed is applied first: the old cookie stays out.
    own_redis.thaw()
    settings.CRM_CACHE_RETRY_AFTER = 0
    replayed = Client()
    replayed.cookies["sessionid"] = old_cookie
    response = replayed.get(reverse("pipeline:board"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not caches["default"].has_key(SESSION_KEY_PREFIX + old_cookie)
    assert stayer.get(reverse("pipeline:board")).status_code == 200
    assert not _cache_breaker().is_down


# --- Without any Redis: a closed port is a Redis that is down (runs in every CI pass) -------------


@pytest.fixture
def dead_redis_url():
    _breakers_reset()
    yield f"redis://127.0.0.1:{free_port()}/0"
    _breakers_reset()


def test_a_dead_redis_costs_little_by_configuration(settings, dead_redis_url):
    """The cache and the broker give up fast and do not retry (a request pays this once per window)."""
    from crm.celery import app

    settings.CACHES = {"default": {"BACKEND": "core.cache.FaultTolerantRedisCache", "LOCATION": dead_redis_url}}
    pool = caches["default"]._cache._get_connection_pool(True)
    assert pool.connection_kwargs["socket_connect_timeout"] <= 0.5 and pool.connection_kwargs["socket_timeout"] <= 0.5
    assert pool.connection_kwargs["retry"].get_retries() == 0
    options = app.conf.broker_transport_options
    assert options["max_retries"] == 0 and not options["retry_on_timeout"]
    assert options["socket_connect_timeout"] <= 0.5 and options["socket_timeout"] <= 1
    assert app.conf.broker_connection_timeout <= 0.5
    assert settings.CRM_CACHE_RETRY_AFTER >= 1 and settings.CRM_BROKER_RETRY_AFTER >= 1


def test_with_the_cache_down_log_in_pages_the_board_and_the_api_answer(settings, rep, stages, dead_redis_url):
    settings.CACHES = {"default": {"BACKEND": "core.cache.FaultTolerantRedisCache", "LOCATION": dead_redis_url}}
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    browser = Client()
    _login(browser, rep)
    assert browser.get(reverse("pipeline:board")).status_code == 200
    assert _move(browser, deal, stages["Qualifying"]).status_code == 200
    assert browser.get("/api/v1/opportunities/").status_code == 200
    assert browser.post(reverse("logout")).status_code == 302
    assert browser.get(reverse("pipeline:board")).status_code == 302  # logged out for real
    assert _cache_breaker().failures == 1  # one refused connection; the rest skipped Redis


def test_the_api_throttle_lets_requests_through_when_its_cache_raises(settings, rep, dead_redis_url):
    """Even on Django's own Redis backend (which raises), the throttle is no reason for a 500."""
    from rest_framework.test import APIClient

    from integrations import throttling

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead_redis_url}
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    api = APIClient()
    api.force_authenticate(rep)
    try:
        codes = [api.get("/api/v1/stages/").status_code for _ in range(3)]
    finally:
        throttling._cache_breaker.reset()
    assert codes == [200, 200, 200]


def test_the_breaker_skips_for_its_window_and_logs_once_per_interval(caplog):
    # (celery's test worker leaves the root logger at ERROR: ask for the warnings explicitly)
    caplog.set_level(logging.WARNING, logger="crm.outage")
    now = [100.0]
    breaker = Breaker("Thing", retry_after=lambda: 5, fallback="doing without", log_every=60, clock=lambda: now[0])
    assert breaker.allows()
    breaker.failed(ConnectionError("refused"))
    assert not breaker.allows() and breaker.skipped == 1
    now[0] += 5
    assert breaker.allows()  # the window is over: try again
    for _ in range(13):  # more than a minute of failures, one every 5 s: a second line at 60 s
        breaker.failed(ConnectionError("refused"))
        now[0] += 5
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == ["Thing unreachable", "Thing unreachable"]
    assert "doing without" in caplog.records[0].getMessage()
    assert breaker.succeeded() and not breaker.is_down and breaker.allows()
    assert "Thing reachable again after 70 s (14 failed, 1 skipped calls)" in caplog.records[-1].getMessage()
    assert not breaker.succeeded()  # nothing more to say while it stays up
    assert len(caplog.records) == 3
