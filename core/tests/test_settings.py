"""Production settings refuse to start half-configured; the defaults run on a laptop."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "x" * 60


def load_production(**env):
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"}}
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


def test_production_starts_when_configured():
    result = load_production(
        SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="crm.example.com", DATABASE_URL="postgres://u@127.0.0.1:5432/db"
    )
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout
