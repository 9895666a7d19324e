from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import ChangeNotAllowed, can_edit, can_purge, sees_everything
from contacts.models import Contact
from core.exceptions import DomainError, ValidationError

from . import selectors, services
from .forms import ConsentForm, LegalHoldForm, RetentionForm
from .models import LegalHold, PrivacySettings, RetentionReview
from .registry import related_kinds


def _contact(user, pk) -> Contact:
    contact = Contact.objects.visible_to(user).filter(pk=pk).select_related("organization").first()
    if contact is None:
        raise Http404
    return contact


@login_required
def consent_add(request, pk):
    contact = _contact(request.user, pk)
    if not can_edit(request.user, contact):
        raise Http404
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.consent_record(contact=contact, user=request.user, **form.cleaned_data)
        messages.success(request, _("Consent recorded."))
        return redirect(contact)
    history = selectors.consent_history(contact=contact)
    return render(request, "privacy/consent_form.html", {"contact": contact, "form": form, "history": history})


@login_required
def contact_export(request, pk):
    """Download everything about the person as one zip of JSON and CSV files."""
    contact = _contact(request.user, pk)
    data, _counts = services.contact_export(user=request.user, contact=contact)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}-export.zip"'
    return response


@login_required
def contact_erase(request, pk):
    contact = _contact(request.user, pk)
    allowed = can_purge(request.user, contact)
    held = LegalHold.objects.filter(contact=contact).first()
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied
        if not request.POST.get("confirm"):
            messages.error(request, _("Tick the box to confirm the erasure."))
        else:
            try:
                log = services.contact_erase(user=request.user, contact=contact)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("Personal data erased: %(count)d values in %(tables)d columns, %(files)d files.")
                    % {"count": sum(log.replaced.values()), "tables": len(log.replaced), "files": log.files},
                )
                return redirect(contact)
    return render(request, "privacy/erase.html", {"contact": contact, "allowed": allowed, "held": held})


@login_required
def legal_hold(request, pk):
    """Set (with a reason) or lift the legal hold that stops a contact's erasure: administrators
    and the managers who may change the contact. Others who may change it are told no (403)."""
    contact = _contact(request.user, pk)
    if not can_edit(request.user, contact):
        raise Http404
    if not services.may_hold(request.user, contact):
        raise PermissionDenied
    held = LegalHold.objects.filter(contact=contact).select_related("set_by").first()
    form = LegalHoldForm(request.POST or None, initial={"reason": held.reason if held else ""})
    if request.method == "POST":
        try:
            if request.POST.get("lift"):
                services.legal_hold_lift(user=request.user, contact=contact)
                messages.success(request, _("Legal hold lifted: the data can be erased again."))
                return redirect(contact)
            if form.is_valid():
                services.legal_hold_set(user=request.user, contact=contact, reason=form.cleaned_data["reason"])
                messages.success(request, _("Legal hold set: the data cannot be erased until it is lifted."))
                return redirect(contact)
        except ChangeNotAllowed as exc:
            raise PermissionDenied(exc.message) from None
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(request, "privacy/legal_hold.html", {"contact": contact, "form": form, "held": held})


@login_required
def processing_register(request):
    """What personal data the CRM holds, where and why (administrators)."""
    if not sees_everything(request.user):
        raise PermissionDenied
    settings = PrivacySettings.current()
    form = RetentionForm(request.POST or None, initial={"retention_days": settings.retention_days})
    if request.method == "POST" and form.is_valid():
        services.retention_set(user=request.user, days=form.cleaned_data["retention_days"])
        messages.success(request, _("Retention saved."))
        return redirect("privacy:register")
    kinds = []
    for kind in related_kinds():
        model = kind.model_class
        kinds.append(
            {
                "name": kind.name,
                "label": model._meta.verbose_name_plural,
                "table": model._meta.db_table,
                "purpose": kind.purpose,
                "fields": [
                    f.verbose_name
                    for f in model._meta.concrete_fields
                    if f.get_internal_type() in {"CharField", "TextField", "EmailField", "JSONField", "FileField"}
                ],
            }
        )
    contact_fields = [
        f.verbose_name
        for f in Contact._meta.concrete_fields
        if f.get_internal_type() in {"CharField", "TextField", "EmailField"}
    ]
    reviews = RetentionReview.objects.select_related("contact")[:100]
    return render(
        request,
        "privacy/register.html",
        {
            "kinds": kinds,
            "contact_fields": contact_fields,
            "form": form,
            "settings": settings,
            "reviews": reviews,
            "review_count": RetentionReview.objects.count(),
            "holds": LegalHold.objects.select_related("contact", "set_by").order_by("-set_at")[:100],
        },
    )
