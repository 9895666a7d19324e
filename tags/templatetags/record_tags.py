from django import template

from accounts.permissions import can_edit

from ..models import Colour
from ..selectors import RELATION_BY_MODEL, tags_of

register = template.Library()


@register.inclusion_tag("tags/record_tags.html", takes_context=True)
def record_tags(context, record):
    """The tags of a deal, an organization or a contact, with the form to add or remove one for
    whoever may change the record."""
    editable = context.get("can_edit")  # the detail pages know it already: no second query
    if editable is None:
        editable = can_edit(context["request"].user, record)
    return {
        "record": record,
        "kind": RELATION_BY_MODEL[record._meta.label_lower],
        "tags": tags_of(record),
        "editable": editable,
        "colours": Colour.choices,
        "csrf_token": context.get("csrf_token"),
    }
