from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from accounts.permissions import can_edit
from core.exports import MONEY, Column
from core.views import archive_toggle, form_page, list_page, lookup_response, paginate, purge_page
from customfields.columns import list_columns
from customfields.display import list_context
from customfields.exports import custom_export_columns
from dedupe.forms import create_unless_duplicate, tax_id_taken_links
from opportunities.selectors import opportunity_list

from . import selectors, services
from .filters import ContactFilter, OrganizationFilter
from .forms import ContactForm, OrganizationForm
from .models import Contact, Organization


def _organization_or_404(user, pk, *, for_edit=False):
    try:
        org = selectors.organization_get(user=user, pk=pk)
    except Organization.DoesNotExist:
        raise Http404 from None
    if for_edit and not can_edit(user, org):
        raise Http404
    return org


def _contact_or_404(user, pk, *, for_edit=False):
    try:
        contact = selectors.contact_get(user=user, pk=pk)
    except Contact.DoesNotExist:
        raise Http404 from None
    if for_edit and not can_edit(user, contact):
        raise Http404
    return contact


ORGANIZATION_COLUMNS = [
    Column(_l("Name"), "name"),
    Column(_l("VAT number"), "vat_number"),
    Column(_l("Fiscal code"), "fiscal_code"),
    Column(_l("SDI code"), "sdi_code"),
    Column(_l("PEC"), "pec"),
    Column(_l("Sector"), "sector"),
    Column(_l("Employees"), "employees"),
    Column(_l("Annual revenue"), "annual_revenue", kind=MONEY),
    Column(_l("Street address"), "street"),
    Column(_l("Postal code"), "postal_code"),
    Column(_l("City"), "city"),
    Column(_l("Province"), "province"),
    Column(_l("Country"), "country"),
    Column(_l("Phone"), "phone"),
    Column(_l("E-mail"), "email"),
    Column(_l("Website"), "website"),
    Column(_l("Parent organization"), "parent.name"),
    Column(_l("Open deals"), "open_deal_count"),
    Column(_l("Owner"), lambda o: str(o.owner) if o.owner else ""),
]
CONTACT_COLUMNS = [
    Column(_l("First name"), "first_name"),
    Column(_l("Last name"), "last_name"),
    Column(_l("Job title"), "job_title"),
    Column(_l("Organization"), "organization.name"),
    Column(_l("E-mail"), "email"),
    Column(_l("Phone"), "phone"),
    Column(_l("Mobile"), "mobile"),
    Column(_l("Owner"), lambda c: str(c.owner) if c.owner else ""),
]


@login_required
def organization_list(request):
    return list_page(
        request,
        selector=selectors.organization_list,
        filterset_class=OrganizationFilter,
        template="contacts/organization_list.html",
        export_columns=lambda: [*ORGANIZATION_COLUMNS, *custom_export_columns("organization")],
        export_name="organizations",
        context=list_columns("organizations", request.GET),
        context_extra=list_context("organization"),
    )


@login_required
def organization_detail(request, pk):
    org = _organization_or_404(request.user, pk)
    context = {
        "org": org,
        "can_edit": can_edit(request.user, org),
        "contacts": org.contacts.visible_to(request.user).active().select_related("owner"),
        "deals": paginate(request, opportunity_list(user=request.user).filter(organization=org), 10),
        "subsidiaries": org.subsidiaries.visible_to(request.user).active(),
        "activities": org.activities.visible_to(request.user).select_related("owner").order_by("done", "due_at")[:20],
        "documents": org.documents.select_related("uploaded_by")[:20],
    }
    return render(request, "contacts/organization_detail.html", context)


@login_required
def organization_create(request):
    return form_page(
        request,
        form=tax_id_taken_links(request, OrganizationForm(request.POST or None, user=request.user)),
        save=lambda form: create_unless_duplicate(
            request,
            form,
            "organization",
            lambda: services.organization_create(user=request.user, data=form.cleaned_data),
        ),
        template="contacts/organization_form.html",
        success_message=lambda org: _("Organization “%(name)s” created.") % {"name": org.name},
    )


@login_required
def organization_edit(request, pk):
    org = _organization_or_404(request.user, pk, for_edit=True)
    return form_page(
        request,
        form=OrganizationForm(request.POST or None, instance=org, user=request.user),
        save=lambda form: services.organization_update(organization=org, user=request.user, data=form.cleaned_data),
        template="contacts/organization_form.html",
        success_message=_("Changes saved."),
        context={"org": org},
    )


@login_required
@require_POST
def organization_archive(request, pk):
    org = _organization_or_404(request.user, pk, for_edit=True)
    return archive_toggle(
        request,
        org,
        archive=lambda: services.organization_archive(organization=org, user=request.user),
        restore=lambda: services.organization_restore(organization=org, user=request.user),
        archived_message=_("Organization archived. A manager can restore it."),
        restored_message=_("Organization restored."),
    )


@login_required
def organization_purge(request, pk):
    org = _organization_or_404(request.user, pk)
    return purge_page(
        request,
        org,
        label=org.name,
        purge=lambda: services.organization_purge(organization=org, user=request.user),
        done_url=reverse("contacts:organization_list") + "?archived=1",
        consequences=_("Its documents and activities are deleted with it; its contacts stay, without it."),
        breadcrumbs=[(_("Organizations"), reverse("contacts:organization_list"))],
    )


@login_required
def contact_list(request):
    return list_page(
        request,
        selector=selectors.contact_list,
        filterset_class=ContactFilter,
        template="contacts/contact_list.html",
        export_columns=lambda: [*CONTACT_COLUMNS, *custom_export_columns("contact")],
        export_name="contacts",
        context=list_columns("contacts", request.GET),
        context_extra=list_context("contact"),
    )


@login_required
def contact_detail(request, pk):
    contact = _contact_or_404(request.user, pk)
    context = {
        "contact": contact,
        "can_edit": can_edit(request.user, contact),
        "deals": opportunity_list(user=request.user).filter(contact=contact)[:50],
        "activities": contact.activities.visible_to(request.user)
        .select_related("owner")
        .order_by("done", "due_at")[:20],
        "documents": contact.documents.select_related("uploaded_by")[:20],
    }
    return render(request, "contacts/contact_detail.html", context)


@login_required
def contact_create(request):
    initial = {"organization": request.GET["organization"]} if request.GET.get("organization") else {}
    return form_page(
        request,
        form=ContactForm(request.POST or None, user=request.user, initial=initial),
        save=lambda form: create_unless_duplicate(
            request, form, "contact", lambda: services.contact_create(user=request.user, data=form.cleaned_data)
        ),
        template="contacts/contact_form.html",
        success_message=lambda contact: _("Contact “%(name)s” created.") % {"name": contact.full_name},
    )


@login_required
def contact_edit(request, pk):
    contact = _contact_or_404(request.user, pk, for_edit=True)
    return form_page(
        request,
        form=ContactForm(request.POST or None, instance=contact, user=request.user),
        save=lambda form: services.contact_update(contact=contact, user=request.user, data=form.cleaned_data),
        template="contacts/contact_form.html",
        success_message=_("Changes saved."),
        context={"contact": contact},
    )


@login_required
@require_POST
def contact_archive(request, pk):
    contact = _contact_or_404(request.user, pk, for_edit=True)
    return archive_toggle(
        request,
        contact,
        archive=lambda: services.contact_archive(contact=contact, user=request.user),
        restore=lambda: services.contact_restore(contact=contact, user=request.user),
        archived_message=_("Contact archived. A manager can restore it."),
        restored_message=_("Contact restored."),
    )


@login_required
def contact_purge(request, pk):
    contact = _contact_or_404(request.user, pk)
    return purge_page(
        request,
        contact,
        label=contact.full_name,
        purge=lambda: services.contact_purge(contact=contact, user=request.user),
        done_url=reverse("contacts:contact_list") + "?archived=1",
        consequences=_("Their documents and activities are deleted with them."),
        breadcrumbs=[(_("Contacts"), reverse("contacts:contact_list"))],
    )


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
def organization_lookup(request):
    """Organizations for the autocomplete of forms and filters (``?q=``): visible ones only."""
    return lookup_response(
        request,
        lambda text: selectors.organization_search(user=request.user, text=text),
        label=lambda org: org.name,
        detail=lambda org: org.city,
    )


@login_required
def contact_lookup(request):
    """Contacts for the autocomplete (``?q=``, ``&organization=`` narrows to one organization)."""
    organization_id = _int_or_none(request.GET.get("organization"))
    return lookup_response(
        request,
        lambda text: selectors.contact_search(user=request.user, text=text, organization_id=organization_id),
        label=lambda contact: contact.full_name,
        detail=lambda contact: contact.organization.name if contact.organization else contact.email,
    )
