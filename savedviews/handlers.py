"""On login, remember in the session which view each list opens with, so that a list page does not
ask the database (its query budget stays the same) and the middleware can send it there."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .selectors import default_view_ids

SESSION_KEY = "saved_view_defaults"


def remember_defaults(request, user) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = default_view_ids(user=user)


@receiver(user_logged_in, dispatch_uid="savedviews_remember_defaults")
def _on_login(sender, request, user, **kwargs):
    remember_defaults(request, user)
