"""The outbox: side effects commit with the change, go out after commit, and survive a dead broker."""

import socket

import pytest
from django.db import transaction
from django.utils import timezone

from core import outbox
from core.models import OutboxEvent
from core.outbox import event_emit, outbox_deliver_pending, subscribe
from opportunities.services import opportunity_move_stage
from opportunities.tests.factories import OpportunityFactory

# No serialized rollback: the stages fixture re-seeds the pipelines after another test's flush.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def recorded():
    """A handler that records what it receives (registered for the test only)."""
    seen = []

    def handler(event):
        seen.append((event.topic, event.payload))

    subscribe("test.recorded")(handler)
    yield seen
    outbox._handlers["test.recorded"].remove(handler)


def test_an_event_is_delivered_after_commit(recorded):
    with transaction.atomic():
        event_emit("test.recorded", {"n": 1})
        assert recorded == []
    assert recorded == [("test.recorded", {"n": 1})]
    assert OutboxEvent.objects.get().delivered_at is not None


def test_an_event_of_a_rolled_back_transaction_never_happens(recorded):
    with pytest.raises(RuntimeError), transaction.atomic():
        event_emit("test.recorded", {"n": 1})
        raise RuntimeError("the change failed")
    assert recorded == []
    assert not OutboxEvent.objects.exists()


def test_a_failing_handler_leaves_the_event_pending_with_backoff():
    calls = []

    def flaky(event):
        calls.append(event.pk)
        if len(calls) == 1:
            raise ConnectionError("receiver down")

    subscribe("test.flaky")(flaky)
    try:
        event_emit("test.flaky", {})
        event = OutboxEvent.objects.get()
        assert event.delivered_at is None
        assert event.attempts == 1
        assert "receiver down" in event.last_error
        assert event.next_attempt_at > timezone.now()

        OutboxEvent.objects.update(next_attempt_at=timezone.now())
        assert outbox_deliver_pending() == 1
        assert OutboxEvent.objects.get().delivered_at is not None
    finally:
        outbox._handlers["test.flaky"].remove(flaky)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_with_the_broker_down_a_move_still_succeeds_and_its_events_wait(rep, stages):
    """A real broker URL on a closed port: publishing fails fast, the move commits, events stay pending."""
    from crm.celery import app

    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    OutboxEvent.objects.update(delivered_at=timezone.now())
    previous = app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = f"redis://127.0.0.1:{_closed_port()}/0"
    try:
        moved = opportunity_move_stage(opportunity=deal, stage=stages["Won"], user=rep)
    finally:
        app.conf.broker_url = previous
        app.conf.task_always_eager = True
        # Drop the pools holding connections to the dead broker; the next publisher builds fresh ones.
        from kombu import pools

        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    assert moved.status == "won"
    pending = OutboxEvent.objects.filter(delivered_at__isnull=True)
    assert sorted(pending.values_list("topic", flat=True)) == ["opportunity.stage_changed", "opportunity.won"]
    # When the broker is back, the sweep delivers them.
    assert outbox_deliver_pending() == 2
