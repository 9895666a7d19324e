"""Domain errors raised by services. Views, forms and the API map them to messages and statuses.

Services raise these instead of returning error codes so that every caller (form, board, API,
import, task) gets the same rule and the same message.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A request that the rules refuse. ``message`` is meant for people."""

    default_message = _("This change is not allowed.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class StaleVersionError(DomainError):
    """The caller edited an old copy of a record: someone else changed it in between."""

    default_message = _(
        "Someone else changed this record after you opened it. Reload to see their changes, then try again."
    )

    # With ``change``: who changed what, read from the record's history by the service that refused
    # ("Giulia Rossi moved this deal to “Qualifying”"), never guessed from timing.
    change_message = _(
        "%(change)s after you opened it. Your change was not saved: reload to see theirs, then try again."
    )

    def __init__(self, message=None, *, current=None, expected_version=None, change=None):
        if message is None and change:
            message = self.change_message % {"change": change}
        super().__init__(message)
        self.change = change
        self.current = current
        self.expected_version = expected_version


__all__ = ["DomainError", "StaleVersionError", "ValidationError"]
