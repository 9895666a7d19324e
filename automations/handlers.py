"""Outbox subscriptions: deal events fire automation rules, after the commit, in the worker."""

from core.outbox import subscribe

from .services import EVENT_TRIGGERS, rules_on_event

subscribe(*EVENT_TRIGGERS)(rules_on_event)
