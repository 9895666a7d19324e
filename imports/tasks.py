from celery import shared_task

from .services import import_run


@shared_task(ignore_result=True)
def import_job_run(job_id: int) -> None:
    """Run an import job in the background. Safe to run twice: only a queued job is claimed."""
    import_run(job_id=job_id)
