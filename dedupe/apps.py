from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DedupeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dedupe"
    verbose_name = _("Duplicates")
