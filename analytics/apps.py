from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analytics"
    verbose_name = _("Sales analytics")

    def ready(self):
        from . import services  # noqa: F401  (outbox subscription: analytics.report_due)
