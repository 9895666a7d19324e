"""Health probes and metrics for operators, load balancers and Prometheus: ``/health/live``,
``/health/ready`` and ``/metrics``. Answered early by ``core.middleware.HealthCheckMiddleware``
(no session, no host check), and named in ``crm/urls.py``."""

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from .health import readiness
from .metrics import metrics_render


def health_live(request):
    """The process answers. No database, no cache: a probe that restarts the process on failure."""
    return JsonResponse({"status": "ok"})


def health_ready(request):
    """Whether this process can serve: database, migrations, cache, broker, outbox backlog (200/503)."""
    ready, checks = readiness()
    response = JsonResponse({"status": "ok" if ready else "fail", "checks": checks}, status=200 if ready else 503)
    response["Cache-Control"] = "no-store"
    return response


def metrics_view(request):
    """Prometheus exposition text, for a bearer of ``METRICS_TOKEN`` or a signed-in staff member.
    Without a token configured the endpoint does not exist (404)."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    authorization = request.headers.get("Authorization", "")
    bearer = authorization[7:] if authorization[:7].lower() == "bearer " else ""
    user = getattr(request, "user", None)  # none when answered before the session middleware
    allowed = (bearer and constant_time_compare(bearer, token)) or (
        user is not None and user.is_authenticated and user.is_active and user.is_staff
    )
    if not allowed:
        response = HttpResponse(_("Metrics need the metrics token or a staff login."), status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics_render()
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
