"""The one write path for stage changes (and the rules that depend on a deal's stage).

Every caller — the opportunity form, the board, the API, imports and Celery tasks — moves a deal
with :func:`opportunity_move_stage`. Creating a deal enters its first stage through
:func:`stage_enter` too, so the stage policy and the history row live in exactly one place.

The stage policy:

* entering an **open** stage sets the stage's default probability, unless the probability was set
  by hand (``probability_is_manual``), which is kept;
* entering a **won** or **lost** stage sets 100 % / 0 %, stamps ``closed_at`` and forgets a hand-set
  probability (a closed deal is certain); a **lost** stage requires a lost reason;
* entering an open stage from a closed one (reopening) clears ``closed_at`` and the lost reason;
* a deal stays in its pipeline: a stage of another pipeline is refused unless the caller names that
  pipeline too (``pipeline=``), the one explicit way to move a deal to another pipeline;
* the amount in the base currency converts on the deal's reference day
  (:func:`opportunity_reference_day`: the closing day of a closed deal, else the expected close
  date, else today), here, in the rebase SQL and in the data-set loader;
* every stage entered writes one :class:`~pipeline.models.StageChange` row with the amount and
  probability at that moment, in the same transaction, and queues the side effects
  (``opportunity.stage_changed`` and ``opportunity.won`` / ``opportunity.lost``) in the outbox.

Every caller — the opportunity form and ``opportunity_update`` (API ``PATCH`` included), the board,
``move/``, imports, the data-set loader, quotes and tasks — goes through :func:`stage_change_apply`
(via :func:`opportunity_move_stage` or ``opportunity_update``), which checks the caller may change
the deal (it is locked by :func:`~opportunities.services.access.opportunity_lock`) and raises domain
errors that each face translates. Bulk actions move many deals at once with
:func:`opportunities_move_stage_bulk`, the same checks and policy set-based (one lock, one UPDATE,
the history rows and events inserted in bulk). ``pipeline/`` holds only the configuration (pipelines, stages,
lost reasons); the board's pages call these services like every other face.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import DateField, F, Min, Q
from django.db.models.functions import Cast, Coalesce, Now, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.currency import quantize_cents, rate_on, to_base
from core.exceptions import StaleVersionError, ValidationError
from core.outbox import event_emit, events_emit
from pipeline.models import LostReason, Pipeline, Stage, StageChange

from ..events import opportunity_payload
from ..models import Opportunity
from .access import NOT_EDITABLE, opportunity_lock
from .rotting import opportunity_rots_at

OTHER_PIPELINE = gettext_lazy(
    "This stage belongs to another pipeline; to move the deal to another pipeline, choose that "
    "pipeline together with one of its stages."
)


def opportunity_reference_day(opp: Opportunity) -> datetime.date:
    """The day a deal's amount converts to the base currency: the closing day of a closed deal,
    else its expected close date, else today. :func:`reference_day_expression` is the same in SQL."""
    if opp.closed_at:
        return timezone.localtime(opp.closed_at).date()
    return opp.expected_close_date or timezone.localdate()


def reference_day_expression() -> Coalesce:
    """:func:`opportunity_reference_day` as a query expression, for updates of many deals at once."""
    return Coalesce(TruncDate("closed_at"), "expected_close_date", Cast(Now(), DateField()), output_field=DateField())


def opportunity_refresh_amount_base(opp: Opportunity) -> None:
    """Set ``amount_base`` from the rate valid on the deal's reference day (no save)."""
    opp.amount_base = to_base(opp.amount, opp.currency, opportunity_reference_day(opp))


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
    lowest = Opportunity.objects.filter(stage=stage, archived_at__isnull=True).aggregate(m=Min("position"))["m"]
    return 0 if lowest is None else lowest - 1


def stage_enter(
    opportunity: Opportunity,
    stage: Stage,
    *,
    user=None,
    lost_reason: LostReason | None = None,
    lost_note: str = "",
    at: datetime.datetime | None = None,
) -> StageChange:
    """Apply the stage policy to an opportunity entering ``stage`` and build the history row.

    Internal to the stage services: it does not lock, check versions or save the opportunity.
    Call :func:`opportunity_move_stage` (or the opportunity create/update services). The data-set
    loader calls it on unsaved deals it then bulk-creates, so the policy has one home.
    """
    now = at or timezone.now()
    previous = opportunity.stage if opportunity.stage_id else None
    _lost_reason_check(stage, lost_reason)
    if lost_reason is not None and not stage.is_lost:
        lost_reason, lost_note = None, ""

    opportunity.pipeline_id = stage.pipeline_id
    opportunity.stage = stage
    opportunity.status = stage.kind
    opportunity.stage_entered_at = now
    opportunity.rots_at = opportunity_rots_at(opportunity, stage)
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


def stage_path_enter(
    opportunity: Opportunity,
    path: list[tuple[Stage, datetime.datetime]],
    *,
    user=None,
    lost_reason: LostReason | None = None,
) -> list[StageChange]:
    """Walk an unsaved deal through ``path`` ((stage, when) pairs) as ``opportunity_create`` and
    then one ``opportunity_move_stage`` per further stage would: the policy of each stage, one
    version per stage entered, one history row each (returned unsaved, for a bulk loader)."""
    steps = []
    for stage, at in path:
        steps.append(
            stage_enter(opportunity, stage, user=user, lost_reason=lost_reason if stage.is_lost else None, at=at)
        )
        opportunity.version += 1
    return steps


def stage_change_record(change: StageChange, *, user=None) -> StageChange:
    """Save the history row built by :func:`stage_enter` and queue its side effects."""
    change.opportunity_id = change.opportunity.pk
    change.amount, change.currency = change.opportunity.amount, change.opportunity.currency
    change.save()
    for topic, payload in stage_change_events(change, user=user):
        event_emit(topic, payload)
    return change


def stage_change_events(change: StageChange, *, user=None) -> list[tuple[str, dict]]:
    """The outbox events of a recorded stage change: ``opportunity.stage_changed``, and
    ``opportunity.won`` / ``opportunity.lost`` when the deal closes (or closes the other way)."""
    payload = {
        "opportunity": opportunity_payload(change.opportunity),
        "from_stage": change.from_stage_id,
        "to_stage": change.to_stage_id,
        "changed_by": user.pk if user else None,
        "changed_at": change.changed_at.isoformat(),
    }
    events = [("opportunity.stage_changed", payload)]
    if change.to_stage.kind != Stage.Kind.OPEN and (
        change.from_stage is None or change.from_stage.kind != change.to_stage.kind
    ):
        events.append((f"opportunity.{change.to_stage.kind}", payload))
    return events


def _stage_move_check(
    opp: Opportunity, *, target: Stage | None = None, pipeline_id: int | None = None, archived_only: bool = False
) -> None:
    """The refusals of a move that depend on the deal: archived, or ``target`` in another pipeline
    than the deal's (or than ``pipeline_id``, when the caller names one). Shared by the one-deal and
    the many-deal moves, so both refuse the same deals with the same words."""
    if opp.archived_at is not None:
        raise ValidationError({"stage": _("An archived deal cannot be moved; restore it first.")})
    if archived_only:
        return
    if target.pipeline_id != (pipeline_id or opp.pipeline_id):
        raise ValidationError({"stage": OTHER_PIPELINE})


def _lost_reason_check(stage: Stage, lost_reason: LostReason | None) -> None:
    if stage.is_lost and lost_reason is None:
        raise ValidationError({"lost_reason": _("Choose why the deal was lost.")})


def stage_change_apply(
    opp: Opportunity,
    *,
    stage: Stage | int,
    user,
    pipeline: Pipeline | int | None = None,
    lost_reason: LostReason | int | None = None,
    lost_note: str = "",
    position: int | None = None,
    above_id: int | None = None,
    below_id: int | None = None,
    at: datetime.datetime | None = None,
) -> StageChange | None:
    """The rules of a stage change, on a deal locked by the caller (not saved here).

    Refuses an archived deal, an unknown stage, a stage of another pipeline (unless ``pipeline``
    names that pipeline: the one explicit way to change pipeline) and a lost stage without a
    reason; places the card (``position``, or between ``above_id`` / ``below_id``, or on top) and
    applies the stage policy. Returns the unsaved history row, or None when the stage is the
    same (then only the position may change). The caller bumps the version, saves and records.
    """
    _stage_move_check(opp, archived_only=True)
    target, opp.stage = _get_target_and_current_stage(stage, opp.stage_id)
    pipeline_id = pipeline.pk if isinstance(pipeline, Pipeline) else pipeline
    _stage_move_check(opp, target=target, pipeline_id=pipeline_id)
    reason = _get_lost_reason(lost_reason)
    if position is None and (above_id or below_id):
        position = column_position_between(target, moving_id=opp.pk, above_id=above_id, below_id=below_id)
    if target.pk == opp.stage_id:
        if position is not None:
            opp.position = position
        return None
    change = stage_enter(opp, target, user=user, lost_reason=reason, lost_note=lost_note, at=at)
    opp.position = column_top_position(target) if position is None else position
    return change


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else _("Someone")


def opportunity_last_change_text(opp: Opportunity) -> str | None:
    """Who made the latest change to a deal and what it was, read from its history rows:
    "Giulia Rossi moved this deal to “Qualifying”", "Giulia Rossi changed Amount, Name".

    A write stamps its stage row and its field rows with one time, so the rows of the latest write
    are those sharing the latest time."""
    moved = opp.stage_changes.select_related("changed_by", "to_stage").order_by("-changed_at", "-id").first()
    edited = opp.field_changes.select_related("changed_by").order_by("-changed_at", "-id").first()
    if moved is None and edited is None:
        return None
    if edited is None or (moved is not None and moved.changed_at > edited.changed_at):
        return _("%(user)s moved this deal to “%(stage)s”") % {
            "user": _name(moved.changed_by),
            "stage": moved.to_stage.display_name,
        }
    fields = list(
        opp.field_changes.filter(changed_at=edited.changed_at).order_by("field").values_list("field", flat=True)
    )
    if fields == ["archived"]:
        what = _("archived or restored this deal")
    else:
        labels = [
            str(Opportunity._meta.get_field(f).verbose_name) if f != "archived" else _("archived") for f in fields
        ]
        what = _("changed %(fields)s") % {"fields": ", ".join(labels)}
    if moved is not None and moved.changed_at == edited.changed_at:
        what = _("moved this deal to “%(stage)s” and %(change)s") % {
            "stage": moved.to_stage.display_name,
            "change": what,
        }
    return f"{_name(edited.changed_by)} {what}"


def opportunity_version_check(opp: Opportunity, expected_version: int | None) -> None:
    """Refuse a write made on an old copy, saying who changed what since (from the history rows)."""
    if expected_version is not None and opp.version != expected_version:
        raise StaleVersionError(
            change=opportunity_last_change_text(opp), current=opp, expected_version=expected_version
        )


@transaction.atomic
def opportunity_move_stage(
    *,
    opportunity: Opportunity | int,
    stage: Stage | int,
    user,
    pipeline: Pipeline | int | None = None,
    expected_version: int | None = None,
    lost_reason: LostReason | int | None = None,
    lost_note: str = "",
    position: int | None = None,
    above_id: int | None = None,
    below_id: int | None = None,
    at: datetime.datetime | None = None,
) -> Opportunity:
    """Move a deal to ``stage`` (and/or to ``position`` in its column). The only way stages change.

    The board passes ``above_id`` / ``below_id`` (the card it was dropped under / over) instead of
    a position; the position is then computed under the row lock by :func:`column_position_between`.

    Locks the row, refuses a caller who may not change the deal
    (:class:`~accounts.permissions.ChangeNotAllowed`), refuses a stale ``expected_version`` with
    :class:`StaleVersionError` (saying who changed what since), refuses a stage of another pipeline
    unless ``pipeline`` names it, applies the stage policy, bumps the version, writes the StageChange
    row and queues the side effects after commit. Moving within the same stage only reorders: no
    history row, no version bump.
    ``opportunity`` may be an instance or a primary key; the returned instance is fresh.
    """
    # Lock the row alone: with a join, PostgreSQL re-checks the join against the row's new version
    # after waiting for the lock, and a deal whose stage just changed would seem not to exist.
    # ``user`` must be allowed to change the deal (ChangeNotAllowed otherwise): the board, the form,
    # the API, a quote's acceptance and an import all meet this check here.
    opp = opportunity_lock(opportunity, user=user)
    opportunity_version_check(opp, expected_version)
    position_before = opp.position
    change = stage_change_apply(
        opp,
        stage=stage,
        user=user,
        pipeline=pipeline,
        lost_reason=lost_reason,
        lost_note=lost_note,
        position=position,
        above_id=above_id,
        below_id=below_id,
        at=at,
    )
    if change is None:
        if opp.position != position_before:
            opp.save(update_fields=["position", "updated_at"])
        return opp
    opp.version += 1
    opportunity_refresh_amount_base(opp)
    opp.save()
    stage_change_record(change, user=user)
    return opp


# The deal columns a move writes (what :func:`stage_enter`, the placing of the card, the version and
# the base amount change), for the one UPDATE per batch of :func:`opportunities_move_stage_bulk`.
MOVE_FIELDS = (
    "pipeline",
    "stage",
    "status",
    "stage_entered_at",
    "rots_at",
    "probability",
    "probability_is_manual",
    "closed_at",
    "lost_reason",
    "lost_note",
    "lost_from_stage",
    "position",
    "version",
    "amount_base",
    "updated_at",
)


def _deals_write(deals: list[Opportunity], fields: tuple[str, ...]) -> None:
    """Write ``fields`` of ``deals`` in one UPDATE. On PostgreSQL the values travel as one array
    per column (``UPDATE … FROM unnest(…)``): Django's ``bulk_update`` builds a ``CASE`` of one
    branch per deal and column, seconds of Python and SQL for a thousand deals."""
    if connection.vendor != "postgresql":
        Opportunity.objects.bulk_update(deals, fields)
        return
    columns = [Opportunity._meta.pk, *(Opportunity._meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    names = [quote(column.column) for column in columns]
    arrays = ", ".join(f"%s::{column.db_type(connection)}[]" for column in columns)
    values = [
        [column.get_db_prep_save(getattr(deal, column.attname), connection) for deal in deals] for column in columns
    ]
    sets = ", ".join(f"{name} = v.{name}" for name in names[1:])
    table = quote(Opportunity._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({', '.join(names)}) "  # noqa: S608 - names only
            f"WHERE {table}.{names[0]} = v.{names[0]}",
            values,
        )


@dataclass
class BulkMoveResult:
    """What :func:`opportunities_move_stage_bulk` did: the deals moved, those already in the stage,
    and those refused, each with the reason (in the active language)."""

    moved: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


@transaction.atomic
def opportunities_move_stage_bulk(
    *,
    opportunities: Iterable[int],
    stage: Stage | int,
    user,
    lost_reason: LostReason | int | None = None,
    lost_note: str = "",
    at: datetime.datetime | None = None,
    batch_size: int = 1000,
) -> BulkMoveResult:
    """Move many deals to ``stage`` at once: what :func:`opportunity_move_stage` does to one deal,
    set-based. For bulk actions, where one call per deal costs a dozen queries each.

    Validates the stage and the lost reason once for all (a ValidationError naming ``stage`` or
    ``lost_reason``, nothing moved). Locks the deals' rows alone in id order (a stable order, so two
    bulk moves over overlapping deals cannot deadlock), then refuses, each with its reason, the deals
    ``user`` may not change (``editable_by``, checked after the lock so an owner change cannot slip
    between), the archived ones and those of another pipeline than the stage's (a bulk move never
    changes pipeline) — through the same checks as the one-deal move. A deal already in ``stage`` is
    left alone (no history row, no version bump). The others get the stage policy of
    :func:`stage_enter`, are placed on top of the column in id order, get a new version and their
    base amount, and are written with one UPDATE per ``batch_size`` deals; one history row each,
    and their outbox events, are inserted in bulk. The kept totals follow through the deal table's
    statement-level triggers, as they do for one deal. Ids of missing deals are refused too.
    """
    ids = sorted({int(pk) for pk in opportunities})
    try:
        target = stage if isinstance(stage, Stage) else Stage.objects.select_related("pipeline").get(pk=int(stage))
    except (Stage.DoesNotExist, ValueError, TypeError):
        raise ValidationError({"stage": _("This stage does not exist.")}) from None
    reason = _get_lost_reason(lost_reason)
    _lost_reason_check(target, reason)
    if not target.is_lost:
        reason, lost_note = None, ""
    result = BulkMoveResult()
    if not ids:
        return result

    # Lock the rows alone (no join, see opportunity_move_stage), in id order; then decide who may
    # change them, which cannot change any more.
    locked = list(Opportunity.objects.filter(pk__in=ids).order_by("pk").select_for_update(of=("self",)))
    editable = set(Opportunity.objects.editable_by(user).filter(pk__in=ids).values_list("pk", flat=True))
    stages = {s.pk: s for s in Stage.objects.filter(pk__in={o.stage_id for o in locked} - {target.pk})}
    stages[target.pk] = target
    found = {o.pk for o in locked}
    for pk in ids:
        if pk not in found:
            result.refused[pk] = _("This deal no longer exists.")

    now = at or timezone.now()
    moving: list[Opportunity] = []
    changes: list[StageChange] = []
    rates: dict[tuple[str, datetime.date], object] = {}
    for opp in locked:
        if opp.pk not in editable:
            result.refused[opp.pk] = str(NOT_EDITABLE)
            continue
        try:
            _stage_move_check(opp, target=target)
        except ValidationError as exc:
            result.refused[opp.pk] = " ".join(exc.messages)
            continue
        if opp.stage_id == target.pk:
            result.unchanged.append(opp.pk)
            continue
        opp.stage = stages[opp.stage_id]
        changes.append(stage_enter(opp, target, user=user, lost_reason=reason, lost_note=lost_note, at=now))
        opp.version += 1
        day = opportunity_reference_day(opp)
        key = (opp.currency, day)
        if key not in rates:  # one rate look-up per currency and day, not per deal
            rates[key] = rate_on(opp.currency, day)
        rate = rates[key]
        opp.amount_base = None if rate is None or opp.amount is None else quantize_cents(opp.amount * rate)
        opp.updated_at = now
        moving.append(opp)
    if not moving:
        return result

    # On top of the column, in id order, as one move after the other would leave them (reversed).
    top = column_top_position(target)
    for offset, opp in enumerate(reversed(moving), start=1):
        opp.position = top - offset
    for start in range(0, len(moving), batch_size):
        _deals_write(moving[start : start + batch_size], MOVE_FIELDS)
    for change in changes:
        change.opportunity_id = change.opportunity.pk
    StageChange.objects.bulk_create(changes, batch_size=batch_size)
    events_emit([event for change in changes for event in stage_change_events(change, user=user)])
    result.moved = [opp.pk for opp in moving]
    return result


__all__ = [
    "OTHER_PIPELINE",
    "BulkMoveResult",
    "column_position_between",
    "column_top_position",
    "opportunity_last_change_text",
    "opportunity_move_stage",
    "opportunities_move_stage_bulk",
    "opportunity_reference_day",
    "opportunity_refresh_amount_base",
    "opportunity_version_check",
    "reference_day_expression",
    "stage_change_apply",
    "stage_change_events",
    "stage_change_record",
    "stage_enter",
    "stage_path_enter",
]
