from celery import shared_task

from .webhooks import webhook_deliveries_send_due


@shared_task(ignore_result=True)
def webhook_deliveries_send(event_id: int | None = None, delivery_id: int | None = None) -> int:
    """POST due webhook deliveries: one event's right after its fan-out, one delivery when its owner
    asks for a redelivery, all of them (the retries) every minute from beat."""
    return webhook_deliveries_send_due(event_id=event_id, delivery_id=delivery_id)
