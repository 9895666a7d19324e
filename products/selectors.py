"""Every read of the catalog that a page, a form or an export needs."""

from django.db.models import Case, DateTimeField, F, When

from .models import Product


def product_list(*, user, include_archived: bool = False):
    """The catalog as ``user`` sees it. Inactive products count as "archived" for the list page."""
    qs = Product.objects.visible_to(user).annotate(
        archived_at=Case(When(active=False, then=F("updated_at")), default=None, output_field=DateTimeField())
    )
    if not include_archived:
        qs = qs.filter(active=True)
    return qs


def product_get(*, user, pk) -> Product:
    return Product.objects.visible_to(user).get(pk=pk)


def product_choices(*, currency: str | None = None):
    """Active products for a line form's <select>."""
    qs = Product.objects.active().only("id", "name", "code", "unit_price", "currency", "vat_rate")
    return qs.filter(currency=currency) if currency else qs
