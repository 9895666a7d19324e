"""Import pages: upload → map columns → preview (dry run) → run in the background → result."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.views import form_add_errors, paginate

from . import selectors, services
from .fields import fields_for
from .forms import MappingForm, UploadForm
from .models import ImportJob, ImportKind

PREVIEW_ROWS = 500


def _job_or_404(user, pk) -> ImportJob:
    try:
        return selectors.import_job_get(user=user, pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404 from None


@login_required
def import_start(request):
    initial = {"kind": request.GET.get("kind")} if request.GET.get("kind") in ImportKind.values else {}
    form = UploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(
                user=request.user, kind=form.cleaned_data["kind"], file=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return redirect(job)
    jobs = paginate(request, selectors.import_job_list(user=request.user), per_page=10)
    return render(request, "imports/import_start.html", {"form": form, "jobs": jobs})


@login_required
def import_detail(request, pk):
    """The mapping form until the job runs; then its progress and result."""
    job = _job_or_404(request.user, pk)
    if job.status != ImportJob.Status.UPLOADED:
        return render(request, "imports/import_result.html", {"job": job})
    try:
        table = services.import_job_table(job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("imports:start")
    form = MappingForm(
        request.POST or None,
        kind=job.kind,
        headers=table.headers,
        initial_mapping=job.mapping,
        initial_defaults=job.defaults,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.import_job_set_mapping(job=job, mapping=form.mapping(), defaults=form.defaults())
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return redirect("imports:preview", pk=job.pk)
    samples = {h: [row.get(h, "") for row in table.rows[:3]] for h in table.headers}
    rows = [
        (form[spec.name], spec.required, samples.get(job.mapping.get(spec.name, ""), []))
        for spec in fields_for(job.kind)
    ]
    unmatched = [h for h in table.headers if h not in job.mapping.values()]
    context = {
        "job": job,
        "form": form,
        "rows": rows,
        "unmatched": unmatched,
        "headers": table.headers,
        "default_pipeline": form["default_pipeline"] if "default_pipeline" in form.fields else None,
    }
    return render(request, "imports/import_mapping.html", context)


@login_required
def import_preview_page(request, pk):
    job = _job_or_404(request.user, pk)
    if job.status != ImportJob.Status.UPLOADED:
        return redirect(job)
    try:
        result = services.import_preview(job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(job)
    rejected = result.rejected
    accepted = [o for o in result.outcomes if o.action != services.REJECTED]
    context = {
        "job": job,
        "counts": result.counts,
        "rejected": rejected[:PREVIEW_ROWS],
        "more_rejected": max(0, len(rejected) - PREVIEW_ROWS),
        "accepted": accepted[:50],
        "more_accepted": max(0, len(accepted) - 50),
        "checked": len(result.outcomes),
        "total": job.total_rows,
        # The button counts the rows that will be imported, not the rejected ones the preview found.
        "importable": max(0, job.total_rows - len(rejected)),
    }
    return render(request, "imports/import_preview.html", context)


@login_required
@require_POST
def import_run_page(request, pk):
    job = _job_or_404(request.user, pk)
    services.import_job_start(job=job)
    return redirect(job)


@login_required
def import_progress(request, pk):
    """The progress partial the result page polls with htmx until the job is finished."""
    job = _job_or_404(request.user, pk)
    return render(request, "imports/partials/progress.html", {"job": job})


@login_required
def import_rejected_download(request, pk):
    job = _job_or_404(request.user, pk)
    if not job.rejected_file:
        raise Http404
    name = _("rejected-%(name)s.csv") % {"name": job.original_name.rsplit(".", 1)[0]}
    return FileResponse(job.rejected_file.open("rb"), as_attachment=True, filename=name, content_type="text/csv")
