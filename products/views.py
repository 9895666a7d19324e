from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from core.exports import MONEY, Column
from core.views import form_page, list_page
from customfields.display import list_context
from customfields.exports import custom_export_columns

from . import selectors, services
from .filters import ProductFilter
from .forms import ProductForm
from .models import Product
from .querysets import can_manage_catalog

EXPORT_COLUMNS = [
    Column(_l("Name"), "name"),
    Column(_l("Code"), "code"),
    Column(_l("Kind"), lambda p: p.get_kind_display()),
    Column(_l("Category"), "category"),
    Column(_l("Unit price"), "unit_price", kind=MONEY),
    Column(_l("Currency"), "currency"),
    Column(_l("VAT rate (%)"), "vat_rate"),
    Column(_l("Active"), "active"),
]


def _form_context(title, product=None):
    return {
        "title": title,
        "breadcrumbs": [(_("Products"), reverse("products:list"))],
        "cancel_url": reverse("products:list"),
        "wide_fields": "description",
        "product": product,
    }


@login_required
def product_list(request):
    return list_page(
        request,
        selector=selectors.product_list,
        filterset_class=ProductFilter,
        template="products/product_list.html",
        export_columns=lambda: [*EXPORT_COLUMNS, *custom_export_columns("product")],
        export_name="products",
        context_extra=list_context("product"),
    )


@login_required
def product_create(request):
    if not can_manage_catalog(request.user):
        raise Http404
    return form_page(
        request,
        form=ProductForm(request.POST or None),
        save=lambda form: services.product_create(user=request.user, **form.cleaned_data),
        template="partials/record_form.html",
        success_message=lambda p: _("Product “%(name)s” saved.") % {"name": p.name},
        context=_form_context(_("New product")),
    )


@login_required
def product_edit(request, pk):
    if not can_manage_catalog(request.user):
        raise Http404
    try:
        product = selectors.product_get(user=request.user, pk=pk)
    except Product.DoesNotExist:
        raise Http404 from None
    return form_page(
        request,
        form=ProductForm(request.POST or None, instance=product),
        save=lambda form: services.product_update(product=product, user=request.user, data=form.cleaned_data),
        template="partials/record_form.html",
        success_message=lambda p: _("Product “%(name)s” saved.") % {"name": p.name},
        context=_form_context(product.name, product),
    )
