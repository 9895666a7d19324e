from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def notification_poll_ms() -> int:
    """How often the bell asks for the unread count (``CRM_NOTIFICATION_POLL_SECONDS``, default 30)."""
    return int(float(getattr(settings, "CRM_NOTIFICATION_POLL_SECONDS", 30)) * 1000)
