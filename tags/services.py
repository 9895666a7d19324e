"""Every write of tags. ``tags_add`` / ``tags_remove`` check each record against the caller's
``editable_by`` themselves, so a page, the API and a bulk action get the same answer."""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.functions import Lower
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


MAX_TAGS = 50


def tags_resolve(names) -> list[Tag]:
    """The tags called ``names`` (any case), for a record's tags written as a list of names (the API's
    ``tags``). A ValidationError naming ``tags`` for a value that is not a list of names, or a name no
    tag has (tags are made on their own: ``tag_create``)."""
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ValidationError({"tags": [_("Send the tags as a list of names.")]})
    wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if len(wanted) > MAX_TAGS:
        raise ValidationError({"tags": [_("A record has at most 50 tags.")]})
    found = {
        t.name.lower(): t
        for t in Tag.objects.annotate(lower=Lower("name")).filter(lower__in=[n.lower() for n in wanted])
    }
    missing = [n for n in wanted if n.lower() not in found]
    if missing:
        raise ValidationError(
            {"tags": [_("There is no tag called %(names)s: create it first.") % {"names": ", ".join(missing)}]}
        )
    return list(dict.fromkeys(found[n.lower()] for n in wanted))


@transaction.atomic
def tags_set(record, tags: list[Tag], user) -> TagResult:
    """Make ``tags`` exactly the tags of ``record`` (one the caller may change: refused otherwise,
    nothing changed). ``changed`` counts the tags put on or taken off."""
    model, relation, editable, refused = _split([record], user)
    result = TagResult(refused=refused)
    if not editable:
        return result
    through = getattr(Tag, relation).through
    column = f"{model._meta.model_name}_id"
    present = set(through.objects.filter(**{column: record.pk}).values_list("tag_id", flat=True))
    wanted = {t.pk for t in tags}
    gone = present - wanted
    if gone:
        through.objects.filter(**{column: record.pk, "tag_id__in": gone}).delete()
    new = wanted - present
    through.objects.bulk_create([through(tag_id=pk, **{column: record.pk}) for pk in new], ignore_conflicts=True)
    result.changed, result.unchanged = len(new) + len(gone), len(present & wanted)
    return result
