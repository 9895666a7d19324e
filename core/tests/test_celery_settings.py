"""The Celery configuration is one block of settings: every periodic task is listed once, names a
task that exists, and runs in the site's time zone."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from crm.celery import app

ROOT = Path(__file__).resolve().parents[2]


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()  # what a worker does at start: autodiscover every app's tasks.py
    schedule = app.conf.beat_schedule
    assert schedule, "the beat schedule is empty"
    unknown = {name: entry["task"] for name, entry in schedule.items() if entry["task"] not in app.tasks}
    assert not unknown, f"beat entries naming no registered task: {unknown}"


def test_every_periodic_task_is_scheduled():
    # The periodic tasks (no arguments needed) are all on the schedule; import_job_run takes a job.
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled == {
        "core.tasks.outbox_dispatch",
        "integrations.tasks.webhook_deliveries_send",
        "activities.tasks.activity_reminders_send",
        "quotes.tasks.quotes_expire",
        "reports.tasks.forecast_snapshot_take",
        "analytics.tasks.report_subscriptions_send",
        "mail.tasks.mailboxes_poll",
        "mail.tasks.emails_send_pending",
        "privacy.tasks.retention_review_list",
        "notifications.tasks.notifications_time_based",
        "notifications.tasks.notifications_digest_send",
        "automations.tasks.rules_time_based",
    }


def test_beat_runs_in_the_site_time_zone():
    assert app.conf.timezone == settings.TIME_ZONE == settings.CELERY_TIMEZONE


def test_time_zone_setting_moves_celery_with_it():
    env = {**os.environ, "TIME_ZONE": "America/New_York", "DJANGO_SETTINGS_MODULE": "crm.settings.base"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from crm.celery import app; print(app.conf.timezone)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "America/New_York"
