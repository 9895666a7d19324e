"""Bulk actions: one job per action over many records, each record changed through its own service.

Every record goes through the same service a page or the API would call (``opportunity_update``,
``opportunity_archive``, ``organization_update`` …), so each one is checked against
``editable_by(user)``, writes its history row and queues its side effects. Moving deals to a stage
goes through the stage service's set-based twin of ``opportunity_move_stage``,
``opportunities_move_stage_bulk`` (same checks, same stage policy, one history row and the same
events per deal), a chunk of ``STAGE_CHUNK`` deals at a time: one call per deal would take minutes
for ten thousand deals. A record the caller may not change, or that a rule refuses, is counted as refused with
the reason; the others go on.

Small jobs (``CRM_BULK_INLINE_LIMIT`` records or fewer) run in the request; bigger ones in the
Celery worker (``bulk.tasks.bulk_job_run``), which the page follows on a progress bar. The run
commits ``cursor`` with each chunk, so running a job again never applies a chunk twice.
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone, translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import ChangeNotAllowed, owner_check
from contacts import services as contact_services
from contacts.models import Contact, Organization
from core.exceptions import DomainError, ValidationError
from core.jobs import job_claim
from core.outbox import task_request
from opportunities import services as deal_services
from opportunities.models import LeadSource, OpportunityType
from pipeline.models import LostReason, Stage

from .models import BulkAction, BulkJob, BulkKind
from .selectors import bulk_model, bulk_record_ids

logger = logging.getLogger(__name__)

CHUNK = 200
STAGE_CHUNK = 1000
STALE_AFTER = datetime.timedelta(minutes=10)
REFUSED_EXAMPLES = 50
# The deal fields "set a field" may set (custom fields will join them).
SETTABLE_FIELDS = ("probability", "next_step", "expected_close_date", "type", "lead_source")
ACTIONS = {
    BulkKind.DEAL: (BulkAction.OWNER, BulkAction.STAGE, BulkAction.FIELD, BulkAction.ARCHIVE),
    BulkKind.ORGANIZATION: (BulkAction.OWNER, BulkAction.ARCHIVE),
    BulkKind.CONTACT: (BulkAction.OWNER, BulkAction.ARCHIVE),
}


def inline_limit() -> int:
    return getattr(settings, "CRM_BULK_INLINE_LIMIT", 200)


def _field_value(field: str, value):
    """``value`` (text from a form, or JSON) as the deal field ``field`` takes it; a ValidationError
    naming ``value`` when it is not one."""
    text = "" if value is None else str(value).strip()
    if field == "probability":
        try:
            number = int(text)
        except ValueError:
            number = -1
        if not 0 <= number <= 100:
            raise ValidationError({"value": _("Enter a probability between 0 and 100.")})
        return number
    if field == "expected_close_date":
        if not text:
            return None
        day = parse_date(text) if len(text) == 10 else None
        if day is None:
            raise ValidationError({"value": _("Enter a date as YYYY-MM-DD.")})
        return day
    if field == "type":
        if text and text not in OpportunityType.values:
            raise ValidationError({"value": _("Choose one of the deal types.")})
        return text
    if field == "lead_source":
        if text and text not in LeadSource.values:
            raise ValidationError({"value": _("Choose one of the lead sources.")})
        return text
    if len(text) > 200:
        raise ValidationError({"value": _("Write at most 200 characters.")})
    return text


def bulk_params_clean(*, user, kind: str, action: str, params: dict) -> dict:
    """Check an action's arguments once for all records (an owner the caller may not assign, a lost
    stage without a reason, a bad value), as JSON-ready values; a ValidationError names the field."""
    try:
        kind = BulkKind(kind)
    except ValueError:
        raise ValidationError({"kind": _("Choose deals, organizations or contacts.")}) from None
    if action not in ACTIONS[kind]:
        raise ValidationError({"action": _("This action is not available for these records.")})
    if action == BulkAction.OWNER:
        owner = User.objects.filter(pk=_int(params.get("owner"))).first()
        if owner is None:
            raise ValidationError({"owner": _("Choose an owner.")})
        owner_check(user, owner)
        return {"owner": owner.pk}
    if action == BulkAction.STAGE:
        stage = Stage.objects.filter(pk=_int(params.get("stage"))).first()
        if stage is None:
            raise ValidationError({"stage": _("This stage does not exist.")})
        cleaned = {"stage": stage.pk}
        if stage.is_lost:
            reason = LostReason.objects.filter(pk=_int(params.get("lost_reason")), active=True).first()
            if reason is None:
                raise ValidationError({"lost_reason": _("Choose why the deals were lost.")})
            cleaned["lost_reason"] = reason.pk
            cleaned["lost_note"] = str(params.get("lost_note") or "")[:2000]
        return cleaned
    if action == BulkAction.FIELD:
        field = params.get("field")
        if field not in SETTABLE_FIELDS:
            raise ValidationError({"field": _("Choose a field to set.")})
        value = _field_value(field, params.get("value"))
        return {"field": field, "value": value.isoformat() if isinstance(value, datetime.date) else value}
    return {}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@transaction.atomic
def bulk_job_create(
    *, user, kind: str, action: str, params: dict, ids=None, query: str | None = None, run: bool = True
) -> BulkJob:
    """Create a job over the records chosen by ``ids`` (checked rows) or ``query`` (every record the
    list's filters match, on every page), checked with :func:`bulk_params_clean`.

    With ``run``, a job of at most ``CRM_BULK_INLINE_LIMIT`` records runs now; a bigger one is handed
    to the worker after commit (with eager Celery, the SQLite default, that is now too)."""
    params = bulk_params_clean(user=user, kind=kind, action=action, params=params)
    if ids is None and query is None:
        raise ValidationError({"ids": _("Choose at least one record.")})
    record_ids = bulk_record_ids(user=user, kind=kind, query=query, ids=ids)
    if not record_ids:
        raise ValidationError({"ids": _("No record matches: nothing to do.")})
    job = BulkJob.objects.create(
        user=user,
        kind=kind,
        action=action,
        params=params,
        query=query or "",
        record_ids=record_ids,
        total=len(record_ids),
    )
    if run:
        if job.total <= inline_limit():
            bulk_job_run(job_id=job.pk)
            job.refresh_from_db()
        else:
            transaction.on_commit(
                lambda: task_request("bulk.tasks.bulk_job_run", kwargs={"job_id": job.pk}, waiting="bulk job")
            )
    return job


def _apply(job: BulkJob, pk: int, user, params: dict, version: int | None) -> bool:
    """Apply the job's action to record ``pk``; True if it changed (a deal's version moved on from
    ``version``, read with its chunk). Raises what the service raises."""
    action, kind = job.action, job.kind
    if kind == BulkKind.DEAL:
        if action == BulkAction.OWNER:
            opp = deal_services.opportunity_update(opportunity=pk, user=user, data={"owner": params["owner_user"]})
        elif action == BulkAction.FIELD:
            value = _field_value(params["field"], params["value"])
            opp = deal_services.opportunity_update(opportunity=pk, user=user, data={params["field"]: value})
        elif action == BulkAction.ARCHIVE:
            opp = deal_services.opportunity_archive(opportunity=pk, user=user)
        else:
            raise ValidationError({"action": _("This action is not available for these records.")})
        return opp.version != version
    model = Organization if kind == BulkKind.ORGANIZATION else Contact
    record = model(pk=pk)
    if action == BulkAction.OWNER:
        owner = params["owner_user"]
        update = contact_services.organization_update if model is Organization else contact_services.contact_update
        key = "organization" if model is Organization else "contact"
        return bool(update(**{key: record}, user=user, data={"owner": owner}).changes)
    if action == BulkAction.ARCHIVE:
        was_archived = model.objects.filter(pk=pk, archived_at__isnull=False).exists()
        if model is Organization:
            contact_services.organization_archive(organization=record, user=user)
        else:
            contact_services.contact_archive(contact=record, user=user)
        return not was_archived
    raise ValidationError({"action": _("This action is not available for these records.")})


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    if isinstance(exc, ChangeNotAllowed | DomainError):
        return str(exc.message)
    return _("This record no longer exists.")


def _refuse(refusals: dict, examples: list, pk: int, reason: str) -> None:
    refusals[reason] = refusals.get(reason, 0) + 1
    if len(examples) < REFUSED_EXAMPLES:
        examples.append({"id": pk, "reason": reason})


def _move_chunk(job: BulkJob, ids: list[int], user) -> tuple[int, int, dict, list]:
    """Move a chunk of deals with the stage service's set-based move (one lock, one UPDATE, the
    history rows and events in bulk) instead of one ``opportunity_move_stage`` per deal."""
    params = job.params
    refusals, examples = dict(job.refusals), list(job.refused_examples)
    try:
        result = deal_services.opportunities_move_stage_bulk(
            opportunities=ids,
            stage=params["stage"],
            user=user,
            lost_reason=params.get("lost_reason"),
            lost_note=params.get("lost_note", ""),
        )
    except ValidationError as exc:  # the stage or the reason went away since the job was made
        for pk in ids:
            _refuse(refusals, examples, pk, _reason(exc))
        return 0, 0, refusals, examples
    for pk, reason in result.refused.items():
        _refuse(refusals, examples, pk, reason)
    return len(result.moved), len(result.unchanged), refusals, examples


def _run_chunk(job: BulkJob, ids: list[int], user) -> None:
    """Apply the action to ``ids`` and commit the counts with the cursor, all in one transaction."""
    model = bulk_model(job.kind)
    with transaction.atomic():
        if job.kind == BulkKind.DEAL and job.action == BulkAction.STAGE:
            changed, unchanged, refusals, examples = _move_chunk(job, ids, user)
            _chunk_commit(job, ids, changed, unchanged, refusals, examples)
            return
        editable = set(model.objects.editable_by(user).filter(pk__in=ids).values_list("pk", flat=True))
        versions = (
            dict(model.objects.filter(pk__in=ids).values_list("pk", "version")) if job.kind == BulkKind.DEAL else {}
        )
        params = dict(job.params)
        if "owner" in params:  # one user for the whole chunk, not one query per record
            params["owner_user"] = User.objects.get(pk=params["owner"])
        changed = unchanged = 0
        refusals = dict(job.refusals)
        examples = list(job.refused_examples)
        for pk in ids:
            try:
                if pk not in editable:
                    raise ChangeNotAllowed(_("You may not change this record: only its owner and their managers can."))
                # Each service is atomic (a savepoint here): a refusal rolls back that record alone.
                done = _apply(job, pk, user, params, versions.get(pk))
            except (ValidationError, ChangeNotAllowed, DomainError, ObjectDoesNotExist) as exc:
                _refuse(refusals, examples, pk, _reason(exc))
                continue
            if done:
                changed += 1
            else:
                unchanged += 1
        _chunk_commit(job, ids, changed, unchanged, refusals, examples)


def _chunk_commit(job: BulkJob, ids: list[int], changed: int, unchanged: int, refusals: dict, examples: list) -> None:
    """Write a chunk's counts with the cursor (in the chunk's transaction) and keep ``job`` in step."""
    refused = len(ids) - changed - unchanged
    BulkJob.objects.filter(pk=job.pk).update(
        cursor=job.cursor + len(ids),
        changed_count=job.changed_count + changed,
        unchanged_count=job.unchanged_count + unchanged,
        refused_count=job.refused_count + refused,
        refusals=refusals,
        refused_examples=examples,
        heartbeat_at=timezone.now(),
    )
    job.cursor += len(ids)
    job.changed_count += changed
    job.unchanged_count += unchanged
    job.refused_count += refused
    job.refusals, job.refused_examples = refusals, examples


def bulk_job_run(*, job_id: int) -> BulkJob | None:
    """Run a job from its cursor. Claims it first (queued, or running but silent for
    ``STALE_AFTER``), so a second delivery of the task does nothing and a finished job is never run
    again. Returns the job, or None when another run holds it."""
    if not job_claim(BulkJob, job_id, stale_after=STALE_AFTER):
        return None
    job = BulkJob.objects.select_related("user").get(pk=job_id)
    user = job.user
    try:
        # The reasons of refusals are written in the language of the user who asked.
        with translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE):
            size = STAGE_CHUNK if (job.kind, job.action) == (BulkKind.DEAL, BulkAction.STAGE) else CHUNK
            while job.cursor < job.total:
                _run_chunk(job, job.record_ids[job.cursor : job.cursor + size], user)
    except Exception as exc:  # noqa: BLE001 - the page must say the job stopped, whatever stopped it
        logger.exception("Bulk job %s stopped", job.pk)
        BulkJob.objects.filter(pk=job.pk).update(
            status=BulkJob.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    BulkJob.objects.filter(pk=job.pk).update(status=BulkJob.Status.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return job


__all__ = ["ACTIONS", "SETTABLE_FIELDS", "bulk_job_create", "bulk_job_run", "bulk_params_clean", "inline_limit"]
