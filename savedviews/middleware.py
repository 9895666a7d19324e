"""A list opened without any filter goes to the user's default view for it (if they chose one).

The defaults are read from the session (filled at login and when a default changes), so the
redirect costs no query. ``?view=0`` opens the list as it is, without the default."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from .handlers import SESSION_KEY
from .selectors import list_key_of


class DefaultViewMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method == "GET"
            and not request.META.get("QUERY_STRING")
            and settings.SESSION_COOKIE_NAME in request.COOKIES  # never touch an anonymous request's session
            and hasattr(request, "session")
        ):
            defaults = request.session.get(SESSION_KEY)
            if defaults and getattr(request, "user", None) is not None and request.user.is_authenticated:
                key = list_key_of(request.path_info)
                if key and key in defaults:
                    return redirect(reverse("savedviews:open", args=[defaults[key]]))
        return self.get_response(request)
