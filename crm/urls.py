from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import home, language_set
from core.probes import health_live, health_ready, metrics_view
from core.views import favicon

urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    # Also answered earlier by core.middleware.HealthCheckMiddleware; the patterns name them.
    path("health/live", health_live, name="health_live"),
    path("health/ready", health_ready, name="health_ready"),
    path("metrics", metrics_view, name="metrics"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/reports/", include("reports.api_urls")),
    path("api/v1/analytics/", include("analytics.api_urls")),
    path("api/v1/", include(("crm.api_urls", "api"), namespace="api")),
    path("reports/", include("reports.urls")),
    path("analytics/", include("analytics.urls")),
    path("accounts/", include("accounts.urls")),
    path("integrations/", include("integrations.urls")),
    path("language/", language_set, name="set_language"),
    path("pipeline/", include("pipeline.urls")),
    path("opportunities/", include("opportunities.urls")),
    path("", include("contacts.urls")),
    path("imports/", include("imports.urls")),
    path("products/", include("products.urls")),
    path("settings/custom-fields/", include("customfields.urls")),
    path("quotes/", include("quotes.urls")),
    path("documents/", include("documents.urls")),
    path("activities/", include("activities.urls")),
    path("bulk/", include("bulk.urls")),
    path("views/", include("savedviews.urls")),
    path("calendar/", include("activities.calendar_urls")),
    path("forms/", include("webforms.urls")),
    path("f/", include("webforms.public_urls")),
    path("duplicates/", include("dedupe.urls")),
    path("privacy/", include("privacy.urls")),
    path("mail/", include("mail.urls")),
    path("search/", include("search.urls")),
    path("tags/", include("tags.urls")),
    path("notes/", include("notes.urls")),
    path("notifications/", include("notifications.urls")),
    path("automations/", include("automations.urls")),
    path("admin/", admin.site.urls),
]

# Under /api/ a 404 or 500 is the API's documented JSON error; elsewhere Django's pages.
handler404 = "core.api.handlers.not_found"
handler500 = "core.api.handlers.server_error"
