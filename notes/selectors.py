"""Every read of notes: a record's feed, one note, and who may be mentioned on a record."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from .models import Note

RECORD_FIELDS = ("opportunity", "contact", "organization")
MENTION_CANDIDATES = 20


def note_list(*, user):
    """Notes ``user`` may see, with their author and mentions at hand."""
    return Note.objects.visible_to(user).select_related("author").prefetch_related("mentions")


def note_feed(*, user, record) -> list[Note]:
    """The notes of ``record`` (a deal, contact or organization ``user`` may see), pinned first,
    newest first. Two queries (the notes with their authors, their mentions)."""
    field = record_field(record)
    return list(note_list(user=user).filter(**{field: record}))


def note_get(*, user, pk) -> Note:
    return note_list(user=user).get(pk=pk)


def record_field(record) -> str:
    name = record._meta.model_name
    if name not in RECORD_FIELDS:
        raise ValueError(f"Notes are not kept on {name}")
    return name


def user_may_see(user, record) -> bool:
    return type(record).objects.visible_to(user).filter(pk=record.pk).exists()


def mentionable_users(*, record, text: str = "", usernames=None, limit: int = MENTION_CANDIDATES) -> list:
    """Active users who may see ``record`` whose name or username starts with ``text`` (or whose
    username is in ``usernames``): at most ``limit`` candidates are checked, one query each, so
    the cost does not grow with the number of users."""
    users = get_user_model().objects.filter(is_active=True)
    if usernames is not None:
        users = users.filter(username__in=list(usernames))
    for word in text.split():
        users = users.filter(
            Q(username__istartswith=word) | Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
        )
    return [u for u in users.order_by("first_name", "last_name", "username")[:limit] if user_may_see(u, record)]
