from celery import shared_task

from .services import bulk_job_run as bulk_job_run_service


@shared_task(ignore_result=True)
def bulk_job_run(job_id: int) -> None:
    """Run a bulk job in the worker. Safe to run twice: only a queued (or stalled) job is claimed,
    and it continues from the chunk it had reached."""
    bulk_job_run_service(job_id=job_id)
