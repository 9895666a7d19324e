from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomFieldsConfig(AppConfig):
    name = "customfields"
    verbose_name = _("Custom fields")

    def ready(self):
        from django.core.signals import request_finished, request_started

        from .selectors import definitions_cache_start, definitions_cache_stop

        # Definitions are read once per request (selectors.definitions_for) and forgotten at its
        # edges, so a page never mixes two versions of a definition and never keeps a stale one.
        request_started.connect(definitions_cache_start, dispatch_uid="customfields-forget-start")
        request_finished.connect(definitions_cache_stop, dispatch_uid="customfields-forget-end")
