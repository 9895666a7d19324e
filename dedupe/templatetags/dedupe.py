from django import template

from ..selectors import merge_history

register = template.Library()


@register.inclusion_tag("dedupe/partials/merge_history.html")
def merge_timeline(kind, record):
    """The merges into ``record``: who merged which records, and when."""
    return {"events": merge_history(kind=kind, record_id=record.pk)}


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
