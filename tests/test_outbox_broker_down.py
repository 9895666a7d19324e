"""With the broker down, moves and edits still succeed; when it is back, their side effects go out,
once. The broker is a redis-server this test starts on a free port and stops itself (never the
machine's shared Redis); the deliveries are made by a real Celery worker consuming from it."""

import shutil
import time

import pytest
from django.urls import reverse

from core import outbox
from core.models import OutboxEvent
from opportunities.tests.factories import OpportunityFactory

from .redis_server import RedisServer, celery_pools_reset, free_port

# No serialized rollback: the stages fixture re-seeds the pipelines after another test's flush.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TOPICS = ("opportunity.stage_changed", "opportunity.updated", "organization.updated")


@pytest.fixture
def own_broker(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    from crm.celery import app

    reset_pools = celery_pools_reset
    redis = RedisServer(free_port(), tmp_path)
    redis.start()
    previous = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url = f"redis://127.0.0.1:{redis.port}/0"
    app.conf.task_always_eager = False
    reset_pools()
    redis.reset_pools = reset_pools
    yield redis
    redis.stop()
    app.conf.broker_url, app.conf.task_always_eager = previous
    reset_pools()


@pytest.fixture
def delivered():
    """What the handlers receive, per event id (registered for this test only)."""
    seen = []

    def record(event):
        seen.append(event.pk)

    outbox.subscribe(*TOPICS)(record)
    yield seen
    for topic in TOPICS:
        outbox._handlers[topic].remove(record)


def test_moves_and_edits_succeed_with_the_broker_down_and_their_effects_go_out_once_it_is_back(
    client, rep, stages, own_broker, delivered
):
    from celery.contrib.testing.worker import start_worker

    from crm.celery import app

    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    OutboxEvent.objects.update(delivered_at=OutboxEvent.objects.first().created_at)  # the set-up is not under test
    client.force_login(rep)

    own_broker.stop()
    started = time.monotonic()
    moved = client.post(
        reverse("pipeline:move", args=[deal.pk]),
        {"stage": stages["Demo scheduled"].pk, "version": deal.version},
        HTTP_ACCEPT="application/json",
    )
    edited = client.patch(
        f"/api/v1/opportunities/{deal.pk}/", {"next_step": "Richiamare lunedì"}, content_type="application/json"
    )
    org_edited = client.patch(
        f"/api/v1/organizations/{deal.organization_id}/", {"city": "Torino"}, content_type="application/json"
    )
    took = time.monotonic() - started

    assert (moved.status_code, edited.status_code, org_edited.status_code) == (200, 200, 200)
    assert took < 20, f"writes waited {took:.1f}s for a dead broker"
    deal.refresh_from_db()
    assert deal.stage == stages["Demo scheduled"] and deal.next_step == "Richiamare lunedì"
    pending = list(OutboxEvent.objects.filter(delivered_at__isnull=True).order_by("id"))
    assert {e.topic for e in pending} >= set(TOPICS)
    assert delivered == []  # nothing went out while the broker was down

    own_broker.start()
    own_broker.reset_pools()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # What beat does every 30 s: ask a worker, through the broker, to deliver what is pending.
        app.send_task("core.tasks.outbox_dispatch")
        deadline = time.monotonic() + 30
        while OutboxEvent.objects.filter(delivered_at__isnull=True).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        app.send_task("core.tasks.outbox_dispatch")  # a second sweep finds nothing left to do
        time.sleep(1)

    assert not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()
    ours = [e.pk for e in pending if e.topic in TOPICS]
    assert sorted(delivered) == sorted(ours), "each effect exactly once"
    assert set(OutboxEvent.objects.filter(pk__in=[e.pk for e in pending]).values_list("attempts", flat=True)) == {1}
