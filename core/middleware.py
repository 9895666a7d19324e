from django.db import IntegrityError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import translation


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
