"""Real servers for the deployment tests (nginx in front of gunicorn, two web nodes with their Celery
workers): free ports, the test database's URL for the processes, starting and stopping them.

Ports come from ``CRM_TEST_PORT_RANGE`` (``9200-9249``) when it is set, so that several checkouts
on one machine stay out of each other's way; otherwise the system hands out free ones.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
_taken: set[int] = set()


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def service_port() -> int:
    """A free 127.0.0.1 port, from ``CRM_TEST_PORT_RANGE`` when set; never one handed out before."""
    spec = os.environ.get("CRM_TEST_PORT_RANGE", "")
    if spec:
        low, _, high = spec.partition("-")
        ports = range(int(low), int(high) + 1)
        # Under pytest-xdist each worker takes its own share of the range: two workers never race
        # for the same port.
        worker, workers = os.environ.get("PYTEST_XDIST_WORKER", ""), os.environ.get("PYTEST_XDIST_WORKER_COUNT")
        if worker.startswith("gw") and workers:
            ports = ports[int(worker[2:]) :: int(workers)]
        for port in ports:
            if port not in _taken and _is_free(port):
                _taken.add(port)
                return port
        raise RuntimeError(f"No free port left in CRM_TEST_PORT_RANGE={spec}")
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _taken:
            _taken.add(port)
            return port


def required_program(name: str, install: str, *extra_paths: str) -> str:
    """The path of ``name``; skipped loudly on a laptop without it, a failure where
    ``CRM_REQUIRE_SERVICES=1`` says every service is installed (CI's second pass)."""
    found = shutil.which(name) or next((p for p in extra_paths if os.access(p, os.X_OK)), None)
    if found:
        return found
    message = f"{name.upper()} NOT INSTALLED: this test was skipped ({install})."
    if os.environ.get("CRM_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} CRM_REQUIRE_SERVICES=1 says it must run here.")
    pytest.skip(message)


def running_database_url() -> str:
    """The URL of the database this test run uses (test_<name>), for processes started beside it."""
    from django.db import connection

    s = connection.settings_dict
    user = urllib.parse.quote(s["USER"] or "", safe="")
    password = ":" + urllib.parse.quote(s["PASSWORD"], safe="") if s["PASSWORD"] else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def base_environment(**overrides) -> dict:
    """The environment of a CRM process: the test database, a random key, no inherited settings module."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL", "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER")
    }
    env.update(
        DATABASE_URL=running_database_url(),
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )
    env.update(overrides)
    return env


def wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout:.0f} s")


def start_gunicorn(port: int, env: dict, logdir: Path, *, name: str = "web", workers: int = 2) -> subprocess.Popen:
    """gunicorn serving the CRM on 127.0.0.1:<port>, its access and error logs in ``logdir``."""
    process = subprocess.Popen(  # noqa: S603 (our own arguments)
        [str(BIN / "gunicorn"), "crm.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", str(workers), "--timeout", "60", "--log-level", "warning"]
        + ["--access-logfile", str(logdir / f"{name}-access.log"), "--error-logfile", str(logdir / f"{name}.log")],
        cwd=ROOT,
        env=env,
    )
    wait_for_port(port, process, f"gunicorn ({name})")
    return process


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
    for process in processes:
        if process is None:
            continue
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
