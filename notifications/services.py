"""Notifications: :func:`notify` is the one way any feature tells a user something.

Usage from any app (a rule's action, the web-form helper's new lead, a mention)::

    from notifications.services import notify
    notify(user, "web_lead", text=_("New lead: %s") % name, record=deal, actor=None, key=f"lead:{deal.pk}")

``record`` (a deal, contact, organization, or None): the user is told only if they may see it (its
model's ``visible_to``), and the link goes to it. ``key``: a stable name of the event; a second
call with the same user and key does nothing, so an outbox event delivered twice notifies once.
"""

import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

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


# How far back the periodic sweep looks: a worker down for a day still tells, an installation
# upgraded today does not flood everyone with every deal that rotted last year.
SWEEP_WINDOW = datetime.timedelta(days=1)


def notifications_time_based(*, now: datetime.datetime | None = None, limit: int = 1000) -> int:
    """Tell owners about deals that went rotten and activities that fell due since the last sweep
    (beat, every few minutes; safe to run twice: each event has its key). Two range queries over
    indexed columns (``opp_rots_at_idx``, the activities' due time), whatever the number of deals."""
    from activities.models import Activity
    from opportunities.models import Opportunity

    now = now or timezone.now()
    since = now - SWEEP_WINDOW
    told = 0
    rotten = (
        Opportunity.objects.filter(status="open", archived_at__isnull=True, rots_at__lte=now, rots_at__gt=since)
        .select_related("owner")
        .order_by("rots_at")[:limit]
    )
    for deal in rotten:
        with translation.override(deal.owner.language or None):
            text = _("Your deal %(deal)s has been left alone too long") % {"deal": deal.name}
        told += bool(
            notify(
                deal.owner, Kind.ROTTEN, text=text, record=deal, key=f"rotten:{deal.pk}:{int(deal.rots_at.timestamp())}"
            )
        )
    due = (
        Activity.objects.filter(done=False, due_at__lte=now, due_at__gt=since)
        .select_related("owner", "opportunity")
        .order_by("due_at")[:limit]
    )
    for activity in due:
        with translation.override(activity.owner.language or None):
            text = _("Activity due: %(subject)s") % {"subject": activity.subject}
        told += bool(
            notify(
                activity.owner,
                Kind.ACTIVITY_DUE,
                text=text,
                record=activity.opportunity,
                url="" if activity.opportunity_id else reverse("activities:list"),
                key=f"due:{activity.pk}:{int(activity.due_at.timestamp())}",
            )
        )
    return told
