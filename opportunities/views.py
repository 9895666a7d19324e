from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from accounts.permissions import can_edit
from core.currency import quantize_cents
from core.exceptions import StaleVersionError
from core.exports import BASE_AMOUNT_LABEL, MONEY, Column
from core.views import archive_toggle, form_page, list_page, purge_page

from . import selectors, services
from .filters import OpportunityFilter
from .forms import MoveForm, OpportunityForm, OpportunityLineForm
from .models import Opportunity, OpportunityLine


def _opportunity_or_404(user, pk, *, for_edit=False) -> Opportunity:
    try:
        opp = selectors.opportunity_get(user=user, pk=pk)
    except Opportunity.DoesNotExist:
        raise Http404 from None
    if for_edit and not can_edit(user, opp):
        raise Http404
    return opp


EXPORT_COLUMNS = [
    Column(_l("Deal"), "name"),
    Column(_l("Organization"), "organization.name"),
    Column(_l("Contact"), lambda o: o.contact.full_name if o.contact else ""),
    Column(_l("Pipeline"), lambda o: o.pipeline.display_name),
    Column(_l("Stage"), lambda o: o.stage.display_name),
    Column(_l("Status"), lambda o: o.get_status_display()),
    Column(_l("Amount"), "amount", kind=MONEY),
    Column(_l("Currency"), "currency"),
    Column(BASE_AMOUNT_LABEL, "amount_base", kind=MONEY),
    Column(_l("Probability (%)"), "probability"),
    Column(_l("Expected close date"), "expected_close_date"),
    Column(_l("Closed at"), "closed_at"),
    Column(_l("Type"), lambda o: o.get_type_display()),
    Column(_l("Lead source"), lambda o: o.get_lead_source_display()),
    Column(_l("Lost reason"), lambda o: str(o.lost_reason) if o.lost_reason else ""),
    Column(_l("Next step"), "next_step"),
    Column(_l("Owner"), lambda o: str(o.owner)),
    Column(_l("Created at"), "created_at"),
]


@login_required
def opportunity_list(request):
    def count(filterset, archived):
        return None if archived else selectors.opportunity_count_from_totals(user=request.user, filterset=filterset)

    return list_page(
        request,
        selector=selectors.opportunity_list,
        filterset_class=OpportunityFilter,
        template="opportunities/opportunity_list.html",
        export_columns=EXPORT_COLUMNS,
        export_name="deals",
        count=count,
    )


@login_required
def opportunity_detail(request, pk):
    opp = _opportunity_or_404(request.user, pk)
    editable = can_edit(request.user, opp)
    related = selectors.opportunity_detail_related(opportunity=opp)
    related["lines"] = lines = list(related["lines"])
    context = {
        "lines_total": quantize_cents(sum((line.total for line in lines), Decimal(0))),
        "opp": opp,
        "can_edit": editable,
        "move_form": MoveForm(opportunity=opp) if editable and not opp.is_archived else None,
        "line_form": OpportunityLineForm(opportunity=opp) if editable and not opp.is_archived else None,
        **related,
    }
    return render(request, "opportunities/opportunity_detail.html", context)


@login_required
def opportunity_create(request):
    initial = {key: request.GET[key] for key in ("organization", "contact", "stage") if request.GET.get(key)}
    return form_page(
        request,
        form=OpportunityForm(request.POST or None, user=request.user, initial=initial),
        save=lambda form: services.opportunity_create(user=request.user, **form.service_data()),
        template="opportunities/opportunity_form.html",
        success_message=lambda opp: _("Deal “%(name)s” created.") % {"name": opp.name},
    )


@login_required
def opportunity_edit(request, pk):
    opp = _opportunity_or_404(request.user, pk, for_edit=True)
    if opp.is_archived:
        messages.error(request, _("An archived deal cannot be edited; restore it first."))
        return redirect(opp)
    return form_page(
        request,
        form=OpportunityForm(request.POST or None, instance=opp, user=request.user),
        save=lambda form: services.opportunity_update(
            opportunity=opp,
            user=request.user,
            data=form.service_data(),
            expected_version=form.cleaned_data.get("version"),
        ),
        template="opportunities/opportunity_form.html",
        success_message=_("Changes saved."),
        context={"opp": opp},
    )


@login_required
@require_POST
def opportunity_move(request, pk):
    opp = _opportunity_or_404(request.user, pk, for_edit=True)
    form = MoveForm(request.POST, opportunity=opp)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(opp)
    try:
        moved = services.opportunity_move_stage(
            opportunity=opp,
            stage=form.cleaned_data["stage"],
            user=request.user,
            expected_version=form.cleaned_data["version"],
            lost_reason=form.cleaned_data.get("lost_reason"),
            lost_note=form.cleaned_data.get("lost_note") or "",
        )
    except StaleVersionError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Moved to %(stage)s.") % {"stage": moved.stage.display_name})
    return redirect(opp)


@login_required
@require_POST
def opportunity_archive(request, pk):
    opp = _opportunity_or_404(request.user, pk, for_edit=True)
    return archive_toggle(
        request,
        opp,
        archive=lambda: services.opportunity_archive(opportunity=opp, user=request.user),
        restore=lambda: services.opportunity_restore(opportunity=opp, user=request.user),
        archived_message=_("Deal archived. Its history is kept and a manager can restore it."),
        restored_message=_("Deal restored."),
    )


@login_required
def opportunity_purge(request, pk):
    opp = _opportunity_or_404(request.user, pk)
    return purge_page(
        request,
        opp,
        label=opp.name,
        purge=lambda: services.opportunity_purge(opportunity=opp, user=request.user),
        done_url=reverse("opportunities:list") + "?archived=1",
        consequences=_("Its stage history, product lines, documents and activities are deleted with it."),
        breadcrumbs=[(_("Deals"), reverse("opportunities:list"))],
    )


def _line_or_404(user, pk, line_pk) -> tuple[Opportunity, OpportunityLine]:
    opp = _opportunity_or_404(user, pk, for_edit=True)
    try:
        return opp, opp.lines.select_related("product").get(pk=line_pk)
    except OpportunityLine.DoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def opportunity_line_add(request, pk):
    opp = _opportunity_or_404(request.user, pk, for_edit=True)
    form = OpportunityLineForm(request.POST, opportunity=opp)
    if form.is_valid():
        try:
            services.opportunity_line_add(opportunity=opp, user=request.user, **form.service_data())
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Line added."))
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return redirect(opp)


@login_required
def opportunity_line_edit(request, pk, line_pk):
    opp, line = _line_or_404(request.user, pk, line_pk)
    return form_page(
        request,
        form=OpportunityLineForm(request.POST or None, instance=line, opportunity=opp),
        save=lambda form: (
            services.opportunity_line_update(line=line, user=request.user, data=form.service_data()) and opp
        ),
        template="partials/record_form.html",
        success_message=_("Line saved."),
        context={
            "title": _("Edit line"),
            "breadcrumbs": [(_("Deals"), reverse("opportunities:list")), (opp.name, opp.get_absolute_url())],
            "cancel_url": opp.get_absolute_url(),
        },
    )


@login_required
@require_POST
def opportunity_line_remove(request, pk, line_pk):
    opp, line = _line_or_404(request.user, pk, line_pk)
    services.opportunity_line_remove(line=line, user=request.user)
    messages.success(request, _("Line removed."))
    return redirect(opp)


@login_required
@require_POST
def opportunity_amount_from_lines(request, pk):
    opp = _opportunity_or_404(request.user, pk, for_edit=True)
    try:
        updated = services.opportunity_amount_from_lines(
            opportunity=opp, user=request.user, expected_version=_int_or_none(request.POST.get("version"))
        )
    except StaleVersionError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        from core.templatetags.crm import money

        messages.success(
            request, _("Amount set to %(amount)s from the lines.") % {"amount": money(updated.amount, updated.currency)}
        )
    return redirect(opp)


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
