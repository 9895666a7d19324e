from celery import shared_task

from .services import rules_time_based as _sweep


@shared_task(ignore_result=True)
def rules_time_based() -> int:
    """Rules on deals gone rotten and activities fallen due (every 5 minutes; idempotent)."""
    return _sweep()
