"""Rotting: when a deal left alone in an open stage is due for attention.

A deal rots ``stage.stale_after_days`` days after the later of entering its stage and its last
done activity (Pipedrive's rule). The moment is kept on the deal (``Opportunity.rots_at``) so a
filter, a count or a periodic rule reads one indexed column:

- the stage service sets it when the deal enters a stage (:func:`opportunity_rots_at`);
- the activity services call :func:`opportunity_activity_done` when an activity is done;
- :func:`stage_rot_days_apply` recomputes a stage's deals when its days to rot change.
"""

import datetime

from django.db.models import DateTimeField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Coalesce, Greatest

from ..models import Opportunity, Status


def opportunity_rots_at(opportunity: Opportunity, stage) -> datetime.datetime | None:
    """When ``opportunity`` rots in ``stage`` (None: the stage never rots, or is closed)."""
    days = stage.stale_after_days
    if not days or not stage.is_open:
        return None
    return opportunity.rotting_since + datetime.timedelta(days=days)


def opportunity_activity_done(*, opportunity_id: int | None, done_at: datetime.datetime | None) -> None:
    """An activity of the deal was done at ``done_at``: the rot clock starts again from there.
    One UPDATE; an earlier activity done late never moves the clock back."""
    if not opportunity_id or done_at is None:
        return
    deal = (
        Opportunity.objects.filter(pk=opportunity_id)
        .filter(Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=done_at))
        .select_related("stage")
        .only("pk", "status", "stage_entered_at", "last_activity_at", "stage__stale_after_days", "stage__kind")
        .first()
    )
    if deal is None:
        return
    deal.last_activity_at = done_at
    rots_at = opportunity_rots_at(deal, deal.stage) if deal.status == Status.OPEN else None
    Opportunity.objects.filter(pk=opportunity_id).filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=done_at)
    ).update(last_activity_at=done_at, rots_at=rots_at)


def stage_rot_days_apply(stage) -> int:
    """Recompute when the open deals of ``stage`` rot, after its days to rot changed. One UPDATE."""
    deals = Opportunity.objects.filter(stage=stage, status=Status.OPEN)
    if not stage.stale_after_days or not stage.is_open:
        return deals.exclude(rots_at=None).update(rots_at=None)
    since = Greatest(F("stage_entered_at"), Coalesce(F("last_activity_at"), F("stage_entered_at")))
    return deals.update(
        rots_at=ExpressionWrapper(
            since + Value(datetime.timedelta(days=stage.stale_after_days)), output_field=DateTimeField()
        )
    )
