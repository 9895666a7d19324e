from celery import shared_task

from .outbox import outbox_deliver_pending


@shared_task(ignore_result=True)
def outbox_dispatch() -> int:
    """Deliver pending outbox events. Runs after each commit and every 30 s from beat."""
    return outbox_deliver_pending()
