"""Every write to notes. The author edits and deletes their notes; whoever may see the record
writes notes on it; the author or whoever may change the record pins them. A note's mentions
are resolved here: only users who may see the record are mentioned, and each new one is told
once through the outbox (``note.mentioned``, which the notifications app turns into a bell)."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import ChangeNotAllowed, can_edit
from core.exceptions import ValidationError
from core.outbox import event_emit

from .formatting import mentioned_usernames
from .models import Note
from .selectors import mentionable_users, record_field, user_may_see

MAX_LENGTH = 10_000
NOT_AUTHOR = gettext_lazy("Only the author can change or delete this note.")


def _clean_body(body) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write something.")})
    if len(body) > MAX_LENGTH:
        raise ValidationError({"body": _("A note holds at most %(n)s characters.") % {"n": MAX_LENGTH}})
    return body


def _mentions_apply(note: Note, *, user) -> None:
    """Resolve the note's @mentions among users who may see its record; tell the new ones."""
    names = mentioned_usernames(note.body)
    users = mentionable_users(record=note.record, usernames=names, limit=50) if names else []
    before = set(note.mentions.values_list("pk", flat=True))
    note.mentions.set(users)
    new = [u.pk for u in users if u.pk not in before and u.pk != user.pk]
    if new:
        event_emit(
            "note.mentioned",
            {
                "note": note.pk,
                "users": new,
                "by": user.pk,
                "record": record_field(note.record),
                "record_id": note.record.pk,
            },
        )


@transaction.atomic
def note_create(*, user, body: str, record, pinned: bool = False) -> Note:
    """Write a note on ``record`` (a deal, contact or organization ``user`` may see)."""
    field = record_field(record)
    if not user_may_see(user, record):
        raise ChangeNotAllowed(_("You may not see this record."))
    note = Note(body=_clean_body(body), author=user, pinned=pinned and can_edit(user, record), **{field: record})
    note.full_clean()
    note.save()
    _mentions_apply(note, user=user)
    event_emit("note.created", {"note": note.pk, "by": user.pk, "record": field, "record_id": record.pk})
    return note


def _lock(note: Note) -> Note:
    return (
        Note.objects.select_for_update(of=("self",))
        .select_related("opportunity", "contact", "organization")
        .get(pk=note.pk)
    )


@transaction.atomic
def note_update(*, note: Note, user, body: str | None = None, pinned: bool | None = None) -> Note:
    """Change a note's text (its author only) or pin/unpin it (its author, or whoever may change the record)."""
    note = _lock(note)
    if body is not None and body != note.body:
        if note.author_id != user.pk:
            raise ChangeNotAllowed(NOT_AUTHOR)
        note.body = _clean_body(body)
    if pinned is not None and pinned != note.pinned:
        if note.author_id != user.pk and not can_edit(user, note.record):
            raise ChangeNotAllowed(_("You may not pin notes on this record."))
        note.pinned = pinned
    note.save()
    _mentions_apply(note, user=user)
    return note


@transaction.atomic
def note_delete(*, note: Note, user) -> None:
    note = _lock(note)
    if note.author_id != user.pk:
        raise ChangeNotAllowed(NOT_AUTHOR)
    note.delete()
