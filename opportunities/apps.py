from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _rollups_install(sender, using="default", verbosity=1, stdout=None, **kwargs):
    from .rollups import rollups_install

    rollups_install(using=using, out=stdout if verbosity else None)


class OpportunitiesConfig(AppConfig):
    name = "opportunities"
    verbose_name = _("Opportunities")

    def ready(self):
        from . import handlers  # noqa: F401  (outbox subscriptions)

        # The triggers that keep the deal totals (opportunities/rollups.py), after every migrate.
        post_migrate.connect(_rollups_install, sender=self, dispatch_uid="opportunities_rollups_install")
