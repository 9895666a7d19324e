from celery import shared_task

from .services import activity_reminders_send as _send


@shared_task(ignore_result=True)
def activity_reminders_send() -> int:
    """Queue reminders of activities entering their window (every 2 minutes from beat; idempotent)."""
    return _send()
