"""Outbox subscriptions: events other apps emit, turned into notifications (after the commit, in
the worker; an event delivered twice notifies once, by its key)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _

from core.outbox import subscribe

from .models import Kind
from .services import notification_email_send, notify

subscribe("notification.email")(notification_email_send)


def _user(pk):
    return get_user_model().objects.filter(pk=pk).first() if pk else None


def _record(kind: str, pk: int):
    from django.apps import apps

    model = {
        "opportunity": ("opportunities", "Opportunity"),
        "contact": ("contacts", "Contact"),
        "organization": ("contacts", "Organization"),
    }.get(kind)
    return apps.get_model(*model).objects.filter(pk=pk).first() if model else None


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else _("Someone")


@subscribe("note.mentioned")
def notify_mentions(event) -> None:
    payload = event.payload
    record = _record(payload["record"], payload["record_id"])
    if record is None:
        return
    actor = _user(payload.get("by"))
    for user in get_user_model().objects.filter(pk__in=payload["users"]):
        with translation.override(user.language or settings.LANGUAGE_CODE):
            text = _("%(who)s mentioned you in a note on %(record)s") % {"who": _name(actor), "record": record}
        notify(user, Kind.MENTION, text=text, record=record, actor=actor, key=f"mention:{payload['note']}")


@subscribe("opportunity.created", "opportunity.updated")
def notify_assigned(event) -> None:
    payload = event.payload
    if event.topic == "opportunity.updated" and "owner" not in payload.get("changed_fields", []):
        return
    deal = _record("opportunity", payload["opportunity"]["id"])
    if deal is None:
        return
    owner = _user(payload["opportunity"]["owner"])
    actor = _user(payload.get("changed_by")) or deal.created_by
    if owner is None:
        return
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        text = _("%(who)s gave you the deal %(deal)s") % {"who": _name(actor), "deal": deal.name}
    notify(owner, Kind.ASSIGNED, text=text, record=deal, actor=actor, key=f"assigned:{event.pk}")
