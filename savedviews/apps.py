from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SavedViewsConfig(AppConfig):
    name = "savedviews"
    verbose_name = _("Saved views")

    def ready(self):
        from . import handlers  # noqa: F401 - the login signal that remembers one's default views
