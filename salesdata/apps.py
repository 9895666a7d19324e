from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesdataConfig(AppConfig):
    """The loader of the public "CRM Sales Opportunities" data set (``datasets/``): a demo and test
    data source, not a feature of the product's imports."""

    name = "salesdata"
    verbose_name = _("Public sales data set")
