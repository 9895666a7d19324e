from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from contacts.models import Contact, Organization
from core.exceptions import ValidationError

from . import selectors, services

MODELS = {"organization": Organization, "contact": Contact}


def _kind(request, source) -> str:
    kind = source.get("kind", "organization")
    if kind not in MODELS:
        raise Http404
    return kind


@login_required
def duplicate_list(request):
    """Likely duplicates among the records the user may see, with reason and score."""
    kind = _kind(request, request.GET)
    groups = selectors.duplicate_groups(user=request.user, kind=kind)
    return render(request, "dedupe/duplicate_list.html", {"kind": kind, "groups": groups})


def _ids(raw) -> list[int]:
    out = []
    for part in str(raw or "").replace(" ", "").split(","):
        if part.isdigit():
            out.append(int(part))
    return out


@login_required
def merge(request):
    """Choose the record that stays and, field by field, the value to keep; then merge."""
    source = request.POST if request.method == "POST" else request.GET
    kind = _kind(request, source)
    ids = _ids(source.get("ids"))
    records = list(MODELS[kind].objects.visible_to(request.user).active().filter(pk__in=ids).order_by("pk"))
    if len(records) < 2:
        messages.error(request, _("Choose two or more records to merge."))
        return redirect(f"{request.path.rsplit('merge/', 1)[0]}?kind={kind}")
    fields = services.mergeable_fields(kind)
    error = None
    if request.method == "POST":
        survivor = source.get("survivor")
        values = {f.name: source.get(f"field_{f.name}") for f in fields if source.get(f"field_{f.name}")}
        try:
            services.records_merge(
                user=request.user,
                kind=kind,
                survivor_id=int(survivor or 0),
                merged_ids=[r.pk for r in records],
                values=values,
            )
        except (ValidationError, PermissionDenied, ValueError) as exc:
            error = " ".join(getattr(exc, "messages", [str(exc)]))
        else:
            messages.success(request, _("Records merged."))
            return redirect(MODELS[kind].objects.get(pk=int(survivor)))
    rows = []
    for f in fields:
        values = [(r.pk, getattr(r, f.name)) for r in records]
        if any(v not in (None, "") for _pk, v in values):
            rows.append({"field": f, "values": values, "differ": len({str(v) for _pk, v in values}) > 1})
    counts = {r.pk: services.related_counts(kind, r, labels=True) for r in records}
    return render(
        request,
        "dedupe/merge.html",
        {
            "kind": kind,
            "records": records,
            "rows": rows,
            "counts": counts,
            "ids": ",".join(str(r.pk) for r in records),
            "error": error,
        },
    )
