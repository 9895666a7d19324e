"""Small helpers shared by the HTML views of every app, so each view reads as what it does."""

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from accounts.permissions import can_purge, can_restore

from .exceptions import DomainError
from .exports import export_response, wants_export
from .integrity import integrity_error_explained


class CountedPaginator(Paginator):
    """A Paginator told how many rows there are (``count``) instead of counting them, when known."""

    def __init__(self, object_list, per_page, *, count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        if count is not None:
            self.count = count  # replaces the cached property for this paginator


def asked_page_size(request) -> int:
    """``?per_page=`` (a saved view's page size) from 1 to 200, else the default page size."""
    asked = request.GET.get("per_page", "")
    return min(int(asked), 200) if asked.isdigit() and int(asked) > 0 else settings.CRM_LIST_PAGE_SIZE


def paginate(request, queryset, per_page: int | None = None, *, count: int | None = None):
    """The requested page of ``queryset``; a bad or too-large page number gives the last page.
    ``count``: the number of rows when the caller knows it without counting them."""
    paginator = CountedPaginator(queryset, per_page or asked_page_size(request), count=count)
    return paginator.get_page(request.GET.get("page"))


def form_add_errors(form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the named fields where the form has them."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def list_page(
    request,
    *,
    selector,
    filterset_class,
    template,
    export_columns=None,
    export_name="export",
    count=None,
    context=None,
    context_extra=None,
):
    """A filtered, paginated list; ``?archived=1`` lists the archived records instead.

    With ``export_columns``, ``?export=csv`` or ``?export=xlsx`` downloads every row the filters
    select (not just the page on screen), in the list's order. ``count(filterset, archived)``, when
    given, returns the number of rows when it is known without counting them (else None).
    ``context``: more for the template (the columns a saved view shows, say).
    ``context_extra(request, rows)`` adds to the page's context what the rows on screen need
    (custom columns, say); it gets the page's rows as a list.
    """
    archived = request.GET.get("archived") == "1"
    queryset = selector(user=request.user, include_archived=archived)
    if archived:
        queryset = queryset.filter(archived_at__isnull=False)
    filterset = filterset_class(request.GET, queryset=queryset, request=request)
    if export_columns and wants_export(request):
        columns = export_columns() if callable(export_columns) else export_columns  # a callable: read per request
        return export_response(
            request, rows=filterset.qs.iterator(chunk_size=2000), columns=columns, filename=export_name
        )
    page = paginate(request, filterset.qs, count=count(filterset, archived) if count else None)
    if context_extra:
        page.object_list = list(page.object_list)
    context = {
        "filter": filterset,
        "page": page,
        "objects": page.object_list,
        "archived": archived,
        "exportable": bool(export_columns),
        # An empty list says "nothing yet" or "nothing matches" depending on this.
        "filtered": any(value.strip() for name, value in request.GET.items() if name in filterset.filters),
        **(context or {}),
        **(context_extra(request, page.object_list) if context_extra else {}),
    }
    return render(request, template, context)


def form_page(request, *, form, save, template, success_message, context=None):
    """Validate ``form`` and hand its data to ``save`` (which calls a service).

    A service's ValidationError shows on the form's fields; a DomainError (a stale copy, say) on the
    form itself; a constraint the database enforced (a row saved meanwhile) on its field.
    On success: a message and a redirect to the saved record.
    """
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form)
        except ValidationError as exc:
            form_add_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        except IntegrityError as exc:  # someone saved a conflicting row meanwhile
            field, message = integrity_error_explained(exc)
            form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, success_message(saved) if callable(success_message) else success_message)
            return redirect(saved)
    return render(request, template, {"form": form, **(context or {})})


def archive_toggle(request, obj, *, archive, restore, archived_message, restored_message):
    """POST handler of the archive / restore button: calls the service, reports, goes back.

    Whoever may edit ``obj`` archives it; restoring is for managers and admins (403 otherwise)."""
    try:
        if request.POST.get("restore"):
            if not can_restore(request.user, obj):
                raise PermissionDenied(_("Only a manager or an administrator can restore an archived record."))
            restore()
            messages.success(request, restored_message)
        else:
            archive()
            messages.success(request, archived_message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(obj)


def purge_page(request, obj, *, label, purge, done_url, consequences, breadcrumbs=()):
    """The admin-only page that deletes ``obj`` for good once its name is typed to confirm.

    Anyone else gets a 403 (the caller has already answered 404 to those who may not see ``obj``).
    A refusal of the service (not archived yet, still referred to) goes back to the record with
    the reason."""
    if not can_purge(request.user, obj):
        raise PermissionDenied(_("Only an administrator can delete records for good."))
    error = None
    if request.method == "POST":
        if request.POST.get("confirm", "").strip() != label.strip():
            error = _("Type the name exactly as shown to confirm.")
        else:
            try:
                purge()
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect(obj)
            messages.success(request, _("“%(name)s” was deleted for good.") % {"name": label})
            return redirect(done_url)
    context = {
        "label": label,
        "error": error,
        "consequences": consequences,
        "cancel_url": obj.get_absolute_url(),
        "breadcrumbs": [*breadcrumbs, (label, obj.get_absolute_url())],
    }
    return render(request, "partials/purge_confirm.html", context)


def lookup_response(request, search, *, label, detail=lambda obj: ""):
    """The JSON answer of an autocomplete (static/js/combobox.js): ``search(text)`` returns the
    first matches and how many there are; each result is ``{"id", "label", "detail"}``.

    ``{"results": [...], "count": N, "more": bool}``: the widget says "20 of 134, keep typing"."""
    text = " ".join((request.GET.get("q") or "").split())[:100]
    results, count = search(text)
    return JsonResponse(
        {
            "results": [{"id": obj.pk, "label": label(obj), "detail": detail(obj)} for obj in results],
            "count": count,
            "more": count > len(results),
        }
    )


def favicon(request):
    """``/favicon.ico``, which browsers ask for on their own whatever the page's ``<link rel=icon>``."""
    response = redirect(staticfiles_storage.url("favicon.ico"))
    patch_cache_control(response, public=True, max_age=86400)
    return response
