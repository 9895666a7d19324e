from celery import shared_task

from .webhooks import webhook_deliveries_send_due


@shared_task(ignore_result=True)
def webhook_deliveries_send() -> int:
    """POST due webhook deliveries. Runs after each fan-out and every minute from beat (retries)."""
    return webhook_deliveries_send_due()
