"""Merging organizations or contacts into one."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Contact, Organization
from core.exceptions import ValidationError
from core.outbox import event_emit
from privacy.registry import related_kinds

from .models import MergeEvent

MODELS = {"organization": Organization, "contact": Contact}
SKIP_FIELDS = {"id", "created_at", "updated_at", "archived_at", "merged_into", "external_id"}
# Unique when not blank: the merged record gives its value up when the survivor takes it.
UNIQUE_FIELDS = {"vat_number", "external_id"}


def mergeable_fields(kind: str) -> list:
    """The fields a person picks a value for when merging (editable, concrete)."""
    return [f for f in MODELS[kind]._meta.concrete_fields if f.editable and f.name not in SKIP_FIELDS]


def related_counts(kind: str, record, *, labels: bool = False) -> dict[str, int]:
    """How many rows of each registered related kind belong to ``record`` (by kind name, or by the
    model's translated plural name with ``labels``)."""
    return {
        (str(rk.model_class._meta.verbose_name_plural) if labels else rk.name): rk.rows_for(kind, record).count()
        for rk in related_kinds(kind)
    }


@transaction.atomic
def records_merge(*, user, kind: str, survivor_id: int, merged_ids: list[int], values: dict | None = None):
    """Merge the records ``merged_ids`` into ``survivor_id``.

    ``values`` maps a field name to the id of the record whose value the survivor keeps (the
    survivor's own value otherwise). Every related row (every registered kind: deals, quotes,
    activities, documents, contacts of an organization…) moves to the survivor; the merged records
    are archived with ``merged_into`` set; a MergeEvent records who merged what and when.
    Only a user who may change every one of the records may merge them."""
    if kind not in MODELS:
        raise ValidationError({"kind": _("Choose organization or contact.")})
    model = MODELS[kind]
    merged_ids = sorted({int(pk) for pk in merged_ids} - {int(survivor_id)})
    if not merged_ids:
        raise ValidationError({"merged": _("Choose at least one record to merge into the one that stays.")})
    all_ids = [int(survivor_id), *merged_ids]
    locked = {o.pk: o for o in model.objects.select_for_update().filter(pk__in=all_ids).order_by("pk")}
    visible = model.objects.visible_to(user).filter(pk__in=all_ids).count()
    if len(locked) != len(all_ids) or visible != len(all_ids):  # one not seen "does not exist"
        raise ValidationError({"merged": _("Some of these records do not exist.")})
    editable = set(model.objects.editable_by(user).filter(pk__in=all_ids).values_list("pk", flat=True))
    if editable != set(all_ids):
        raise PermissionDenied(_("You may merge only records you may change, all of them."))
    if any(locked[pk].archived_at is not None for pk in all_ids):
        raise ValidationError({"merged": _("Restore archived records before merging them.")})
    survivor = locked[int(survivor_id)]

    fields = {f.name: f for f in mergeable_fields(kind)}
    taken = {}
    for name, source_id in (values or {}).items():
        if name not in fields:
            raise ValidationError({name: _("This field cannot be chosen when merging.")})
        try:
            source = locked[int(source_id)]
        except (KeyError, TypeError, ValueError):
            raise ValidationError({name: _("Choose the value of one of the records being merged.")}) from None
        value = getattr(source, fields[name].attname)
        if source is not survivor and value != getattr(survivor, fields[name].attname):
            taken[name] = source.pk
            if name in UNIQUE_FIELDS and value:
                setattr(source, fields[name].attname, "")
                source.save(update_fields=[name])
            setattr(survivor, fields[name].attname, value)
    if kind == "organization" and survivor.parent_id in merged_ids:
        survivor.parent = None
    survivor.full_clean()
    survivor.save()

    moved = {}
    for rk in related_kinds(kind):
        moved[rk.name] = rk.move(kind, merged_ids, survivor)
    if kind == "organization":  # a merged organization's subsidiaries cannot point at the survivor's self
        Organization.objects.filter(pk=survivor.pk, parent_id=survivor.pk).update(parent=None)

    now = timezone.now()
    model.objects.filter(pk__in=merged_ids).update(archived_at=now, merged_into=survivor, updated_at=now)
    event = MergeEvent.objects.create(
        kind=kind,
        survivor_id=survivor.pk,
        merged_ids=merged_ids,
        fields_taken=taken,
        moved={k: v for k, v in moved.items() if v},
        merged_by=user,
        merged_at=now,
    )
    event_emit(
        f"{kind}.merged",
        {kind: {"id": survivor.pk}, "merged_ids": merged_ids, "moved": event.moved, "changed_by": user.pk},
    )
    return event
