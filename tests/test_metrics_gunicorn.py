"""/metrics under gunicorn with several workers: every worker's samples, added up
(PROMETHEUS_MULTIPROC_DIR and crm/gunicorn_conf.py), and an access log line per request."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connections
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent
TOKEN = "gunicorn-metrics-token"
PORTS = range(9100, 9120)  # this suite's range for servers it starts


def _port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {PORTS}")


def _get(url: str, **headers) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http://127.0.0.1 only)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own server)
        return response.status, response.read().decode()


def test_metrics_add_up_every_gunicorn_worker(tmp_path):
    db = connections["default"].settings_dict
    port, multiproc = _port(), tmp_path / "prometheus"
    multiproc.mkdir()
    (multiproc / "counter_99999.db").write_bytes(b"left by a previous run")  # emptied at start
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "LOG_FORMAT"}}
    env.update(
        DJANGO_SETTINGS_MODULE="crm.settings.base",
        DATABASE_URL=(
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),
        LOG_FORMAT="json",
    )
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "crm.wsgi:application", "-c", "python:crm.gunicorn_conf"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}/health/live")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail((tmp_path / "gunicorn.log").read_text())
                time.sleep(0.2)
        for _ in range(30):
            assert _get(f"{base}/health/live", **{"X-Request-ID": "probe-1"})[0] == 200
        status, text = _get(f"{base}/metrics", Authorization=f"Bearer {TOKEN}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    assert status == 200
    total = sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "crm_http_requests_total" and sample.labels.get("view") == "health_live"
    )
    assert total == 31  # every probe, whichever worker answered it
    assert not (multiproc / "counter_99999.db").exists()
    output = (tmp_path / "gunicorn.log").read_text()
    access_lines = [line for line in output.splitlines() if '"GET /health/live HTTP/1.1" 200' in line]
    assert len(access_lines) == 31 and access_lines[-1].endswith(" probe-1"), output[-2000:]
