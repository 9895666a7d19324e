"""The bulk bar of the deal, organization and contact lists, and the job's progress/result page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts import selectors as contact_selectors
from contacts.views import CONTACT_COLUMNS, ORGANIZATION_COLUMNS
from core.exceptions import ValidationError
from core.exports import export_response
from opportunities import selectors as deal_selectors
from opportunities.views import EXPORT_COLUMNS

from . import selectors, services
from .models import BulkAction, BulkJob, BulkKind

LIST_URLS = {
    BulkKind.DEAL: "opportunities:list",
    BulkKind.ORGANIZATION: "contacts:organization_list",
    BulkKind.CONTACT: "contacts:contact_list",
}
EXPORTS = {
    BulkKind.DEAL: (lambda user: deal_selectors.opportunity_list(user=user), EXPORT_COLUMNS, "deals"),
    BulkKind.ORGANIZATION: (
        lambda user: contact_selectors.organization_list(user=user),
        ORGANIZATION_COLUMNS,
        "organizations",
    ),
    BulkKind.CONTACT: (lambda user: contact_selectors.contact_list(user=user), CONTACT_COLUMNS, "contacts"),
}


def _kind_or_404(kind: str) -> BulkKind:
    try:
        return BulkKind(kind)
    except ValueError:
        raise Http404 from None


def _ids(request) -> list[int]:
    return [int(value) for value in request.POST.getlist("ids") if value.isdigit()]


@login_required
@require_POST
def bulk_apply(request, kind):
    """The bulk bar's form: the checked rows (``ids``), or ``all=1`` for every record the list's
    filters (``query``) match on every page; ``action`` and its arguments."""
    kind = _kind_or_404(kind)
    query = request.POST.get("query", "")
    all_matching = request.POST.get("all") == "1"
    back = reverse(LIST_URLS[kind]) + (f"?{query}" if query else "")
    ids = None if all_matching else _ids(request)
    action = request.POST.get("action", "")
    try:
        if action == "export":
            rows, columns, name = EXPORTS[kind]
            chosen = selectors.bulk_queryset(
                user=request.user, kind=kind, query=query if all_matching else None, ids=ids
            )
            export = rows(request.user).filter(pk__in=chosen.values("pk"))
            return export_response(
                request,
                rows=export.iterator(chunk_size=2000),
                columns=columns,
                filename=name,
                fmt="xlsx" if request.POST.get("format") == "xlsx" else "csv",
            )
        if not all_matching and not ids:
            raise ValidationError({"ids": _("Choose at least one record.")})
        params = {
            name: request.POST.get(name) for name in ("owner", "stage", "lost_reason", "lost_note", "field", "value")
        }
        job = services.bulk_job_create(
            user=request.user,
            kind=kind,
            action=action,
            params=params,
            ids=ids,
            query=query if all_matching else None,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    return redirect(job)


def _job_or_404(user, pk) -> BulkJob:
    try:
        return selectors.bulk_job_get(user=user, pk=pk)
    except BulkJob.DoesNotExist:
        raise Http404 from None


@login_required
def bulk_job_detail(request, pk):
    job = _job_or_404(request.user, pk)
    return render(request, "bulk/job.html", {"job": job, "list_url": reverse(LIST_URLS[BulkKind(job.kind)])})


@login_required
def bulk_job_progress(request, pk):
    """The progress partial the job page polls with htmx until the job is finished."""
    job = _job_or_404(request.user, pk)
    return render(request, "bulk/_progress.html", {"job": job, "list_url": reverse(LIST_URLS[BulkKind(job.kind)])})


@login_required
@require_POST
def bulk_confirm(request, kind):
    """Step two of the bulk bar: how many records the action reaches, and its arguments (an owner,
    a stage and the lost reason asked once for all, a field and its value)."""
    kind = _kind_or_404(kind)
    query = request.POST.get("query", "")
    all_matching = request.POST.get("all") == "1"
    action = request.POST.get("action", "")
    back = reverse(LIST_URLS[kind]) + (f"?{query}" if query else "")
    ids = None if all_matching else _ids(request)
    if action not in services.ACTIONS[kind]:
        messages.error(request, _("This action is not available for these records."))
        return redirect(back)
    if not all_matching and not ids:
        messages.error(request, _("Choose at least one record."))
        return redirect(back)
    try:
        chosen = selectors.bulk_queryset(user=request.user, kind=kind, query=query if all_matching else None, ids=ids)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    context = {
        "kind": kind,
        "action": action,
        "action_label": dict(BulkAction.choices)[action],
        "query": query,
        "all_matching": all_matching,
        "ids": ids or [],
        "count": chosen.count(),
        "back": back,
        "inline_limit": services.inline_limit(),
        **selectors.bulk_choices(user=request.user, action=action),
    }
    return render(request, "bulk/confirm.html", context)
