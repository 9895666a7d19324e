"""Two of everything: two gunicorn instances, two Celery workers and exactly one beat against one
PostgreSQL database and one Redis (REDIS_URL), the way the README scales the CRM out.

Driven through both instances, at the same time where it matters: a session opened on one is valid
on the other (and a log-out on one ends it on both); two edits and two board moves of the same deal
from the same version, one per instance, released together: one wins, the other is told 412 / 409,
nothing is silently overwritten; an import uploaded on one instance, mapped on the other, run by
whichever worker takes it. Every write's webhook reaches a receiver on 127.0.0.1 once per event
(at-least-once, and with a receiver that always answers 200 there is no reason for a second copy),
and the kept deal totals equal the live sums (``manage.py check_deal_totals``).
"""

import http.server
import json
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
import requests
from django.conf import settings

from core.models import OutboxEvent
from integrations.models import WebhookDelivery, WebhookEvent
from integrations.services import api_token_create, webhook_create
from opportunities.models import Opportunity
from opportunities.tests.factories import OpportunityFactory

from .servers import BIN, ROOT, base_environment, service_port, start_gunicorn, stop

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

PASSWORD = "two-nodes-password-1"
ROUNDS = 4


class Receiver(http.server.ThreadingHTTPServer):
    """A webhook receiver: records the event id of every POST (and its delivery id), answers 200."""

    def __init__(self, port):
        self.received: list[tuple[int, str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the http.server API)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.received.append((body["id"], self.headers.get("X-CRM-Delivery", "")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", port), Handler)


@pytest.fixture
def receiver():
    server = Receiver(service_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def cluster(tmp_path):
    """Nodes A and B (gunicorn), two Celery workers and one beat, sharing the test database and REDIS_URL."""
    env = base_environment(
        DJANGO_SETTINGS_MODULE="crm.settings.base",
        REDIS_URL=settings.REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        # Our own cache namespace in the shared Redis: sessions and throttles of this run only.
        CACHE_KEY_PREFIX=f"two-nodes-{time.monotonic_ns()}",
        ALLOWED_HOSTS="127.0.0.1",
        WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
        API_THROTTLE_RATE="100000/hour",
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    celery = str(BIN / "celery")
    processes = []
    try:
        for name in ("a", "b"):
            processes.append(
                subprocess.Popen(  # noqa: S603 (our own arguments)
                    [celery, "-A", "crm", "worker", "--concurrency", "1", "-n", f"node-{name}@%h"]
                    + ["--loglevel", "WARNING", "--logfile", str(tmp_path / f"worker-{name}.log")],
                    cwd=ROOT,
                    env=env,
                )
            )
        processes.append(
            subprocess.Popen(  # noqa: S603 (our own arguments)
                [celery, "-A", "crm", "beat", "-s", str(tmp_path / "beat-schedule"), "--loglevel", "WARNING"]
                + ["--logfile", str(tmp_path / "beat.log")],
                cwd=ROOT,
                env=env,
            )
        )
        nodes = {}
        for name in ("a", "b"):
            port = service_port()
            processes.append(start_gunicorn(port, env, tmp_path, name=f"web-{name}", workers=1))
            nodes[name] = f"http://127.0.0.1:{port}"
        yield {"nodes": nodes, "env": env, "logs": tmp_path}
    finally:
        stop(*processes)


def with_password(user):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

    user.password = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    user.save(update_fields=["password"])
    return user


def browser() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def log_in(session, node, username):
    session.get(f"{node}/login/")
    response = session.post(
        f"{node}/login/",
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:300]


def together(*calls):
    """Run the calls at the same moment, one thread each; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(run, call) for call in calls]]


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    pytest.fail(f"Timed out after {timeout} s waiting for {what}")


def test_two_web_nodes_two_workers_one_beat(cluster, receiver, manager, rep, stages, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    a, b = cluster["nodes"]["a"], cluster["nodes"]["b"]
    with_password(manager)
    deals = [OpportunityFactory(owner=rep, stage=stages["New"], amount=1000 + n) for n in range(ROUNDS)]
    webhook_create(
        user=manager,
        target_url=f"http://127.0.0.1:{receiver.server_port}/hook",
        secret="two-nodes-test-secret",
        events=WebhookEvent.values,
    )
    _, token = api_token_create(user=manager, name="two nodes")
    api = browser()
    api.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})

    # --- A session opened on node A is valid on node B.
    on_a = browser()
    log_in(on_a, a, manager.username)
    on_b = browser()
    on_b.cookies.update(on_a.cookies)
    board_b = on_b.get(f"{b}/pipeline/", allow_redirects=False)
    assert board_b.status_code == 200 and deals[0].name in board_b.text

    # --- Races: the same deal, the same version, one write per node, released together.
    won_edits, won_moves = {}, {}

    def edit(node, deal, etag):
        url = f"{node}/api/v1/opportunities/{deal.pk}/"
        return api.patch(url, json={"next_step": f"call from {node}"}, headers={"If-Match": etag})

    def move(session, node, deal, stage, version):
        return session.post(
            f"{node}/pipeline/deals/{deal.pk}/move/",
            {"stage": stage.pk, "version": version},
            headers={"X-CSRFToken": session.cookies["csrftoken"], "Accept": "application/json"},
        )

    for deal in deals:
        etag = api.get(f"{a}/api/v1/opportunities/{deal.pk}/").headers["ETag"]
        edits = together(partial(edit, a, deal, etag), partial(edit, b, deal, etag))
        # The loser is refused either by If-Match (412: it read an older ETag) or, when both passed
        # that check at the same instant, by the version check under the row lock (409).
        assert sorted(r.status_code for r in edits) in ([200, 409], [200, 412]), [r.text[:200] for r in edits]
        won_edits[deal.pk] = next(r.json()["next_step"] for r in edits if r.status_code == 200)

        version = Opportunity.objects.get(pk=deal.pk).version
        moves = together(
            partial(move, on_a, a, deal, stages["Demo scheduled"], version),
            partial(move, on_b, b, deal, stages["Qualifying"], version),
        )
        assert sorted(r.status_code for r in moves) == [200, 409], [r.text[:200] for r in moves]
        won_moves[deal.pk] = next(r.json()["stage"] for r in moves if r.status_code == 200)

    for deal in deals:
        current = Opportunity.objects.get(pk=deal.pk)
        assert (current.next_step, current.stage_id) == (won_edits[deal.pk], won_moves[deal.pk])
        assert current.version == deal.version + 2  # one accepted edit, one accepted move: nothing else

    # --- An import: uploaded on A, mapped on B, run from A; a worker of either node runs it.
    rows = "Opportunity;Organization;Stage;Amount\n" + "".join(
        f"Imported {n};Importata {n} srl;New;{500 + n}\n" for n in range(10)
    )
    upload = on_a.post(
        f"{a}/imports/",
        {"kind": "opportunity", "csrfmiddlewaretoken": on_a.cookies["csrftoken"]},
        files={"file": ("deals.csv", rows.encode(), "text/csv")},
        allow_redirects=False,
    )
    assert upload.status_code == 302, upload.text[:500]
    job_url = upload.headers["Location"]
    mapped = on_b.post(
        f"{b}{job_url}",
        {"name": "Opportunity", "organization": "Organization", "stage": "Stage", "amount": "Amount"}
        | {"csrfmiddlewaretoken": on_b.cookies["csrftoken"]},
        allow_redirects=False,
    )
    assert mapped.status_code == 302, mapped.text[:2000]
    assert on_b.get(f"{b}{mapped.headers['Location']}").status_code == 200  # the preview
    run = on_a.post(f"{a}{job_url}run/", {"csrfmiddlewaretoken": on_a.cookies["csrftoken"]}, allow_redirects=False)
    assert run.status_code == 302
    from imports.models import ImportJob

    wait_until(lambda: ImportJob.objects.get().is_finished, 60, "the import job")
    job = ImportJob.objects.get()
    assert (job.status, job.created_count) == ("done", 10), (job.status, job.created_count, job.error)

    # --- Every side effect went out, each webhook event once.
    wait_until(
        lambda: (
            not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()
            and not WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).exists()
        ),
        60,
        "the outbox and the webhook deliveries",
    )
    deliveries = list(WebhookDelivery.objects.values_list("event_id", "status"))
    assert deliveries and {status for _, status in deliveries} == {WebhookDelivery.Status.DELIVERED}
    per_event = Counter(event_id for event_id, _ in receiver.received)
    assert set(per_event) == {event_id for event_id, _ in deliveries}
    duplicated = {event_id: count for event_id, count in per_event.items() if count > 1}
    assert not duplicated, f"events delivered more than once: {duplicated}"
    topics = set(OutboxEvent.objects.filter(pk__in=per_event).values_list("topic", flat=True))
    assert {"opportunity.updated", "opportunity.stage_changed", "opportunity.created"} <= topics

    # --- The kept totals equal the live sums.
    totals = subprocess.run(  # noqa: S603 (our own arguments)
        [str(BIN / "python"), "manage.py", "check_deal_totals"],
        cwd=ROOT,
        env=cluster["env"],
        capture_output=True,
        text=True,
    )
    assert totals.returncode == 0, totals.stdout + totals.stderr

    # --- A log-out on node B ends the session on node A too.
    out = on_b.post(f"{b}/logout/", {"csrfmiddlewaretoken": on_b.cookies["csrftoken"]}, allow_redirects=False)
    assert out.status_code == 302
    after = browser()
    after.cookies.update(on_a.cookies)
    assert after.get(f"{a}/pipeline/", allow_redirects=False).status_code == 302

    for name in ("worker-a", "worker-b", "beat", "web-a", "web-b"):
        log = (cluster["logs"] / f"{name}.log").read_text() if (cluster["logs"] / f"{name}.log").exists() else ""
        assert "Traceback" not in log and "ERROR" not in log, f"{name}.log:\n{log[-3000:]}"
