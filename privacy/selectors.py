"""Reads for the privacy features."""

from .models import Consent


def consent_current(*, contact) -> list[Consent]:
    """The contact's latest consent event per purpose (given or withdrawn), by purpose."""
    latest: dict[str, Consent] = {}
    for consent in (
        Consent.objects.filter(contact=contact).select_related("recorded_by").order_by("-recorded_at", "-id")
    ):
        latest.setdefault(consent.purpose, consent)
    return sorted(latest.values(), key=lambda c: c.purpose)


def consent_history(*, contact):
    return Consent.objects.filter(contact=contact).select_related("recorded_by").order_by("-recorded_at", "-id")
