from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _forget(sender, **kwargs):
    from .selectors import definitions_forget

    definitions_forget()


def _forget_user(sender, instance, **kwargs):
    from .display import user_name_forget

    user_name_forget(instance.pk)


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
        # ...and kept in the shared cache between requests, dropped whenever one is saved or deleted
        # (the services, the Django admin, a factory in a test).
        from django.db.models.signals import post_delete, post_save

        from .models import CustomField

        post_save.connect(_forget, sender=CustomField, dispatch_uid="customfields-forget-saved")
        post_delete.connect(_forget, sender=CustomField, dispatch_uid="customfields-forget-deleted")
        # User names shown for "user" fields are cached too (display.user_names).
        from django.contrib.auth import get_user_model

        post_save.connect(_forget_user, sender=get_user_model(), dispatch_uid="customfields-forget-user")
