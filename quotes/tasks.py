from celery import shared_task

from .services import quote_expire_due


@shared_task(ignore_result=True)
def quotes_expire() -> int:
    """Mark sent quotes past their validity as expired (hourly from beat; safe to run twice)."""
    return quote_expire_due()
