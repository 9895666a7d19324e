"""One structured line per request and per task, and a request id that follows the work."""

import io
import json
import logging
import time

import pytest
from django.urls import reverse

from core.logs import JsonFormatter, RequestIdFilter, logging_config
from opportunities.tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """What the crm.request and crm.task loggers write, as the production (JSON) handler writes it."""
    from crm.celery import app

    # Celery's first task lookup runs django.setup() again, which re-applies LOGGING: do it first.
    app.loader.import_default_modules()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    loggers = [logging.getLogger(name) for name in ("crm.request", "crm.task")]
    previous = [(lg.level, lg.disabled) for lg in loggers]

    def attach():  # again after something re-applied the logging configuration (a Celery worker)
        for lg in loggers:
            lg.addHandler(handler)
            lg.setLevel(logging.INFO)
            lg.disabled = False

    def read():
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    attach()
    read.attach = attach
    yield read
    for lg, (level, disabled) in zip(loggers, previous, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)
        lg.disabled = disabled


def test_one_json_line_per_request_with_the_fields_an_operator_needs(client, rep, json_lines):
    client.force_login(rep)
    response = client.get(reverse("home"), HTTP_X_REQUEST_ID="lb-7f3a-0001")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "lb-7f3a-0001"
    (line,) = [entry for entry in json_lines() if entry["logger"] == "crm.request"]
    assert line["request_id"] == "lb-7f3a-0001"
    assert (line["method"], line["path"], line["view"], line["status"]) == ("GET", "/", "home", 200)
    assert line["user_id"] == rep.pk
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert line["queries"] >= 2 and line["level"] == "INFO" and line["time"].endswith("+00:00")


def test_an_insane_request_id_is_replaced_and_a_missing_one_made_up(client, json_lines):
    forged = client.get("/health/live", HTTP_X_REQUEST_ID="x\nINFO fake line")
    missing = client.get("/health/live")
    too_long = client.get("/health/live", HTTP_X_REQUEST_ID="a" * 129)

    ids = [forged["X-Request-ID"], missing["X-Request-ID"], too_long["X-Request-ID"]]
    assert all(len(rid) == 32 and rid.isalnum() for rid in ids) and len(set(ids)) == 3
    assert [entry["request_id"] for entry in json_lines()] == ids
    assert [entry["user_id"] for entry in json_lines()] == [None] * 3


def _move(client, deal, stage, request_id):
    response = client.post(
        reverse("pipeline:move", args=[deal.pk]),
        {"stage": stage.pk, "version": deal.version},
        HTTP_ACCEPT="application/json",
        HTTP_X_REQUEST_ID=request_id,
    )
    assert response.status_code == 200, response.content
    assert response["X-Request-ID"] == request_id


@pytest.mark.django_db(transaction=True)
def test_a_task_logs_its_name_outcome_duration_and_the_request_id(client, rep, stages, json_lines):
    """Eager tasks (no broker): the outbox dispatch that the move queues after commit runs inside
    the request, and its line carries the move's id."""
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)
    written_before = len(json_lines())  # the factory's own writes queued a dispatch (with its own id)
    _move(client, deal, stages["Qualifying"], "move-42")

    tasks = [entry for entry in json_lines()[written_before:] if entry["logger"] == "crm.task"]
    dispatch = [entry for entry in tasks if entry["task"] == "core.tasks.outbox_dispatch"]
    assert dispatch, tasks
    assert {entry["request_id"] for entry in dispatch} == {"move-42"}
    assert dispatch[0]["outcome"] == "success" and dispatch[0]["duration_ms"] >= 0


@pytest.fixture
def memory_broker():
    """A real (in-process) Celery broker instead of eager tasks."""
    from crm.celery import app
    from tests.redis_server import celery_pools_reset

    previous = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = "memory://", False
    celery_pools_reset()
    yield app
    app.conf.broker_url, app.conf.task_always_eager = previous
    celery_pools_reset()


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_by_a_request_carries_its_request_id_in_the_message(client, rep, stages, memory_broker):
    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    with memory_broker.connection_for_read() as conn:  # what the factory's writes queued
        conn.default_channel.queue_purge("celery")
    client.force_login(rep)
    _move(client, deal, stages["Qualifying"], "move-43")

    with memory_broker.connection_for_read() as conn:
        message = conn.default_channel.basic_get("celery")
    assert message is not None, "the move queued no task"
    assert message.headers["task"] == "core.tasks.outbox_dispatch"
    assert message.headers["crm_request_id"] == "move-43"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_logs_the_request_id_of_the_request_that_queued_the_task(
    client, rep, stages, memory_broker, json_lines
):
    from celery.contrib.testing.worker import start_worker

    deal = OpportunityFactory(owner=rep, stage=stages["New"])
    client.force_login(rep)
    with start_worker(memory_broker, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        json_lines.attach()
        _move(client, deal, stages["Qualifying"], "move-44")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
            e["logger"] == "crm.task" and e["request_id"] == "move-44" for e in json_lines()
        ):
            time.sleep(0.1)
    # The worker ran the dispatch the move queued (and maybe the factory's, with its own id) in
    # another thread, from a message: the id came with it.
    dispatched = [e["request_id"] for e in json_lines() if e["logger"] == "crm.task"]
    assert "move-44" in dispatched, dispatched


def test_text_format_is_readable_and_json_is_one_object_per_line():
    record = logging.LogRecord("crm.request", logging.INFO, __file__, 1, "GET / 200", None, None)
    record.status = 200
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    assert json.loads(line)["status"] == 200 and "\n" not in line
    text = logging_config(log_format="text", level="INFO", tasks_eager=True)
    assert "%(request_id)s" in text["formatters"]["crm"]["format"]
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        logging_config(log_format="xml", level="INFO", tasks_eager=True)


def test_an_event_delivered_later_by_the_sweep_runs_under_the_request_id_that_wrote_it(
    django_capture_on_commit_callbacks,
):
    """The broker was down: the move's event waited in the outbox and the beat sweep (no request of
    its own) delivered it later. Its handlers, their log lines and the tasks they queue carry the
    id of the request that wrote the event, so an operator can follow one move end to end."""
    from django.db import transaction

    from core.logs import request_id_get, request_id_reset, request_id_set
    from core.outbox import _handlers, event_emit, outbox_deliver_pending, subscribe

    seen = []
    handler = subscribe("test.request_id")(lambda event: seen.append((event.pk, request_id_get())))
    try:
        token = request_id_set("move-45")
        try:
            with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
                event = event_emit("test.request_id", {})
        finally:
            request_id_reset(token)
        assert request_id_get() == "" and event.request_id == "move-45"

        assert outbox_deliver_pending() >= 1  # the sweep, outside of any request
        assert seen == [(event.pk, "move-45")]
        assert request_id_get() == ""  # and the sweep's own id is back afterwards
    finally:
        _handlers["test.request_id"].remove(handler)
