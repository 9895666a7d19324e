"""Where to send the user after a POST: the ``next`` they came from, if it is ours.

Every view that honours ``next`` goes through :func:`next_url`, so ``//evil.example/…``,
``https://evil.example/…`` or ``/\\evil.example`` can never turn the CRM into an open redirect.
"""

from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request, default: str) -> str:
    """``next`` from the form (or the query string) when it points inside this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
