"""Django's 404 and 500 views, answering the API's documented JSON error under ``/api/``.

A URL no route matches (``/api/v1/nope/``) or an error outside DRF's exception handler (one in a
middleware, or an unexpected exception in a view) reaches Django's handlers, not DRF's: without these
an integrator's client would get an HTML page where the schema promises ``{"error": …}``.
"""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

API_PREFIX = "/api/"


def _is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"error": {"code": "not_found", "message": _("Not found.")}}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        message = _("A server error occurred. It has been logged; please try again later.")
        return JsonResponse({"error": {"code": "server_error", "message": message}}, status=500)
    return defaults.server_error(request)
