from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


def _forget_cached_user(sender, instance, **kwargs):
    # Imported here: the backend module imports auth's models, not loaded yet when apps.py is.
    from .backends import user_cache_forget

    user_cache_forget(instance.pk)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and teams")

    def ready(self):
        # A saved or deleted user is read again from the database on its next request
        # (accounts/backends.py caches the logged-in user).
        user_model = self.get_model("User")
        post_save.connect(_forget_cached_user, sender=user_model, dispatch_uid="accounts.forget_cached_user")
        post_delete.connect(_forget_cached_user, sender=user_model, dispatch_uid="accounts.forget_cached_user_del")
