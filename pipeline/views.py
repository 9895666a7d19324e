"""The kanban board. Thin views: filters in, the deal services and selectors out.

The board's pages sit above the deal code: they call ``opportunities.services`` (which checks who
may change a deal, the stage rules and the versions) and translate its domain errors."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import ChangeNotAllowed
from contacts.models import Organization
from core.exceptions import StaleVersionError, ValidationError
from customfields.display import card_fields, rows_attach
from opportunities import selectors as opportunity_selectors
from opportunities.deal_filters import DealFilters, deals_matching
from opportunities.models import Opportunity
from opportunities.services import opportunity_move_stage, opportunity_quick_add

from . import selectors
from .forms import BoardFilter, BoardMoveForm, QuickAddForm
from .models import LostReason, Pipeline, Stage


def _page_size() -> int:
    return settings.CRM_BOARD_PAGE_SIZE


def _board_filters(request, params) -> tuple[BoardFilter, DealFilters]:
    """The board's filter form, and the values it accepted (a refused one shows on the form)."""
    board_filter = BoardFilter(params, queryset=Opportunity.objects.none(), request=request)
    return board_filter, DealFilters.from_filterset(board_filter)


def _pipeline_or_default(pk=None) -> Pipeline:
    if pk is not None:
        return get_object_or_404(Pipeline, pk=pk)
    pipeline = Pipeline.objects.default()
    if pipeline is None:
        raise Http404(_("There is no pipeline yet."))
    return pipeline


def _move_menu(stages, lost_reasons, cards=()) -> dict:
    """The options of the cards' "Move to…" menus, rendered once per board instead of once per card
    (the template loops were most of the board's rendering time); each card gets its stage selected."""
    stages, cards = list(stages), list(cards)
    options = {
        stage.pk: format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (other.pk, mark_safe(" selected") if other.pk == stage.pk else "", other.display_name)
                for other in stages
            ),  # noqa: S308
        )
        for stage in stages
    }
    for card in cards:
        card.stage_options = options.get(card.stage_id, "")
    # The custom fields marked "show on cards", formatted (no query: definitions and user names are cached).
    rows_attach(card_fields("deal"), cards, "card_custom")
    return {
        "lost_stage_ids": ",".join(str(stage.pk) for stage in stages if stage.is_lost),
        "lost_reason_options": format_html_join(
            "", '<option value="{}">{}</option>', ((reason.pk, str(reason)) for reason in lost_reasons)
        ),
    }


def _is_ajax(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_GET
def board(request, pipeline_id=None):
    pipeline = _pipeline_or_default(pipeline_id)
    board_filter, filters = _board_filters(request, request.GET)
    columns = selectors.board_get(user=request.user, pipeline=pipeline, filters=filters, limit=_page_size())
    lost_reasons = list(LostReason.objects.filter(active=True))
    filter_query = request.GET.urlencode()
    context = {
        "pipeline": pipeline,
        "pipelines": Pipeline.objects.order_by("-is_default", "name"),
        "columns": columns,
        "filter": board_filter,
        "filter_query": filter_query,
        "filter_count": sum(1 for name in board_filter.form.fields if request.GET.get(name)),
        "lost_reasons": lost_reasons,
        "stages": [column.stage for column in columns],
        "move_menu": _move_menu(
            [column.stage for column in columns], lost_reasons, [card for column in columns for card in column.cards]
        ),
        "quick_add": QuickAddForm(),
        "today": timezone.localdate(),
    }
    return render(request, "pipeline/board.html", context)


@login_required
@require_GET
def board_column_more(request, pipeline_id, stage_id):
    """The next cards of one column, as a partial the board appends (the "more" button)."""
    pipeline = _pipeline_or_default(pipeline_id)
    stage = get_object_or_404(Stage, pk=stage_id, pipeline=pipeline)
    try:
        offset = max(0, int(request.GET.get("offset", 0)))
    except ValueError:
        offset = 0
    _filter, filters = _board_filters(request, request.GET)
    deals = deals_matching(user=request.user, filters=filters).filter(pipeline=pipeline)
    cards, has_more = selectors.board_column_cards(
        deals=deals, stage=stage, offset=offset, limit=_page_size(), user=request.user
    )
    query = request.GET.copy()
    query.pop("offset", None)
    filter_query = query.urlencode()
    query["offset"] = offset + len(cards)
    context = {
        "cards": cards,
        "has_more": has_more,
        "stage": stage,
        "pipeline": pipeline,
        "move_menu": _move_menu(pipeline.stages.order_by("order"), LostReason.objects.filter(active=True), cards),
        "more_query": query.urlencode(),
        "filter_query": filter_query,
        "today": timezone.localdate(),
    }
    return render(request, "pipeline/partials/board_more.html", context)


def _headers(request, pipeline: Pipeline, filter_query: str, stage_ids) -> dict:
    """The totals of the columns a move touched (the one it left and the one it entered), with the
    board's filters, from the one selector. Summing two columns rather than the whole pipeline keeps
    a move quick on a pipeline with 100,000 deals."""
    from django.http import QueryDict

    stage_ids = set(stage_ids)
    _filter, filters = _board_filters(request, QueryDict(filter_query))
    headers = {}
    summary = selectors.pipeline_summary(user=request.user, pipeline=pipeline, filters=filters.with_stages(stage_ids))
    for totals in summary:
        if totals.stage.pk not in stage_ids:
            continue
        headers[totals.stage.pk] = {
            "count": totals.count,
            "amount": str(totals.amount),
            "weighted": str(totals.weighted),
            "html": render_to_string("pipeline/partials/board_totals.html", {"totals": totals}, request=request),
        }
    return headers


def _card_html(request, opp: Opportunity) -> str:
    pipeline_stages = list(opp.pipeline.stages.order_by("order"))
    return render_to_string(
        "pipeline/partials/board_card.html",
        {
            "card": opp,
            "move_menu": _move_menu(pipeline_stages, LostReason.objects.filter(active=True), [opp]),
            "today": timezone.localdate(),
        },
        request=request,
    )


@login_required
@require_POST
def board_move(request, pk):
    """Move one card (drag and drop or its "Move to…" menu) through the one stage-change service.

    JSON for the board's script: 200 with the new card and every column's totals, 409 when the card
    was stale (with who changed what), 400 for bad input, 404 for a deal one may not see and 403
    for one one may see but not move. Without JavaScript it redirects back to the board.
    """
    ajax = _is_ajax(request)
    try:
        opp = opportunity_selectors.opportunity_get(user=request.user, pk=pk)
    except Opportunity.DoesNotExist:
        raise Http404 from None
    back = reverse("pipeline:board_pipeline", args=[opp.pipeline_id]) + _back_query(request)

    def refuse(status, message, **extra):
        if ajax:
            return JsonResponse({"ok": False, "message": message, **extra}, status=status)
        messages.error(request, message)
        return redirect(back)

    form = BoardMoveForm(request.POST)
    if not form.is_valid():
        errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
        return refuse(400, " ".join(" ".join(errs) for errs in errors.values()), errors=errors)
    data = form.cleaned_data
    try:
        moved = opportunity_move_stage(
            opportunity=opp,
            stage=data["stage"],
            user=request.user,
            expected_version=data["version"],
            lost_reason=data.get("lost_reason"),
            lost_note=data.get("lost_note") or "",
            above_id=data.get("above"),
            below_id=data.get("below"),
        )
    except ChangeNotAllowed as exc:
        return refuse(403, str(exc))
    except StaleVersionError as exc:
        # The message says who changed what, from the deal's history (the service reads it).
        return refuse(409, str(exc.message), stage=exc.current.stage_id, version=exc.current.version)
    except ValidationError as exc:
        errors = getattr(exc, "message_dict", {"stage": exc.messages})
        return refuse(400, " ".join(exc.messages), errors=errors)
    if not ajax:
        messages.success(request, _("Moved to %(stage)s.") % {"stage": moved.stage.display_name})
        return redirect(back)
    moved = opportunity_selectors.opportunity_get(user=request.user, pk=moved.pk)
    return JsonResponse(
        {
            "ok": True,
            "stage": moved.stage_id,
            "version": moved.version,
            "card": _card_html(request, moved),
            "headers": _headers(
                request, moved.pipeline, request.POST.get("filters", ""), {opp.stage_id, moved.stage_id}
            ),
            "message": _("Moved to %(stage)s.") % {"stage": moved.stage.display_name},
        }
    )


def _back_query(request) -> str:
    """The board's query string, posted back by its forms, re-encoded: a hand-made value with a line
    break or a fragment must not break the redirect."""
    from django.http import QueryDict

    filters = QueryDict(request.POST.get("filters", "")).urlencode()
    return f"?{filters}" if filters else ""


@login_required
@require_POST
def board_quick_add(request):
    """Create a deal straight in a column, through the one atomic quick-add service (which matches or
    creates the organization and creates the deal in one transaction)."""
    form = QuickAddForm(request.POST)
    pipeline_id = request.POST.get("pipeline")
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else field
            messages.error(request, f"{label}: {' '.join(errors)}")
        target = reverse("pipeline:board_pipeline", args=[pipeline_id]) if pipeline_id else reverse("pipeline:board")
        return redirect(target + _back_query(request))
    data = form.cleaned_data
    stage = data["stage"]
    try:
        opp = opportunity_quick_add(
            user=request.user,
            name=data["name"],
            organization_name=data["organization"],
            stage=stage,
            amount=data["amount"],
            lost_reason=data.get("lost_reason"),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Deal “%(name)s” added to %(stage)s.") % {"name": opp.name, "stage": stage})
    return redirect(reverse("pipeline:board_pipeline", args=[stage.pipeline_id]) + _back_query(request))


@login_required
@require_GET
def organization_options(request):
    """``<option>``s for the quick add's organization field: names the reader can see that contain
    what was typed (15 at most), so an existing organization is picked rather than re-created."""
    text = " ".join((request.GET.get("organization") or "").split())
    names = []
    if len(text) >= 2:
        names = (
            Organization.objects.visible_to(request.user)
            .filter(archived_at__isnull=True, name__icontains=text)
            .order_by("name")
            .values_list("name", flat=True)[:15]
        )
    return render(request, "pipeline/partials/organization_options.html", {"names": names})
