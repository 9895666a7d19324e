"""Outbox subscriptions of the activities app (the reminder e-mail lives with its service)."""

from . import services  # noqa: F401  (registers activity_reminder_email)
