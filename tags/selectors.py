"""Reads of tags."""

from .models import Tag

# model label → the Tag's relation to it.
RELATION_BY_MODEL = {
    "opportunities.opportunity": "opportunities",
    "contacts.organization": "organizations",
    "contacts.contact": "contacts",
}


def tag_list():
    """Every tag (tag names are shared vocabulary; the records behind them are not)."""
    return Tag.objects.order_by("name", "id")


def tags_of(record):
    """The tags on ``record`` (the caller has already checked it may see it)."""
    return list(record.tags.order_by("name", "id"))


def tag_names_of(model, ids) -> dict[int, list[str]]:
    """{record id: its tag names, by name} for records ``ids`` of ``model`` (one query): the API's
    ``tags`` of a page of deals read as plain rows."""
    relation = RELATION_BY_MODEL[model._meta.label_lower]
    through = getattr(Tag, relation).through
    column = f"{model._meta.model_name}_id"
    names: dict[int, list[str]] = {pk: [] for pk in ids}
    rows = through.objects.filter(**{f"{column}__in": list(ids)}).order_by("tag__name", "tag_id")
    for record_id, name in rows.values_list(column, "tag__name"):
        names[record_id].append(name)
    return names
