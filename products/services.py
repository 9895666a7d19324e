"""Every write to the catalog."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import ValidationError
from customfields.services import custom_fields_apply

from .models import Product
from .querysets import can_manage_catalog

FIELDS = ("name", "code", "kind", "category", "description", "unit_price", "currency", "vat_rate", "active")


def _check_manager(user) -> None:
    if not can_manage_catalog(user):
        raise ValidationError({"name": _("Only managers and administrators can change the catalog.")})


@transaction.atomic
def product_create(*, user, **data) -> Product:
    """Add a product or service to the catalog."""
    _check_manager(user)
    product = Product()
    data, _custom = custom_fields_apply(product, entity="product", data=data, creating=True)
    for key, value in data.items():
        if key in FIELDS:
            setattr(product, key, value)
    product.name = (product.name or "").strip()
    product.currency = (product.currency or "EUR").upper()
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, user, data: dict) -> Product:
    """Change a catalog entry. Lines already on deals and quotes keep their own copy of the price."""
    _check_manager(user)
    product = Product.objects.select_for_update().get(pk=product.pk)
    data, _custom = custom_fields_apply(product, entity="product", data=data)
    for key, value in data.items():
        if key not in FIELDS:
            raise ValidationError({key: _("This field cannot be changed here.")})
        setattr(product, key, value)
    product.currency = product.currency.upper()
    product.full_clean()
    product.save()
    return product
