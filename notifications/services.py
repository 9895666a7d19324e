"""Notifications: :func:`notify` is the one way any feature tells a user something.

Usage from any app (a rule's action, the web-form helper's new lead, a mention)::

    from notifications.services import notify
    notify(user, "web_lead", text=_("New lead: %s") % name, record=deal, actor=None, key=f"lead:{deal.pk}")

``record`` (a deal, contact, organization, or None): the user is told only if they may see it (its
model's ``visible_to``), and the link goes to it. ``key``: a stable name of the event; a second
call with the same user and key does nothing, so an outbox event delivered twice notifies once.
"""

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.outbox import event_emit

from .models import Channel, DigestSetting, Kind, Notification, NotificationPreference


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
    channel = notification_channel(user=user, kind=kind)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user,
                kind=kind,
                text=str(text)[:300],
                url=url,
                actor=actor,
                key=key[:100],
                # By e-mail only: kept for the record, but the bell does not count it.
                read_at=timezone.now() if channel == Channel.EMAIL else None,
            )
    except IntegrityError:  # already told about this event
        return None
    if channel in (Channel.EMAIL, Channel.BOTH) and user.email:
        event_emit("notification.email", {"notification": notification.pk})
    return notification


def notification_channel(*, user, kind: str) -> str:
    """How ``user`` wants to hear about ``kind`` (their preference; in the CRM by default)."""
    pref = NotificationPreference.objects.filter(user=user, kind=kind).values_list("channel", flat=True).first()
    return pref or Channel.APP


@transaction.atomic
def notification_preferences_set(*, user, channels: dict[str, str], digest_hour: int | None) -> None:
    """Save ``user``'s channel per kind and the hour of their daily digest (None: no digest)."""
    for kind, channel in channels.items():
        if kind not in Kind.values or channel not in Channel.values:
            raise ValueError(f"Unknown kind or channel: {kind!r} {channel!r}")
        NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"channel": channel})
    if digest_hour is not None and not 0 <= digest_hour <= 23:
        raise ValueError("The digest hour is between 0 and 23")
    DigestSetting.objects.update_or_create(user=user, defaults={"hour": digest_hour})


def notification_email_send(event) -> None:
    """Deliver one notification by e-mail, in the user's language (from the outbox, once)."""
    notification = Notification.objects.select_related("user").filter(pk=event.payload["notification"]).first()
    if notification is None or not notification.user.email:
        return
    user = notification.user
    with translation.override(user.language or settings.LANGUAGE_CODE):
        lines = [notification.text]
        if notification.url:
            lines += ["", _("Open it: %(url)s") % {"url": settings.CRM_SITE_URL + notification.url}]
        send_mail(
            subject=notification.text[:150],
            message="\n".join(lines),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[user.email],
        )


def notifications_digest_send(*, now: datetime.datetime | None = None) -> int:
    """The daily digest: to each user whose chosen hour it is (site time zone) and who has not had
    today's yet, one e-mail listing their unread notifications of the last day, in their language.
    Hourly from beat; safe to run twice (``last_sent_on``). Returns how many e-mails were sent."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    sent = 0
    due = DigestSetting.objects.filter(hour=local.hour).exclude(last_sent_on=local.date()).select_related("user")
    for setting in due:
        user = setting.user
        unread = list(
            Notification.objects.filter(
                user=user, read_at__isnull=True, created_at__gt=now - datetime.timedelta(days=1)
            ).order_by("-created_at")[:50]
        )
        if unread and user.is_active and user.email:
            with translation.override(user.language or settings.LANGUAGE_CODE):
                lines = [f"- {n.text}" + (f" ({settings.CRM_SITE_URL}{n.url})" if n.url else "") for n in unread]
                send_mail(
                    subject=_("Your CRM today: %(n)s unread notifications") % {"n": len(unread)},
                    message="\n".join(lines),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    recipient_list=[user.email],
                )
            sent += 1
        DigestSetting.objects.filter(pk=setting.pk).update(last_sent_on=local.date())
    return sent


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
        with translation.override(deal.owner.language or settings.LANGUAGE_CODE):
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
        with translation.override(activity.owner.language or settings.LANGUAGE_CODE):
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
