from celery import shared_task

from . import services


@shared_task
def retention_review_list() -> int:
    """Periodic: list the contacts past the retention period for a person to review (never deletes)."""
    return services.retention_review_refresh()
