"""Every write of the integrations app: tokens, webhook subscriptions and redeliveries."""

import datetime
import urllib.parse

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ValidationError
from core.outbox import task_request

from .models import (
    SECRET_MAX_CHARS,
    ApiToken,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
    token_generate,
    token_hash,
    webhook_secret_generate,
    webhook_secret_key,
    webhook_secret_standard,
)
from .webhooks import record_visible, target_refusal

SECRET_MIN_CHARS = 16


@transaction.atomic
def api_token_create(
    *, user, name: str, read_only: bool = False, expires_at: datetime.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for ``user``. Returns the row and the raw token, which is never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name, e.g. the integration that uses it.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    raw = token_generate()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:10], key_hash=token_hash(raw), read_only=read_only, expires_at=expires_at
    )
    return token, raw


def api_token_revoke(*, token: ApiToken, user) -> ApiToken:
    if token.user_id != user.pk:
        raise ValidationError({"token": _("You can only revoke your own tokens.")})
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def _clean_events(events) -> list[str]:
    valid = set(WebhookEvent.values)
    if not isinstance(events, list) or not events:
        raise ValidationError({"events": _("Choose at least one event.")})
    unknown = [e for e in events if e not in valid]
    if unknown:
        raise ValidationError({"events": _("Unknown events: %(events)s.") % {"events": ", ".join(map(str, unknown))}})
    return sorted(set(events))


def _check_target(hook: WebhookSubscription) -> None:
    if hook.target_url and target_refusal(hook.target_url, resolve=False):
        raise ValidationError(
            {
                "target_url": _("Webhooks can only be sent to public addresses, not to %(host)s.")
                % {"host": urllib.parse.urlsplit(hook.target_url).hostname}
            }
        )


def _clean_secret(secret: str | None) -> str:
    """A secret given by the owner, in the ``whsec_`` form: a ``whsec_`` secret as it is, any other
    text of at least 16 characters converted (its UTF-8 bytes are the key). None or "": a new one."""
    if secret is None or secret == "":
        return webhook_secret_generate()
    key = webhook_secret_key(secret)
    if key is not None and len(key) < SECRET_MIN_CHARS:
        raise ValidationError({"secret": _("A whsec_ secret needs at least 16 bytes of key.")})
    if key is None and len(secret) < SECRET_MIN_CHARS:
        raise ValidationError({"secret": _("Use at least 16 characters, or leave it empty for a generated one.")})
    secret = webhook_secret_standard(secret)
    if len(secret) > SECRET_MAX_CHARS:
        raise ValidationError({"secret": _("This secret is too long.")})
    return secret


def _check_owner(webhook: WebhookSubscription, user) -> None:
    if webhook.owner_id != user.pk:
        raise ValidationError({"webhook": _("You can only change your own webhooks.")})


@transaction.atomic
def webhook_create(
    *, user, target_url: str, events: list, secret: str | None = None, active: bool = True
) -> WebhookSubscription:
    """Subscribe ``user`` to ``events``. Without ``secret`` a new one is generated; read it from the
    returned row (``secret``), once, to show it to the owner."""
    hook = WebhookSubscription(
        owner=user, target_url=target_url, secret=_clean_secret(secret), events=_clean_events(events), active=active
    )
    hook.full_clean()
    _check_target(hook)
    hook.save()
    return hook


@transaction.atomic
def webhook_update(*, webhook: WebhookSubscription, user, data: dict) -> WebhookSubscription:
    """Change a subscription of ``user``'s (``target_url``, ``secret``, ``events``, ``active``:
    false pauses it, its pending deliveries wait; true resumes it and the retry sweep sends them)."""
    _check_owner(webhook, user)
    for field in ("target_url", "active"):
        if field in data:
            setattr(webhook, field, data[field])
    if "secret" in data:
        webhook.secret, webhook.secret_converted = _clean_secret(data["secret"]), False
    if "events" in data:
        webhook.events = _clean_events(data["events"])
    webhook.full_clean()
    _check_target(webhook)
    webhook.save()
    return webhook


@transaction.atomic
def webhook_secret_rotate(*, webhook: WebhookSubscription, user) -> WebhookSubscription:
    """Give ``user``'s subscription a new generated secret; the old one stops signing at once.
    The returned row's ``secret`` is the new one, to show once."""
    _check_owner(webhook, user)
    webhook.secret, webhook.secret_converted = webhook_secret_generate(), False
    webhook.save(update_fields=["secret", "secret_converted"])
    return webhook


@transaction.atomic
def webhook_delete(*, webhook: WebhookSubscription, user) -> None:
    """Delete ``user``'s subscription and its delivery log (configuration, not business data)."""
    _check_owner(webhook, user)
    webhook.delete()


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery, user) -> WebhookDelivery:
    """Send a delivery again, now, as a new attempt (its ``webhook-id`` stays, so the receiver can
    tell a duplicate). Only the subscription's owner may, only about a record they may see now, and
    only while the subscription is active. The send is a task after commit; when no worker can be
    reached the delivery stays pending and due, and the retry sweep sends it."""
    delivery = WebhookDelivery.objects.select_for_update().select_related("subscription").get(pk=delivery.pk)
    webhook = delivery.subscription
    _check_owner(webhook, user)
    if not record_visible(user, delivery.record_kind, delivery.record_id) or not delivery.payload:
        raise ValidationError({"delivery": _("This delivery is about a record you may no longer see.")})
    if not webhook.active:
        raise ValidationError({"delivery": _("The webhook is paused: resume it first.")})
    delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.PENDING, None
    delivery.save(update_fields=["status", "next_attempt_at"])
    delivery_id = delivery.pk
    transaction.on_commit(
        lambda: task_request(
            "integrations.tasks.webhook_deliveries_send",
            kwargs={"delivery_id": delivery_id},
            waiting="a webhook redelivery",
        )
    )
    return delivery
