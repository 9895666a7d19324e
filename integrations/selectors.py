"""Every read of the integrations app's pages: one's own webhooks and their recent deliveries."""

from .models import WebhookDelivery, WebhookSubscription
from .webhooks import webhook_delivery_log

RECENT_DELIVERIES = 20


def webhook_list(*, user):
    """``user``'s own webhook subscriptions, newest first (nobody sees another's)."""
    return WebhookSubscription.objects.filter(owner=user).order_by("-created_at", "-id")


def webhook_get(*, user, pk: int) -> WebhookSubscription:
    """One of ``user``'s webhooks (DoesNotExist for anyone else's)."""
    return webhook_list(user=user).get(pk=pk)


def webhook_recent_deliveries(*, webhook: WebhookSubscription, user) -> list[WebhookDelivery]:
    """The newest deliveries of ``webhook`` that ``user`` may see (the delivery log's rule)."""
    return list(webhook_delivery_log(subscription=webhook, user=user)[:RECENT_DELIVERIES])


def webhook_delivery_get(*, webhook: WebhookSubscription, user, pk: int) -> WebhookDelivery:
    """One delivery of ``webhook`` from its log as ``user`` may read it (DoesNotExist otherwise)."""
    return webhook_delivery_log(subscription=webhook, user=user).get(pk=pk)
