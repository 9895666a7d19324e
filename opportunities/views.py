from decimal import Decimal
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from accounts.permissions import can_edit
from core.currency import quantize_cents
from core.exceptions import StaleVersionError
from core.exports import BASE_AMOUNT_LABEL, MONEY, Column
from core.views import archive_toggle, form_add_errors, form_page, list_page, purge_page
from customfields.columns import list_columns
from customfields.display import custom_list_columns, list_context, rows_attach
from customfields.exports import custom_export_columns
from pipeline.models import LostReason

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
        selector=lambda user, include_archived: selectors.opportunity_list(
            user=user, include_archived=include_archived, with_can_edit=True, with_markers=True
        ),
        filterset_class=OpportunityFilter,
        template="opportunities/opportunity_list.html",
        export_columns=lambda: [*EXPORT_COLUMNS, *custom_export_columns("deal")],
        export_name="deals",
        count=count,
        context=list_columns("deals", request.GET),
        context_extra=list_context("deal"),
    )


# gettext_lazy spelled out: makemessages does not know the ``_l`` alias.
TIMELINE_KIND_CHOICES = [
    ("stage", gettext_lazy("Stages")),
    ("field", gettext_lazy("Changes")),
    ("activity", gettext_lazy("Activities")),
    ("note", gettext_lazy("Notes")),
    ("document", gettext_lazy("Documents")),
    ("quote", gettext_lazy("Quotes")),
    ("email", gettext_lazy("E-mails")),
]


def _timeline_params(params) -> tuple[str, int]:
    """The timeline's kind (one of the choices, or "" for everything) and page, from a query string."""
    kind = params.get("kind", "")
    kind = kind if kind in dict(TIMELINE_KIND_CHOICES) else ""
    page = _int_or_none(params.get("page")) or 1
    return kind, max(1, min(page, 10_000))


def _timeline_context(opp, params, history=None) -> dict:
    kind, page = _timeline_params(params)
    return {
        "timeline": selectors.opportunity_timeline(
            opportunity=opp, kinds=(kind,) if kind else selectors.TIMELINE_KINDS, page=page, history=history
        ),
        "timeline_kind": kind,
        "timeline_kind_choices": TIMELINE_KIND_CHOICES,
    }


def _deal_context(request, opp, params=None) -> dict:
    """What the deal page and its fragments (header, stage bar, details, history, timeline) show."""
    editable = can_edit(request.user, opp)
    can_move = editable and not opp.is_archived
    stages = list(opp.pipeline.stages.all())
    history = list(selectors.opportunity_history(opportunity=opp))
    return {
        "opp": opp,
        "can_edit": editable,
        "can_move": can_move,
        "inline_edit": can_move,
        "stages": stages,
        "won_stage": next((s for s in stages if s.is_won), None),
        "lost_stage": next((s for s in stages if s.is_lost), None),
        "lost_reasons": LostReason.objects.filter(active=True) if can_move else (),
        "history": history,
        **_timeline_context(opp, params if params is not None else request.GET, history=history),
    }


@login_required
def opportunity_detail(request, pk):
    opp = _opportunity_or_404(request.user, pk)
    context = _deal_context(request, opp)
    related = selectors.opportunity_detail_related(opportunity=opp)
    related["lines"] = lines = list(related["lines"])
    context.update(
        {
            "lines_total": quantize_cents(sum((line.total for line in lines), Decimal(0))),
            "move_form": MoveForm(opportunity=opp) if context["can_move"] else None,
            "line_form": OpportunityLineForm(opportunity=opp) if context["can_move"] else None,
            **related,
        }
    )
    return render(request, "opportunities/opportunity_detail.html", context)


FRAGMENTS = {
    "header": "opportunities/deal/_header.html",
    "stages": "opportunities/deal/_stages.html",
    "details": "opportunities/deal/_details.html",
    "history": "opportunities/deal/_history.html",
    "timeline": "opportunities/deal/_timeline.html",
}


def _fragments(request, pk) -> dict:
    """The parts of the deal page a change redraws, from a fresh copy of the deal, for deal.js."""
    opp = _opportunity_or_404(request.user, pk)
    context = _deal_context(request, opp, params={})
    return {name: render_to_string(template, context, request=request) for name, template in FRAGMENTS.items()}


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
def opportunity_timeline(request, pk):
    """The timeline fragment alone (deal.js swaps it in when a kind or a page is chosen)."""
    opp = _opportunity_or_404(request.user, pk)
    context = {"opp": opp, **_timeline_context(opp, request.GET)}
    return render(request, "opportunities/deal/_timeline.html", context)


# The fields one in-place edit changes together (an amount is typed with its currency).
FIELD_GROUPS = {
    "name": ("name",),
    "organization": ("organization",),
    "contact": ("contact",),
    "amount": ("amount", "currency"),
    "probability": ("probability", "use_stage_probability"),
    "expected_close_date": ("expected_close_date",),
    "lost_reason": ("lost_reason", "lost_note"),
    "type": ("type",),
    "lead_source": ("lead_source",),
    "next_step": ("next_step", "next_step_date"),
    "owner": ("owner",),
    "description": ("description",),
}


def _field_form(opp, user, group, data=None) -> OpportunityForm:
    """The deal's own form (same fields, validation and version check as its edit page), bound to
    the deal's current values except the ``group`` being edited, which comes from ``data``."""
    form = OpportunityForm(instance=opp, user=user)
    if data is None:
        return form
    merged = {name: form[name].value() for name in form.fields if name not in group and name != "version"}
    for name in group:
        if name in data:
            merged[name] = data[name]
    merged["version"] = data.get("version")
    return OpportunityForm(merged, instance=opp, user=user)


def _field_form_context(opp, field, form) -> dict:
    group = FIELD_GROUPS[field]
    for name in group:
        if name in form.fields and name in form.errors:  # a screen reader reads the error with the field
            form.fields[name].widget.attrs["aria-describedby"] = f"{form[name].auto_id}_error"
    return {
        "opp": opp,
        "field": field,
        "form": form,
        "version": form["version"].value() or opp.version,
        "edited": [form[name] for name in group if name in form.fields],
        "other_errors": [
            (form.fields[name].label, errors)
            for name, errors in form.errors.items()
            if name not in group and name in form.fields
        ],
        "title": _("Edit %(field)s") % {"field": form.fields[group[0]].label},
    }


@login_required
def opportunity_field_edit(request, pk, field):
    """Edit one field of the details card in place, through the deal's form and the update service.

    GET: the field's form (a fragment for deal.js, sent ``X-Inline-Edit``; a page otherwise). POST:
    for deal.js, JSON: 200 with the redrawn parts of the page, 400 with the form showing the error
    next to the field it names, 409 with the conflict message of the edit page; without JavaScript,
    a redirect to the deal or the form page again."""
    if field not in FIELD_GROUPS:
        raise Http404
    opp = _opportunity_or_404(request.user, pk, for_edit=True)
    if opp.is_archived:
        messages.error(request, _("An archived deal cannot be edited; restore it first."))
        return redirect(opp)
    fragment = "opportunities/deal/_field_form.html"
    if request.method != "POST":
        form = _field_form(opp, request.user, FIELD_GROUPS[field])
        template = fragment if request.headers.get("X-Inline-Edit") else "opportunities/deal/field_page.html"
        return render(request, template, _field_form_context(opp, field, form))

    form = _field_form(opp, request.user, FIELD_GROUPS[field], request.POST)
    status = 400
    if form.is_valid():
        try:
            services.opportunity_update(
                opportunity=opp,
                user=request.user,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
            )
        except StaleVersionError as exc:
            form.add_error(None, exc.message)
            status = 409
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            if not _wants_json(request):
                messages.success(request, _("Changes saved."))
                return redirect(opp)
            if request.POST.get("row"):  # a cell of the deal list: its row, redrawn
                deal = selectors.opportunity_list(user=request.user, include_archived=True, with_can_edit=True).get(
                    pk=pk
                )
                # The list's columns: those of the page the cell is on (its address has them).
                params = QueryDict(urlsplit(request.headers.get("referer", "")).query)
                columns = list_columns("deals", params)
                chosen = request.POST.getlist("columns") or params.getlist("columns")
                rows_attach(custom_list_columns("deal", chosen), [deal])
                row = render_to_string("opportunities/_list_row.html", {"deal": deal, **columns}, request=request)
                return JsonResponse({"ok": True, "message": str(_("Changes saved.")), "row": row})
            return JsonResponse({"ok": True, "message": str(_("Changes saved.")), "fragments": _fragments(request, pk)})
    context = _field_form_context(opp, field, form)
    if not _wants_json(request):
        return render(request, "opportunities/deal/field_page.html", context, status=status)
    errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
    return JsonResponse(
        {
            "ok": False,
            "message": " ".join(" ".join(errs) for errs in errors.values()),
            "errors": errors,
            "html": render_to_string(fragment, context, request=request),
        },
        status=status,
    )


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
    """Move the deal from its page (the stage bar, the Won and Lost buttons, the move form) through
    the one stage service. For deal.js, JSON as the board's move answers (200 with the redrawn parts
    of the page, 400 naming the field, 409 with who changed what); otherwise back to the deal."""
    opp = _opportunity_or_404(request.user, pk, for_edit=True)
    ajax = _wants_json(request)

    def refuse(status, message, **extra):
        if ajax:
            return JsonResponse({"ok": False, "message": str(message), **extra}, status=status)
        messages.error(request, message)
        return redirect(opp)

    form = MoveForm(request.POST, opportunity=opp)
    if not form.is_valid():
        errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        return refuse(400, " ".join(" ".join(errs) for errs in errors.values()), errors=errors)
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
        return refuse(409, exc.message, version=exc.current.version if exc.current else None)
    except ValidationError as exc:
        errors = getattr(exc, "message_dict", {"stage": exc.messages})
        return refuse(400, " ".join(exc.messages), errors=errors)
    message = _("Moved to %(stage)s.") % {"stage": moved.stage.display_name}
    if not ajax:
        messages.success(request, message)
        return redirect(opp)
    return JsonResponse({"ok": True, "message": message, "fragments": _fragments(request, pk)})


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
