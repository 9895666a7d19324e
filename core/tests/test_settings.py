"""Production settings refuse to start half-configured; the defaults run on a laptop."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "x" * 60


def load_production(**env):
    ours = {
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "CRM_ALLOW_NO_REDIS",
        "LOG_FORMAT",
        "SENTRY_DSN",
    }
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    clean.update(env, DJANGO_SETTINGS_MODULE="crm.settings.production")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({}, "SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL"),
        ({"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "crm.example.com"}, "DATABASE_URL"),
        (
            {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "crm.example.com", "DATABASE_URL": "sqlite:////tmp/x.db"},
            "PostgreSQL",
        ),
        (
            {"SECRET_KEY": "short", "ALLOWED_HOSTS": "x", "DATABASE_URL": "postgres://u@127.0.0.1/db"},
            "SECRET_KEY must be a long random value",
        ),
    ],
)
def test_production_refuses_to_start_without_real_configuration(env, complaint):
    result = load_production(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


CONFIGURED = {
    "SECRET_KEY": GOOD_KEY,
    "ALLOWED_HOSTS": "crm.example.com",
    "DATABASE_URL": "postgres://u@127.0.0.1:5432/db",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def test_production_starts_when_configured():
    result = load_production(**CONFIGURED)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout
    assert "WARNING" not in result.stderr


def test_production_refuses_to_limp_without_redis():
    """No broker (tasks inside web requests) and no shared cache: refused, unless said on purpose."""
    without_redis = {k: v for k, v in CONFIGURED.items() if k != "REDIS_URL"}
    refused = load_production(**without_redis)
    assert refused.returncode != 0
    assert "ImproperlyConfigured: Production settings need REDIS_URL" in refused.stderr
    assert "CRM_ALLOW_NO_REDIS=1" in refused.stderr

    allowed = load_production(**without_redis, CRM_ALLOW_NO_REDIS="1")
    assert allowed.returncode == 0, allowed.stderr
    assert "WARNING: CRM_ALLOW_NO_REDIS=1: running WITHOUT Redis" in allowed.stderr


def test_production_logs_json_lines_and_sentry_only_with_a_dsn():
    code = (
        "import django, logging, json, sentry_sdk; django.setup(); "
        "from django.conf import settings; "
        "logging.getLogger('crm.request').info('hello', extra={'status': 200}); "
        "print(settings.LOG_FORMAT, sentry_sdk.get_client().is_active())"
    )

    def run(**env):
        clean = {k: v for k, v in os.environ.items() if k not in {"LOG_FORMAT", "SENTRY_DSN", "DEBUG"}}
        clean.update(CONFIGURED, DJANGO_SETTINGS_MODULE="crm.settings.production", **env)
        return subprocess.run(  # noqa: S603 (our own arguments)
            [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
        )

    plain = run()
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.split() == ["json", "False"]
    line = json.loads(plain.stderr.strip().splitlines()[-1])
    assert (line["logger"], line["message"], line["status"]) == ("crm.request", "hello", 200)

    with_sentry = run(SENTRY_DSN="http://public@127.0.0.1:9/1", LOG_FORMAT="text")
    assert with_sentry.returncode == 0, with_sentry.stderr
    assert with_sentry.stdout.split() == ["text", "True"]
    assert "INFO crm.request [] hello" in with_sentry.stderr
