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
from .forms import MappingForm, UploadForm, ValueMappingForm
from .models import ImportJob, ImportKind
from .values import ValueCatalogue

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
    if request.method == "POST" and "saved_mapping" in request.POST:
        try:
            services.import_job_apply_saved(job=job, saved_mapping=request.POST["saved_mapping"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(job)
    form = MappingForm(
        request.POST or None,
        kind=job.kind,
        headers=table.headers,
        initial_mapping=job.mapping,
        initial_defaults=job.defaults,
        initial_options=job.options,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.import_job_set_mapping(
                job=job,
                mapping=form.mapping(),
                defaults=form.defaults(),
                options=form.options(),
                save_as=form.cleaned_data["save_as"],
            )
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
        "options": [form[name] for name in ("create", "probability_scale") if name in form.fields],
        "saved_mappings": selectors.import_mapping_list(user=job.user, kind=job.kind),
    }
    return render(request, "imports/import_mapping.html", context)


@login_required
def import_preview_page(request, pk):
    """The dry run, the values of the file to map (stages, statuses, lost reasons), and "Run",
    enabled only once every value means something and some row can be imported."""
    job = _job_or_404(request.user, pk)
    if job.status != ImportJob.Status.UPLOADED:
        return redirect(job)
    try:
        preview = services.import_preview(job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(job)
    values_form = None
    if preview.values:
        catalogue = ValueCatalogue()
        choices = {field: catalogue.choices(field) for field in preview.values}
        values_form = ValueMappingForm(values=preview.values, choices=choices)
    return render(request, "imports/import_preview.html", _preview_context(job, preview, values_form))


def _preview_context(job, preview, values_form) -> dict:
    result = preview.result
    rejected = result.rejected
    accepted = [o for o in result.outcomes if o.action != services.REJECTED]
    return {
        "job": job,
        "preview": preview,
        "values_form": values_form,
        "unknown_count": sum(len(v) for v in preview.unknown.values()),
        "probability_scale": preview.options.get("probability_scale") if job.mapping.get("probability") else "",
        "probability_detected": preview.options.get("probability_detected", False),
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


@login_required
@require_POST
def import_values_page(request, pk):
    """Save what the file's values mean, then show the preview again."""
    job = _job_or_404(request.user, pk)
    if job.status != ImportJob.Status.UPLOADED:
        return redirect(job)
    values, _unknown = services.import_job_values(job)
    catalogue = ValueCatalogue()
    form = ValueMappingForm(request.POST, values=values, choices={f: catalogue.choices(f) for f in values})
    if form.is_valid():
        try:
            services.import_job_set_values(job=job, values=form.value_mapping(), save_as=form.cleaned_data["save_as"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Some choices are not valid: choose again."))
    return redirect("imports:preview", pk=job.pk)


@login_required
@require_POST
def import_run_page(request, pk):
    job = _job_or_404(request.user, pk)
    try:
        services.import_job_start(job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("imports:preview", pk=job.pk)
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
