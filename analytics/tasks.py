from celery import shared_task

from .services import report_subscriptions_queue


@shared_task(name="analytics.tasks.report_subscriptions_send", ignore_result=True)
def report_subscriptions_send() -> int:
    """Every 15 minutes (Celery beat): queue the e-mails of the report subscriptions that are due.
    Idempotent: a subscription moves to its next date in the transaction that queues its e-mail."""
    return report_subscriptions_queue()
