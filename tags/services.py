"""Every write of tags. ``tags_add`` / ``tags_remove`` check each record against the caller's
``editable_by`` themselves, so a page, the API and a bulk action get the same answer."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.permissions import is_anonymous
from core.exceptions import ValidationError

from .models import Colour, Tag
from .selectors import RELATION_BY_MODEL


@dataclass
class TagResult:
    """What a tag change did: ``changed`` records, ``refused`` ones (ids the caller may not
    change, or that do not exist for them), ``unchanged`` ones (already so)."""

    changed: int = 0
    unchanged: int = 0
    refused: list[int] = field(default_factory=list)


@transaction.atomic
def tag_create(*, user, name: str, colour: str = Colour.GREY) -> Tag:
    """A new tag; any signed-in user may make one. Raises ValidationError naming the field."""
    if is_anonymous(user):
        raise ValidationError({"name": [_("Sign in to create tags.")]})
    tag = Tag(name=(name or "").strip(), colour=colour or Colour.GREY)
    tag.full_clean()
    tag.save()
    return tag


def _split(records, user):
    """(model, relation, editable ids, refused ids) for ``records`` (instances or a queryset of one model)."""
    records = list(records)
    if not records:
        return None, None, [], []
    model = type(records[0])
    relation = RELATION_BY_MODEL.get(model._meta.label_lower)
    if relation is None or any(type(r) is not model for r in records):
        raise ValidationError({"records": [_("Tags go on deals, organizations and contacts, one kind at a time.")]})
    ids = {r.pk for r in records}
    editable = set(model.objects.editable_by(user).filter(pk__in=ids).values_list("pk", flat=True))
    return model, relation, sorted(editable), sorted(ids - editable)


@transaction.atomic
def tags_add(records, tag: Tag, user) -> TagResult:
    """Put ``tag`` on every record of ``records`` the caller may change; the others are refused."""
    model, relation, editable, refused = _split(records, user)
    result = TagResult(refused=refused)
    if not editable:
        return result
    through = getattr(Tag, relation).through
    column = f"{model._meta.model_name}_id"
    present = set(through.objects.filter(tag=tag, **{f"{column}__in": editable}).values_list(column, flat=True))
    new = [pk for pk in editable if pk not in present]
    through.objects.bulk_create([through(tag=tag, **{column: pk}) for pk in new], ignore_conflicts=True)
    result.changed, result.unchanged = len(new), len(present)
    return result


@transaction.atomic
def tags_remove(records, tag: Tag, user) -> TagResult:
    """Take ``tag`` off every record of ``records`` the caller may change; the others are refused."""
    model, relation, editable, refused = _split(records, user)
    result = TagResult(refused=refused)
    if not editable:
        return result
    through = getattr(Tag, relation).through
    column = f"{model._meta.model_name}_id"
    deleted, _rows = through.objects.filter(tag=tag, **{f"{column}__in": editable}).delete()
    result.changed, result.unchanged = deleted, len(editable) - deleted
    return result
