"""With the broker down a move still succeeds and its rule waits; when the broker is back a real
worker runs the rule, once (the real redis-server stopped and started, as the outbox test does)."""

import os
import shutil
import socket
import time

import pytest
from django.urls import reverse

from activities.models import Activity
from automations.models import ActionKind, RuleAction, RuleRun, Trigger
from automations.services import rule_save
from core.models import OutboxEvent
from opportunities.tests.factories import OpportunityFactory
from tests.redis_server import RedisServer, celery_pools_reset

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _port_in_my_range() -> int:
    """A free port of ``CRM_TEST_PORT_RANGE`` (this test's share of the machine), else any free one."""
    low, _dash, high = os.environ.get("CRM_TEST_PORT_RANGE", "").partition("-")
    candidates = range(int(high), int(low) - 1, -1) if low and high else [0]
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


@pytest.fixture
def own_broker(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    from crm.celery import app

    redis = RedisServer(_port_in_my_range(), tmp_path)
    redis.start()
    previous = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url = f"redis://127.0.0.1:{redis.port}/0"
    app.conf.task_always_eager = False
    celery_pools_reset()
    yield redis
    redis.stop()
    app.conf.broker_url, app.conf.task_always_eager = previous
    celery_pools_reset()


def test_a_rule_waits_for_the_broker_and_then_fires_once(client, manager, rep, stages, own_broker):
    from celery.contrib.testing.worker import start_worker

    from crm.celery import app

    demo = stages["Demo scheduled"]
    rule_save(
        user=manager,
        team=manager.team,
        name="Demo",
        trigger=Trigger.STAGE_ENTERED,
        trigger_stage=demo,
        actions=[RuleAction(kind=ActionKind.CREATE_ACTIVITY, text="Prepare the demo", due_days=2)],
    )
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    OutboxEvent.objects.update(delivered_at=OutboxEvent.objects.first().created_at)  # the set-up is not under test
    client.force_login(rep)

    own_broker.stop()
    moved = client.post(
        reverse("pipeline:move", args=[deal.pk]),
        {"stage": demo.pk, "version": deal.version},
        HTTP_ACCEPT="application/json",
    )
    assert moved.status_code == 200
    assert not Activity.objects.filter(opportunity=deal).exists()  # waiting in the outbox

    own_broker.start()
    celery_pools_reset()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        app.send_task("core.tasks.outbox_dispatch")  # what beat does every 30 s
        deadline = time.monotonic() + 30
        while OutboxEvent.objects.filter(delivered_at__isnull=True).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        app.send_task("core.tasks.outbox_dispatch")  # a second sweep finds nothing left to do
        time.sleep(1)

    assert list(Activity.objects.filter(opportunity=deal).values_list("subject", flat=True)) == ["Prepare the demo"]
    assert RuleRun.objects.filter(opportunity=deal).count() == 1
