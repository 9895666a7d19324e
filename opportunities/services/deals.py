"""Every write to an opportunity except the stage rules, which live in :mod:`.stages`."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, OuterRef
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import can_purge, owner_change_check, owner_check
from contacts.models import Organization
from contacts.services import organization_create
from core.currency import base_currency, quantize_cents, rate_subquery
from core.exceptions import ValidationError
from core.outbox import event_emit
from customfields.services import custom_fields_audit, custom_fields_clean
from dedupe.detection import organization_candidates
from documents.services import document_files_delete_on_commit
from pipeline.models import LostReason, Pipeline, Stage

from ..events import opportunity_payload
from ..models import Opportunity, OpportunityChange, OpportunityLine
from .access import opportunity_lock
from .stages import (
    column_top_position,
    opportunity_refresh_amount_base,
    opportunity_version_check,
    reference_day_expression,
    stage_change_apply,
    stage_change_record,
    stage_enter,
)

# Fields a user may change through opportunity_update. Stage, status, probability policy, closing
# date and version are the stage service's business.
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "organization",
        "contact",
        "amount",
        "currency",
        "expected_close_date",
        "probability",
        "probability_is_manual",
        "type",
        "next_step",
        "next_step_date",
        "description",
        "owner",
        "lead_source",
        "lost_note",
        "external_id",
    }
)
# ``pipeline`` changes only together with a ``stage`` of that pipeline (see stages.stage_change_apply).
STAGE_FIELDS = frozenset({"stage", "lost_reason", "pipeline"})


def _as_text(opp: Opportunity, field: str, value) -> str:
    if value is None or value == "":
        return ""
    if field.startswith("custom_fields."):  # already the text a person reads (custom_fields_audit)
        return str(value)
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, datetime.date):
        return value.isoformat()
    model_field = Opportunity._meta.get_field(field) if field not in ("archived",) else None
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    return str(value)


def opportunity_changes_record(
    *, opportunity: Opportunity, changes: dict, user, at: datetime.datetime | None = None
) -> None:
    """Write the audit trail of ``changes`` (field → (old, new)). Stage moves are in StageChange.

    ``at`` is the time of the write: a stage row written by the same write carries the same time,
    which is how a conflict message tells what one write changed."""
    now = at or timezone.now()
    OpportunityChange.objects.bulk_create(
        OpportunityChange(
            opportunity=opportunity,
            field=field,
            old_value=_as_text(opportunity, field, old)[:2000],
            new_value=_as_text(opportunity, field, new)[:2000],
            changed_by=user,
            changed_at=now,
        )
        for field, (old, new) in sorted(changes.items())
        if field not in ("stage", "probability_is_manual")
    )


def default_pipeline() -> Pipeline:
    """The default pipeline; a ValidationError naming ``pipeline`` when there is none yet."""
    pipeline = Pipeline.objects.default()
    if pipeline is None:
        raise ValidationError({"pipeline": _("There is no pipeline yet: create one first.")})
    return pipeline


def _first_open_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("order").first()
    if stage is None:
        raise ValidationError({"stage": _("This pipeline has no open stage.")})
    return stage


@transaction.atomic
def opportunity_create(
    *,
    user,
    name: str,
    owner=None,
    organization=None,
    contact=None,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    amount: Decimal = Decimal("0.00"),
    currency: str | None = None,
    expected_close_date: datetime.date | None = None,
    probability: int | None = None,
    type: str = "",
    next_step: str = "",
    next_step_date: datetime.date | None = None,
    description: str = "",
    lead_source: str = "",
    lost_reason: LostReason | None = None,
    lost_note: str = "",
    external_id: str = "",
    created_at: datetime.datetime | None = None,
    closed_at: datetime.datetime | None = None,
    utm_campaign: str = "",
    lead_form: dict | None = None,
    custom_fields: dict | None = None,
) -> Opportunity:
    """Create a deal in ``stage`` (default: the first open stage of the default pipeline).

    A ``probability`` given here counts as set by hand. ``created_at`` and ``closed_at`` let
    imports keep the dates of the system they come from. Writes the first StageChange row.
    ``lead_form`` (``{"id", "name", "slug"}``) names the web form a deal came from; the
    ``opportunity.created`` event (the ``deal.created`` webhook) carries it as ``form``.
    ``owner`` must be a user the caller may assign (``accounts.permissions.assignable_owners``).
    ``custom_fields`` (key → value) is validated against the deal definitions; defaults fill the rest.
    """
    owner_check(user, owner or user)
    values, _changes = custom_fields_clean(entity="deal", data=custom_fields, creating=True)
    if stage is not None and pipeline is not None and stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
    pipeline = stage.pipeline if stage is not None else (pipeline or default_pipeline())
    stage = stage or _first_open_stage(pipeline)
    now = created_at or timezone.now()

    opp = Opportunity(
        name=(name or "").strip(),
        owner=owner or user,
        organization=organization,
        contact=contact,
        pipeline=pipeline,
        amount=amount if amount is not None else Decimal("0.00"),
        currency=(currency or base_currency()).upper(),
        expected_close_date=expected_close_date,
        probability=probability,
        probability_is_manual=probability is not None,
        type=type or Opportunity._meta.get_field("type").default,
        next_step=next_step,
        next_step_date=next_step_date,
        description=description,
        lead_source=lead_source,
        external_id=external_id,
        utm_campaign=utm_campaign,
        lead_form=lead_form["id"] if lead_form else None,
        created_by=user,
        created_at=now,
        custom_fields=values,
    )
    change = stage_enter(opp, stage, user=user, lost_reason=lost_reason, lost_note=lost_note, at=now)
    if closed_at is not None and not stage.is_open:
        opp.closed_at = change.changed_at = closed_at
    opp.position = column_top_position(stage)
    opportunity_refresh_amount_base(opp)
    opp.full_clean()
    opp.save()
    stage_change_record(change, user=user)
    event = {"opportunity": opportunity_payload(opp)}
    if lead_form:
        event["form"] = lead_form
    event_emit("opportunity.created", event)
    return opp


def _lock_for_write(opportunity: Opportunity | int, expected_version: int | None, *, user) -> Opportunity:
    pk = opportunity.pk if isinstance(opportunity, Opportunity) else opportunity
    # Lock the row alone (checking the caller may change it), then read it with its relations:
    # locking a join, PostgreSQL re-checks the join against the row's new version after the wait,
    # and a row whose relation changed vanishes.
    opportunity_lock(pk, user=user)
    opp = Opportunity.objects.select_related(
        "stage", "pipeline", "organization", "contact", "owner", "lost_reason"
    ).get(pk=pk)
    opportunity_version_check(opp, expected_version)
    return opp


@transaction.atomic
def opportunity_update(
    *, opportunity: Opportunity | int, user, data: dict, expected_version: int | None = None
) -> Opportunity:
    """Change fields of a deal. A different ``stage`` in ``data`` goes through the stage rules
    (:func:`.stages.stage_change_apply`, as a move does): a stage of another pipeline is refused
    unless ``data["pipeline"]`` names that pipeline; a ``pipeline`` alone is refused too.

    Refuses a stale ``expected_version``; a changed probability counts as set by hand, and
    ``probability_is_manual=False`` resets it to the stage's default. Returns the saved deal with
    ``changes`` (field → (old, new)) attached, for the audit trail and the caller's message.
    """
    data = dict(data)
    custom_data = data.pop("custom_fields", None)
    unknown = set(data) - EDITABLE_FIELDS - STAGE_FIELDS
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    opp = _lock_for_write(opportunity, expected_version, user=user)
    if opp.archived_at is not None:
        raise ValidationError({"name": _("An archived deal cannot be edited; restore it first.")})
    owner_change_check(user, opp, data)

    changes: dict[str, tuple] = {}
    for field, value in data.items():
        if field in STAGE_FIELDS or field == "probability_is_manual":
            continue
        old = getattr(opp, field)
        if field == "currency" and value:
            value = value.upper()
        if field == "name" and value:
            value = value.strip()
        if old != value:
            changes[field] = (old, value)
            setattr(opp, field, value)
    if custom_data is not None:
        opp.custom_fields, custom_changes = custom_fields_clean(
            entity="deal", data=custom_data, existing=opp.custom_fields
        )
        changes.update(custom_fields_audit(entity="deal", changes=custom_changes))

    manual_before = opp.probability_is_manual
    if data.get("probability_is_manual") is False:
        opp.probability_is_manual = False
        if opp.probability != opp.stage.probability:
            changes["probability"] = (opp.probability, opp.stage.probability)
            opp.probability = opp.stage.probability
    elif "probability" in changes or data.get("probability_is_manual"):
        opp.probability_is_manual = True
    if opp.probability_is_manual != manual_before:
        changes["probability_is_manual"] = (manual_before, opp.probability_is_manual)

    now = timezone.now()
    new_stage = data.get("stage")
    new_reason = data.get("lost_reason")
    new_pipeline = data.get("pipeline")
    pipeline_id = new_pipeline.pk if isinstance(new_pipeline, Pipeline) else new_pipeline
    if new_stage is None and pipeline_id is not None and pipeline_id != opp.pipeline_id:
        raise ValidationError({"stage": _("Choose a stage of the new pipeline too.")})
    stage_change = None
    new_stage_id = new_stage.pk if isinstance(new_stage, Stage) else new_stage
    if new_stage is not None and (new_stage_id != opp.stage_id or pipeline_id not in (None, opp.pipeline_id)):
        stage_change = stage_change_apply(
            opp,
            stage=new_stage,
            user=user,
            pipeline=new_pipeline,
            lost_reason=new_reason,
            lost_note=opp.lost_note,
            at=now,
        )
    if stage_change is not None:
        changes["stage"] = (stage_change.from_stage, stage_change.to_stage)
    elif "lost_reason" in data and opp.status == "lost" and new_reason != opp.lost_reason:
        if new_reason is None:
            raise ValidationError({"lost_reason": _("A lost deal needs a lost reason.")})
        changes["lost_reason"] = (opp.lost_reason, new_reason)
        opp.lost_reason = new_reason

    if not changes:
        opp.changes = {}
        return opp

    opp.full_clean()
    opportunity_refresh_amount_base(opp)
    opp.version += 1
    opp.save()
    if stage_change is not None:
        stage_change_record(stage_change, user=user)
    opportunity_changes_record(opportunity=opp, changes=changes, user=user, at=now)
    event_emit(
        "opportunity.updated",
        {"opportunity": opportunity_payload(opp), "changed_fields": sorted(changes), "changed_by": user.pk},
    )
    opp.changes = changes
    return opp


@transaction.atomic
def opportunity_archive(*, opportunity: Opportunity | int, user, expected_version: int | None = None) -> Opportunity:
    """Archive ("delete") a deal: it leaves boards, lists and reports; its history stays."""
    opp = _lock_for_write(opportunity, expected_version, user=user)
    if opp.archived_at is None:
        opp.archived_at = timezone.now()
        opp.version += 1
        opp.save(update_fields=["archived_at", "version", "updated_at"])
        opportunity_changes_record(opportunity=opp, changes={"archived": (False, True)}, user=user)
        event_emit("opportunity.archived", {"opportunity": opportunity_payload(opp), "changed_by": user.pk})
    return opp


@transaction.atomic
def opportunity_restore(*, opportunity: Opportunity | int, user) -> Opportunity:
    """Bring an archived deal back where it was."""
    opp = _lock_for_write(opportunity, None, user=user)
    if opp.archived_at is not None:
        opp.archived_at = None
        opp.version += 1
        opp.save(update_fields=["archived_at", "version", "updated_at"])
        opportunity_changes_record(opportunity=opp, changes={"archived": (True, False)}, user=user)
        event_emit("opportunity.restored", {"opportunity": opportunity_payload(opp), "changed_by": user.pk})
    return opp


@transaction.atomic
def opportunity_purge(*, opportunity: Opportunity | int, user) -> None:
    """Delete an archived deal for good (admins only): its history, lines, documents and activities
    go with it. Refused while a quote refers to it (quotes are kept for the books)."""
    opp = _lock_for_write(opportunity, None, user=user)
    if not can_purge(user, opp):
        raise PermissionDenied(_("Only an administrator can delete records for good."))
    if opp.archived_at is None:
        raise ValidationError(_("Archive %(name)s before deleting it for good.") % {"name": opp.name})
    quotes = opp.quotes.count()
    if quotes:
        raise ValidationError(
            _("%(name)s has %(count)d quote(s); a deal with quotes cannot be deleted for good.")
            % {"name": opp.name, "count": quotes}
        )
    payload = opportunity_payload(opp)
    document_files_delete_on_commit(opp.documents.all())
    opp.delete()
    event_emit("opportunity.purged", {"opportunity": payload, "changed_by": user.pk})


@transaction.atomic
def opportunity_line_add(
    *,
    opportunity: Opportunity,
    user,
    product=None,
    description: str = "",
    quantity: Decimal = Decimal(1),
    unit_price: Decimal | None = None,
    discount_percent: Decimal = Decimal(0),
) -> OpportunityLine:
    """Add a product line to a deal; the price defaults to the product's list price."""
    opportunity_lock(opportunity, user=user)
    if unit_price is None:
        if product is None:
            raise ValidationError({"unit_price": _("Enter a unit price or choose a product.")})
        unit_price = product.unit_price
    line = OpportunityLine(
        opportunity=opportunity,
        product=product,
        description=description or (product.name if product else ""),
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=discount_percent,
        position=opportunity.lines.count(),
    )
    line.full_clean()
    line.save()
    return line


def opportunity_lines_total(opportunity: Opportunity) -> Decimal:
    return quantize_cents(sum((line.total for line in opportunity.lines.all()), Decimal(0)))


LINE_FIELDS = frozenset({"product", "description", "quantity", "unit_price", "discount_percent"})


@transaction.atomic
def opportunity_line_update(*, line: OpportunityLine, user, data: dict) -> OpportunityLine:
    """Change a product line of a deal (quantity, price, discount, description)."""
    unknown = set(data) - LINE_FIELDS
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    opportunity_lock(line.opportunity_id, user=user)
    line = OpportunityLine.objects.select_for_update().select_related("opportunity").get(pk=line.pk)
    for field, value in data.items():
        setattr(line, field, value)
    if not line.description and line.product is not None:
        line.description = line.product.name
    line.full_clean()
    line.save()
    return line


@transaction.atomic
def opportunity_line_remove(*, line: OpportunityLine, user) -> None:
    """Take a product line off a deal."""
    opportunity_lock(line.opportunity_id, user=user)
    OpportunityLine.objects.filter(pk=line.pk).delete()


@transaction.atomic
def opportunity_amount_from_lines(*, opportunity: Opportunity | int, user, expected_version: int | None = None):
    """Set the deal's amount to the sum of its lines, through the one update path (history, events)."""
    opp = _lock_for_write(opportunity, expected_version, user=user)
    if not opp.lines.exists():
        raise ValidationError({"amount": _("This deal has no product lines to compute the amount from.")})
    return opportunity_update(opportunity=opp, user=user, data={"amount": opportunity_lines_total(opp)})


def opportunity_amounts_rebase(*, currency: str) -> int:
    """Recompute ``amount_base`` of every deal in ``currency`` after its rates changed. One UPDATE."""
    if currency == base_currency():
        return Opportunity.objects.filter(currency=currency).update(amount_base=F("amount"))
    # The reference day of stages.opportunity_reference_day, in SQL.
    deals = Opportunity.objects.filter(currency=currency).annotate(reference_day=reference_day_expression())
    rate = rate_subquery("currency", OuterRef("reference_day"))
    return deals.update(amount_base=Round(F("amount") * rate, 2))


@transaction.atomic
def opportunity_quick_add(
    *,
    user,
    name: str,
    organization_name: str,
    stage: Stage,
    amount: Decimal | None = None,
    lost_reason: LostReason | None = None,
) -> Opportunity:
    """The board's quick add: a deal straight in ``stage`` for an organization given by name.

    The organization is matched by name (case, spaces, accents, punctuation and legal form do not
    matter: ``dedupe.detection``) among those ``user`` may
    see, or created for them, in the same transaction as the deal: a refused deal (a lost stage
    without a reason, say) leaves no organization behind."""
    org_name = " ".join((organization_name or "").split())
    if not org_name:
        raise ValidationError({"organization": _("Enter the organization's name.")})
    organization = (
        Organization.objects.visible_to(user)
        .filter(name__iexact=org_name, archived_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if organization is None:  # "Rossi S.p.A." typed for "ROSSI SPA": the same company, not a new one
        same_name = [c.record for c in organization_candidates(user=user, data={"name": org_name})]
        organization = same_name[0] if same_name else None
    if organization is None:
        organization = organization_create(user=user, data={"name": org_name})
    return opportunity_create(
        user=user,
        name=name,
        organization=organization,
        stage=stage,
        amount=amount or Decimal("0.00"),
        lost_reason=lost_reason,
    )
