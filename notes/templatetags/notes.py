from django import template
from django.utils.safestring import mark_safe

from accounts.permissions import can_edit

from ..formatting import note_html
from ..selectors import note_feed, record_field

register = template.Library()


@register.inclusion_tag("notes/_feed.html", takes_context=True)
def notes_feed(context, record):
    """The notes feed of a deal, contact or organization page: ``{% notes_feed opp %}``."""
    user = context["request"].user
    notes = note_feed(user=user, record=record)
    record_editable = can_edit(user, record)
    for note in notes:
        names = {u.username for u in note.mentions.all()}
        # note_html escapes the text and sanitises the result with nh3.
        note.html = mark_safe(note_html(note.body, usernames=names))  # noqa: S308
        note.mine = note.author_id == user.pk
        note.can_pin = note.mine or record_editable
    return {
        "notes": notes,
        "record": record,
        "kind": record_field(record),
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
    }
