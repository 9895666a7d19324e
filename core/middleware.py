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
