"""Outbox subscriptions of the opportunities app."""

from core.outbox import subscribe

from .services import opportunity_amounts_rebase


@subscribe("exchange_rate.changed")
def rebase_amounts_on_rate_change(event):
    opportunity_amounts_rebase(currency=event.payload["currency"])
