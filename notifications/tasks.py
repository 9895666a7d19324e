from celery import shared_task

from .services import notifications_digest_send as _digest
from .services import notifications_time_based as _sweep


@shared_task(ignore_result=True)
def notifications_time_based() -> int:
    """Deals gone rotten and activities fallen due, told to their owners (every 5 minutes; idempotent)."""
    return _sweep()


@shared_task(ignore_result=True)
def notifications_digest_send() -> int:
    """The daily digests due this hour (hourly from beat; idempotent)."""
    return _digest()
