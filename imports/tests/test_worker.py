"""The background run through a real broker and a real Celery worker (CI's Redis run)."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.models import Organization
from crm.celery import app
from imports.models import ImportJob, ImportKind
from imports.services import import_job_create, import_job_start

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_a_worker_runs_the_queued_import(crm_admin):
    from celery.contrib.testing.worker import start_worker

    app.conf.task_always_eager = False
    rows = "Ragione sociale;Città\n" + "".join(f"Worker {n} srl;Pisa\n" for n in range(30))
    job = import_job_create(
        user=crm_admin, kind=ImportKind.ORGANIZATION, file=SimpleUploadedFile("w.csv", rows.encode())
    )
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        import_job_start(job=job)  # queued after commit (autocommit here), picked up by the worker
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.is_finished:
                break
            time.sleep(0.2)
    assert (job.status, job.created_count, job.progress) == ("done", 30, 100)
    assert Organization.objects.count() == 30
    assert ImportJob.objects.get().processed_rows == 30
