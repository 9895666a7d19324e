from django.db import IntegrityError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from .probes import health_live, health_ready, metrics_view


def bad_request(request, message: str, *, field: str | None = None):
    """A 400 that says what is wrong: the API's JSON error shape under /api/, a page elsewhere."""
    if request.path.startswith("/api/"):
        error = {"code": "validation_error" if field else "bad_request", "message": message}
        if field:
            error["fields"] = {field: [message]}
        return JsonResponse({"error": error}, status=400)
    return render(request, "errors/bad_request.html", {"message": message}, status=400)


class NulByteMiddleware:
    """Refuse a NUL character in the path, the query string or form fields with a 400.

    No text the CRM stores or searches can contain one, and PostgreSQL refuses it in any string
    parameter, so ``?q=%00`` on a list, a report or the API (or ``%00`` in the calendar feed's
    address) would otherwise end as a 500 wherever a view hands it to a query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = self._nul_field(request)
        if field is not None:
            return bad_request(request, _("The request contains a NUL character, which is not allowed."), field=field)
        return self.get_response(request)

    @staticmethod
    def _nul_field(request) -> str | None:
        if "\x00" in request.path:
            return "path"
        for data in (request.GET, request.POST if request.method == "POST" and _is_form(request) else None):
            for key, values in data.lists() if data is not None else ():
                if "\x00" in key or any(isinstance(v, str) and "\x00" in v for v in values):
                    return key.replace("\x00", "") or "non_field_errors"
        return None


def _is_form(request) -> bool:
    content_type = request.META.get("CONTENT_TYPE", "")
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


class UserLanguageMiddleware:
    """Use the language chosen on the user's profile; otherwise LocaleMiddleware's pick stands."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user and user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


class IntegrityErrorMiddleware:
    """The safety net under every page: a database constraint violation that no form caught (two
    people saving the same thing at once) is a 400 that says what went wrong, never a 500. Form
    pages show it on the form (``core.views.form_page``); the API has its own handler."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, IntegrityError):
            return None
        from .integrity import integrity_error_explained

        _field, message = integrity_error_explained(exception)
        if "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"ok": False, "message": message}, status=400)
        return render(request, "errors/conflict.html", {"message": message}, status=400)


class HealthCheckMiddleware:
    """Answers ``/health/live``, ``/health/ready`` and ``/metrics`` with a bearer token before the
    other middlewares: a probe or Prometheus is not redirected to HTTPS, needs no allowed host name
    (it calls the machine's address), reads no session and writes none. ``/metrics`` without a
    token goes the normal way (a staff member's session). Placed right after the request log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info.rstrip("/")
        view = {"/health/live": health_live, "/health/ready": health_ready}.get(path)
        if view is None and path == "/metrics" and request.headers.get("Authorization", "")[:7].lower() == "bearer ":
            view = metrics_view
        if view is None or request.method not in {"GET", "HEAD"}:
            return self.get_response(request)
        request.view_name = view.__name__
        return view(request)
