"""The one write path for stage changes.

Every caller — the opportunity form, the board, the API, imports and Celery tasks — moves a deal
with :func:`opportunity_move_stage`. Creating a deal enters its first stage through
:func:`stage_enter` too, so the stage policy and the history row live in exactly one place.

The stage policy:

* entering an **open** stage sets the stage's default probability, unless the probability was set
  by hand (``probability_is_manual``), which is kept;
* entering a **won** or **lost** stage sets 100 % / 0 %, stamps ``closed_at`` and forgets a hand-set
  probability (a closed deal is certain); a **lost** stage requires a lost reason;
* entering an open stage from a closed one (reopening) clears ``closed_at`` and the lost reason;
* every stage entered writes one :class:`~pipeline.models.StageChange` row with the amount and
  probability at that moment, in the same transaction, and queues the side effects
  (``opportunity.stage_changed`` and ``opportunity.won`` / ``opportunity.lost``) in the outbox.
"""

import datetime

from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import StaleVersionError, ValidationError
from core.outbox import event_emit

from .models import LostReason, Stage, StageChange


def _get_target_and_current_stage(stage: Stage | int, current_id: int) -> tuple[Stage, Stage]:
    """The stage a deal moves to (validated) and the one it is in, in one query instead of two."""
    try:
        target_id = stage.pk if isinstance(stage, Stage) else int(stage)
    except (ValueError, TypeError):
        raise ValidationError({"stage": _("This stage does not exist.")}) from None
    found = {s.pk: s for s in Stage.objects.select_related("pipeline").filter(pk__in={target_id, current_id})}
    if isinstance(stage, Stage):
        found[stage.pk] = stage
    if target_id not in found:
        raise ValidationError({"stage": _("This stage does not exist.")})
    return found[target_id], found[current_id]


def _get_lost_reason(lost_reason: LostReason | int | None) -> LostReason | None:
    if lost_reason is None or isinstance(lost_reason, LostReason):
        return lost_reason
    try:
        return LostReason.objects.get(pk=lost_reason)
    except (LostReason.DoesNotExist, ValueError, TypeError):
        raise ValidationError({"lost_reason": _("This lost reason does not exist.")}) from None


POSITION_GAP = 1024


def column_position_between(stage: Stage, *, moving_id: int, above_id: int | None, below_id: int | None) -> int:
    """A position in ``stage``'s column just below card ``above_id`` (or just above ``below_id``).

    Cards are ordered by ``(position, id)``. The board sends the neighbour the card was dropped
    next to; the other neighbour is looked up here, so cards that are not rendered (columns show
    only their first cards) keep their place. When two neighbours leave no room, the cards below
    are shifted down by one gap in a single UPDATE instead of renumbering the column.
    """
    from opportunities.models import Opportunity

    column = Opportunity.objects.filter(stage=stage, archived_at__isnull=True).exclude(pk=moving_id)
    cards = {c.pk: c for c in column.filter(pk__in=[i for i in (above_id, below_id) if i]).only("pk", "position")}
    above, below = cards.get(above_id), cards.get(below_id)
    if above is None and below is None:
        return column_top_position(stage)
    if above is None:
        predecessor = (
            column.filter(Q(position__lt=below.position) | Q(position=below.position, pk__lt=below.pk))
            .order_by("-position", "-pk")
            .only("pk", "position")
            .first()
        )
        if predecessor is None:
            return below.position - POSITION_GAP
        above = predecessor
    after_above = Q(position__gt=above.position) | Q(position=above.position, pk__gt=above.pk)
    if below is None:
        below = column.filter(after_above).order_by("position", "pk").only("pk", "position").first()
        if below is None:
            return above.position + POSITION_GAP
    if below.position - above.position >= 2:
        return (above.position + below.position) // 2
    column.filter(after_above).update(position=F("position") + POSITION_GAP)
    return above.position + POSITION_GAP // 2


def column_top_position(stage: Stage) -> int:
    """A position that puts a card above every card already in ``stage``'s column."""
    from opportunities.models import Opportunity

    lowest = Opportunity.objects.filter(stage=stage, archived_at__isnull=True).aggregate(m=Min("position"))["m"]
    return 0 if lowest is None else lowest - 1


def stage_enter(
    opportunity,
    stage: Stage,
    *,
    user=None,
    lost_reason: LostReason | None = None,
    lost_note: str = "",
    at: datetime.datetime | None = None,
) -> StageChange:
    """Apply the stage policy to an opportunity entering ``stage`` and record the history row.

    Internal to the stage services: it does not lock, check versions or save the opportunity's
    other fields. Call :func:`opportunity_move_stage` (or the opportunity create/update services).
    """
    now = at or timezone.now()
    previous = opportunity.stage if opportunity.stage_id else None
    if stage.is_lost and lost_reason is None:
        raise ValidationError({"lost_reason": _("Choose why the deal was lost.")})
    if lost_reason is not None and not stage.is_lost:
        lost_reason, lost_note = None, ""

    opportunity.pipeline_id = stage.pipeline_id
    opportunity.stage = stage
    opportunity.status = stage.kind
    opportunity.stage_entered_at = now
    if stage.is_open:
        if not opportunity.probability_is_manual or opportunity.probability is None:
            opportunity.probability = stage.probability
        opportunity.closed_at = None
    else:
        opportunity.probability = stage.probability
        opportunity.probability_is_manual = False
        if previous is None or previous.kind != stage.kind or opportunity.closed_at is None:
            opportunity.closed_at = now
    opportunity.lost_reason = lost_reason
    opportunity.lost_note = lost_note if lost_reason else ""
    # Kept for the lost-deals report ("lost from which stage"), which would otherwise search every
    # lost deal's history for its last entry into a lost stage.
    opportunity.lost_from_stage = previous if stage.is_lost else None

    return StageChange(
        opportunity=opportunity,
        from_stage=previous,
        to_stage=stage,
        changed_by=user,
        changed_at=now,
        amount=opportunity.amount,
        currency=opportunity.currency,
        probability=opportunity.probability,
        lost_reason=lost_reason,
    )


def stage_change_record(change: StageChange, *, user=None) -> StageChange:
    """Save the history row built by :func:`stage_enter` and queue its side effects."""
    change.opportunity_id = change.opportunity.pk
    change.save()
    from opportunities.events import opportunity_payload

    payload = {
        "opportunity": opportunity_payload(change.opportunity),
        "from_stage": change.from_stage_id,
        "to_stage": change.to_stage_id,
        "changed_by": user.pk if user else None,
        "changed_at": change.changed_at.isoformat(),
    }
    event_emit("opportunity.stage_changed", payload)
    if change.to_stage.kind != Stage.Kind.OPEN and (
        change.from_stage is None or change.from_stage.kind != change.to_stage.kind
    ):
        event_emit(f"opportunity.{change.to_stage.kind}", payload)
    return change


@transaction.atomic
def opportunity_move_stage(
    *,
    opportunity,
    stage: Stage | int,
    user,
    expected_version: int | None = None,
    lost_reason: LostReason | int | None = None,
    lost_note: str = "",
    position: int | None = None,
    above_id: int | None = None,
    below_id: int | None = None,
    at: datetime.datetime | None = None,
):
    """Move a deal to ``stage`` (and/or to ``position`` in its column). The only way stages change.

    The board passes ``above_id`` / ``below_id`` (the card it was dropped under / over) instead of
    a position; the position is then computed under the row lock by :func:`column_position_between`.

    Locks the row, refuses a caller who may not change the deal
    (:class:`~accounts.permissions.ChangeNotAllowed`), refuses a stale ``expected_version`` with
    :class:`StaleVersionError`, applies the stage policy, bumps the version, writes the StageChange
    row and queues the side effects after commit. Moving within the same stage only reorders: no
    history row, no version bump.
    ``opportunity`` may be an instance or a primary key; the returned instance is fresh.
    """
    from opportunities.services import opportunity_lock, opportunity_refresh_amount_base

    # Lock the row alone: with a join, PostgreSQL re-checks the join against the row's new version
    # after waiting for the lock, and a deal whose stage just changed would seem not to exist.
    # ``user`` must be allowed to change the deal (ChangeNotAllowed otherwise): the board, the form,
    # the API, a quote's acceptance and an import all meet this check here.
    opp = opportunity_lock(opportunity, user=user)
    if expected_version is not None and opp.version != expected_version:
        raise StaleVersionError(current=opp, expected_version=expected_version)
    if opp.archived_at is not None:
        raise ValidationError({"stage": _("An archived deal cannot be moved; restore it first.")})
    target, opp.stage = _get_target_and_current_stage(stage, opp.stage_id)
    reason = _get_lost_reason(lost_reason)
    if position is None and (above_id or below_id):
        position = column_position_between(target, moving_id=opp.pk, above_id=above_id, below_id=below_id)

    if target.pk == opp.stage_id:
        if position is not None and position != opp.position:
            opp.position = position
            opp.save(update_fields=["position", "updated_at"])
        return opp

    change = stage_enter(opp, target, user=user, lost_reason=reason, lost_note=lost_note, at=at)
    opp.position = column_top_position(target) if position is None else position
    opp.version += 1
    opportunity_refresh_amount_base(opp)
    opp.save()
    stage_change_record(change, user=user)
    return opp
