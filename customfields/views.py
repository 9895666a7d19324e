"""The administrators' settings page: define, relabel, archive and restore custom fields."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import ValidationError
from core.views import form_add_errors

from . import services
from .models import CustomField, Entity
from .selectors import definition_list
from .settings_forms import CustomFieldForm


def _admin_only(request) -> None:
    if not request.user.is_crm_admin:
        raise PermissionDenied(_("Only an administrator can change custom fields."))


@login_required
def custom_field_list(request):
    _admin_only(request)
    rows = list(definition_list(include_archived=True))
    groups = [(label, [d for d in rows if d.entity == value]) for value, label in Entity.choices]
    return render(request, "customfields/list.html", {"groups": groups})


def _form_page(request, form, save, *, title, definition=None):
    if request.method == "POST" and form.is_valid():
        try:
            save(form)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Custom field saved."))
            return redirect("customfields:list")
    return render(request, "customfields/form.html", {"form": form, "title": title, "definition": definition})


@login_required
def custom_field_create(request):
    _admin_only(request)
    form = CustomFieldForm(request.POST or None, initial={"entity": request.GET.get("entity", "deal")})

    def save(form):
        data = form.service_data()
        return services.custom_field_create(
            user=request.user, entity=form.cleaned_data["entity"], key=form.cleaned_data["key"], **data
        )

    return _form_page(request, form, save, title=_("New custom field"))


@login_required
def custom_field_edit(request, pk):
    _admin_only(request)
    definition = get_object_or_404(CustomField, pk=pk)
    form = CustomFieldForm(request.POST or None, definition=definition)

    def save(form):
        return services.custom_field_update(user=request.user, definition=definition, data=form.service_data())

    return _form_page(
        request, form, save, title=_("Edit %(field)s") % {"field": definition.label}, definition=definition
    )


@login_required
@require_POST
def custom_field_archive(request, pk):
    _admin_only(request)
    definition = get_object_or_404(CustomField, pk=pk)
    if request.POST.get("restore"):
        services.custom_field_restore(user=request.user, definition=definition)
        messages.success(request, _("“%(field)s” restored.") % {"field": definition.label})
    else:
        services.custom_field_archive(user=request.user, definition=definition)
        messages.success(
            request, _("“%(field)s” archived: hidden everywhere, its values kept.") % {"field": definition.label}
        )
    return redirect("customfields:list")
