"""The client's address, as far as this deployment can trust it.

Behind a reverse proxy every request comes from the proxy's address (``REMOTE_ADDR``); the client's
is in ``X-Forwarded-For``, which each proxy extends with the address it received the request from.
Only the entries added by our own proxies can be believed: anything before them was written by the
client. ``CRM_TRUSTED_PROXY_COUNT`` says how many proxies there are: 0 (the default) ignores the
header entirely, 1 takes its last entry (the one our proxy appended), 2 the one before, and so on.
The log-in lock-out (django-axes) and the API's anonymous throttle key on this address.
"""

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The address of the client that sent ``request``, trusting ``CRM_TRUSTED_PROXY_COUNT`` proxies."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "CRM_TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            address = _valid(forwarded[-proxies])
            if address:
                return address
    return _valid(remote) or remote or None
