"""Every write to activities and calendar feed tokens, and the reminder sweep.

Each service checks its caller: changes need ``Activity.objects.editable_by(user)``
(ChangeNotAllowed otherwise), and an owner must be one the caller may assign
(``accounts.permissions.assignable_owners``), checked before anything is written."""

import datetime
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import lock_for_change, owner_change_check, owner_check
from core.exceptions import ValidationError
from core.outbox import event_emit, subscribe
from opportunities.services.rotting import opportunity_activity_done

from .models import Activity, CalendarFeedToken

FIELDS = frozenset(
    {
        "kind",
        "subject",
        "due_at",
        "duration_minutes",
        "notes",
        "owner",
        "opportunity",
        "contact",
        "organization",
        "reminder_minutes",
    }
)
# A reminder is not sent for an activity that fell due longer ago than this (the worker was down).
REMINDER_GRACE = datetime.timedelta(hours=1)
# The longest reminder offered: the sweep looks this far ahead.
REMINDER_HORIZON = datetime.timedelta(days=7)


NOT_EDITABLE = gettext_lazy("You may see this activity but not change it.")


def _lock(activity: Activity, user) -> Activity:
    return lock_for_change(Activity, activity.pk, user=user, message=NOT_EDITABLE)


def _check(data: dict) -> None:
    unknown = set(data) - FIELDS
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})


@transaction.atomic
def activity_create(*, user, subject: str, **data) -> Activity:
    """Plan a call, meeting, task or e-mail note, for ``user`` unless another owner is given."""
    _check(data)
    data["owner"] = data.get("owner") or user
    owner_check(user, data["owner"])
    activity = Activity(subject=(subject or "").strip(), **data)
    activity.full_clean()
    activity.save()
    if activity.done:
        opportunity_activity_done(opportunity_id=activity.opportunity_id, done_at=activity.done_at)
    event_emit("activity.created", {"activity": activity.pk, "owner": activity.owner_id, "changed_by": user.pk})
    return activity


@transaction.atomic
def activity_update(*, activity: Activity, user, data: dict) -> Activity:
    """Change an activity. Moving its due time or reminder re-arms the reminder."""
    _check(data)
    activity = _lock(activity, user)
    owner_change_check(user, activity, data)
    rearm = any(
        field in data and data[field] != getattr(activity, field) for field in ("due_at", "reminder_minutes", "owner")
    )
    for field, value in data.items():
        setattr(activity, field, value)
    activity.subject = activity.subject.strip()
    if rearm:
        activity.reminder_sent_at = None
    activity.version += 1
    activity.full_clean()
    activity.save()
    if activity.done:
        opportunity_activity_done(opportunity_id=activity.opportunity_id, done_at=activity.done_at)
    return activity


@transaction.atomic
def activity_set_done(*, activity: Activity, user, done: bool = True) -> Activity:
    activity = _lock(activity, user)
    activity.done = done
    activity.done_at = timezone.now() if done else None
    activity.version += 1
    activity.save(update_fields=["done", "done_at", "version", "updated_at"])
    if done:
        opportunity_activity_done(opportunity_id=activity.opportunity_id, done_at=activity.done_at)
    return activity


@transaction.atomic
def activity_delete(*, activity: Activity, user) -> None:
    _lock(activity, user)
    Activity.objects.filter(pk=activity.pk).delete()


def activity_reminders_send(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """Queue a reminder e-mail for each open activity entering its reminder window.

    Each activity is marked reminded in the same transaction that writes the outbox event, with its
    row locked (``skip_locked``), so two sweeps running at once, or one running twice, never send the
    same reminder twice. Returns how many were queued.
    """
    now = now or timezone.now()
    with transaction.atomic():
        candidates = (
            Activity.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                done=False,
                reminder_sent_at__isnull=True,
                reminder_minutes__isnull=False,
                due_at__gte=now - REMINDER_GRACE,
                due_at__lte=now + REMINDER_HORIZON,
            )
            .order_by("due_at")[:limit]
        )
        sent = 0
        for activity in candidates:
            if activity.due_at - datetime.timedelta(minutes=activity.reminder_minutes) > now:
                continue
            activity.reminder_sent_at = now
            activity.save(update_fields=["reminder_sent_at"])
            event_emit("activity.reminder", {"activity": activity.pk, "owner": activity.owner_id})
            sent += 1
    return sent


@subscribe("activity.reminder")
def activity_reminder_email(event) -> None:
    """Deliver one reminder e-mail (runs once per event, from the outbox)."""
    activity = (
        Activity.objects.select_related("owner", "opportunity", "contact", "organization")
        .filter(pk=event.payload["activity"], done=False)
        .first()
    )
    if activity is None or not activity.owner.email:
        return
    language = getattr(activity.owner, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(settings.TIME_ZONE):
        due = formats.date_format(timezone.localtime(activity.due_at), "SHORT_DATETIME_FORMAT")
        lines = [
            _("Reminder: %(kind)s “%(subject)s” is due at %(due)s.")
            % {"kind": activity.get_kind_display(), "subject": activity.subject, "due": due}
        ]
        if activity.regarding is not None:
            lines.append(_("Regarding: %(record)s") % {"record": activity.regarding})
        if activity.notes:
            lines += ["", activity.notes]
        url = settings.CRM_SITE_URL + reverse("activities:edit", args=[activity.pk])
        lines += ["", _("Open it: %(url)s") % {"url": url}]
        send_mail(
            subject=_("Reminder: %(subject)s") % {"subject": activity.subject},
            message="\n".join(lines),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[activity.owner.email],
        )


# --- The personal calendar feed -----------------------------------------------------------------


def _new_token() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic
def calendar_feed_token_get_or_create(*, user) -> CalendarFeedToken:
    token, _created = CalendarFeedToken.objects.get_or_create(user=user, defaults={"token": _new_token()})
    return token


@transaction.atomic
def calendar_feed_token_regenerate(*, user) -> CalendarFeedToken:
    """A new secret URL; the old one stops working at once."""
    token, created = CalendarFeedToken.objects.select_for_update().get_or_create(
        user=user, defaults={"token": _new_token()}
    )
    if not created:
        token.token = _new_token()
        token.save(update_fields=["token", "created_at"])
    return token


@transaction.atomic
def calendar_feed_token_revoke(*, user) -> None:
    CalendarFeedToken.objects.filter(user=user).delete()
