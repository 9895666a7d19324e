from celery import shared_task

from .services import forecast_snapshot_take as take


@shared_task(name="reports.tasks.forecast_snapshot_take")
def forecast_snapshot_take():
    """Weekly (Celery beat): store this week's forecast snapshot. Safe to run twice."""
    return take()
