"""Every write of the integrations app: tokens and webhook subscriptions."""

import datetime
import urllib.parse

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ValidationError

from .models import ApiToken, WebhookEvent, WebhookSubscription, token_generate, token_hash
from .webhooks import target_refusal


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


@transaction.atomic
def webhook_create(*, user, target_url: str, secret: str, events: list, active: bool = True) -> WebhookSubscription:
    hook = WebhookSubscription(
        owner=user, target_url=target_url, secret=secret, events=_clean_events(events), active=active
    )
    hook.full_clean()
    _check_target(hook)
    hook.save()
    return hook


@transaction.atomic
def webhook_update(*, webhook: WebhookSubscription, user, data: dict) -> WebhookSubscription:
    for field in ("target_url", "secret", "active"):
        if field in data:
            setattr(webhook, field, data[field])
    if "events" in data:
        webhook.events = _clean_events(data["events"])
    webhook.full_clean()
    _check_target(webhook)
    webhook.save()
    return webhook
