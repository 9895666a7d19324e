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
