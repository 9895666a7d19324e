"""Reads for operators: the outbox backlog (readiness, metrics) and the state of background work."""

from dataclasses import dataclass

from django.apps import apps
from django.db.models import Count, Min
from django.utils import timezone

from .models import OutboxEvent
from .outbox import MAX_ATTEMPTS


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int  # capped at ``limit + 1`` when a limit was given
    oldest_age: float  # seconds since the oldest pending event was written; 0 when none


def outbox_backlog(*, limit: int | None = None) -> OutboxBacklog:
    """Events still to deliver (attempts left) and the age of the oldest. With ``limit`` the count
    stops at ``limit + 1`` rows, so a huge backlog costs no more than a small one to report."""
    pending = OutboxEvent.objects.filter(delivered_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
    if limit is None:
        count = pending.count()
    else:
        count = pending.order_by().values("id")[: limit + 1].count()
    oldest = pending.aggregate(oldest=Min("created_at"))["oldest"] if count else None
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return OutboxBacklog(pending=count, oldest_age=max(age, 0.0))


@dataclass(frozen=True)
class OpsSnapshot:
    outbox_pending: int
    outbox_oldest_age: float
    outbox_failed: int
    import_jobs: dict[str, int]
    webhook_deliveries: dict[str, int]


def _count_by_status(app_label: str, model_name: str) -> dict[str, int]:
    # Looked up by name: core sits below the apps and imports none of their modules.
    model = apps.get_model(app_label, model_name)
    counts = dict.fromkeys(model.Status.values, 0)
    counts.update(model.objects.order_by().values_list("status").annotate(n=Count("id")))
    return counts


def ops_snapshot() -> OpsSnapshot:
    """What ``/metrics`` reports from the database: five grouped counts."""
    backlog = outbox_backlog()
    return OpsSnapshot(
        outbox_pending=backlog.pending,
        outbox_oldest_age=backlog.oldest_age,
        outbox_failed=OutboxEvent.objects.filter(delivered_at__isnull=True, attempts__gte=MAX_ATTEMPTS).count(),
        import_jobs=_count_by_status("imports", "ImportJob"),
        webhook_deliveries=_count_by_status("integrations", "WebhookDelivery"),
    )
