"""Claiming a background job (an import, a bulk action) so that exactly one worker runs it."""

import datetime

from django.db.models import Q
from django.utils import timezone


def job_claim(model, pk: int, *, stale_after: datetime.timedelta, **fields) -> bool:
    """Mark job ``pk`` of ``model`` running for this worker; False when another run holds it.

    A job is claimable when it is queued, or running but silent (no ``heartbeat_at``) for
    ``stale_after``: the worker that ran it died. One conditional UPDATE, so a second delivery of
    the same task claims nothing. ``fields`` are set along with the claim."""
    now = timezone.now()
    claimable = Q(status=model.Status.QUEUED) | Q(status=model.Status.RUNNING, heartbeat_at__lt=now - stale_after)
    return bool(
        model.objects.filter(claimable, pk=pk).update(
            status=model.Status.RUNNING, started_at=now, heartbeat_at=now, **fields
        )
    )
