"""Notifications: :func:`notify` is the one way any feature tells a user something.

Usage from any app (a rule's action, the web-form helper's new lead, a mention)::

    from notifications.services import notify
    notify(user, "web_lead", text=_("New lead: %s") % name, record=deal, actor=None, key=f"lead:{deal.pk}")

``record`` (a deal, contact, organization, or None): the user is told only if they may see it (its
model's ``visible_to``), and the link goes to it. ``key``: a stable name of the event; a second
call with the same user and key does nothing, so an outbox event delivered twice notifies once.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Kind, Notification


def notify(user, kind: str, *, text: str, record=None, url: str = "", actor=None, key: str = "") -> Notification | None:
    """Tell ``user`` about ``record`` (see the module). Returns the notification, or None when the
    user is inactive, is the actor, may not see the record, or was already told (same ``key``)."""
    if user is None or not user.is_active or (actor is not None and actor.pk == user.pk):
        return None
    if kind not in Kind.values:
        raise ValueError(f"Unknown notification kind {kind!r}")
    if record is not None:
        if not type(record).objects.visible_to(user).filter(pk=record.pk).exists():
            return None
        url = url or record.get_absolute_url()
    try:
        with transaction.atomic():
            return Notification.objects.create(
                user=user, kind=kind, text=str(text)[:300], url=url, actor=actor, key=key[:100]
            )
    except IntegrityError:  # already told about this event
        return None


def notification_mark_read(*, user, pk: int | None = None) -> int:
    """Mark one of ``user``'s notifications read, or all of them (``pk`` None). Returns how many."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if pk is not None:
        unread = unread.filter(pk=pk)
    return unread.update(read_at=timezone.now())
