"""Pages of saved views: open one, the "Views" menu of a list or the board, save, delete, default."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import ChangeNotAllowed
from core.exceptions import ValidationError
from customfields.columns import LIST_COLUMNS, column_choices

from . import selectors, services
from .handlers import remember_defaults
from .models import SavedView, Visibility

# The page sizes the column chooser offers (a saved view may keep any from 1 to 200).
PAGE_SIZES = (10, 25, 50, 100, 200)


def _view_or_404(user, pk) -> SavedView:
    try:
        return selectors.saved_view_get(user=user, pk=pk)
    except SavedView.DoesNotExist:
        raise Http404 from None


def _back(request) -> str:
    path = request.POST.get("path") or request.GET.get("path") or "/"
    query = request.POST.get("query", "")
    url = f"{path}?{query}" if query else path
    return url if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}) else "/"


@login_required
def saved_view_open(request, pk):
    """A view's own URL: its page with its filters (only ever on top of what the reader may see)."""
    return redirect(selectors.saved_view_url(_view_or_404(request.user, pk)))


@login_required
def saved_view_menu(request):
    """The "Views" menu of a list or the board (loaded by htmx, so the list's queries stay the same)."""
    path = request.GET.get("path", "")
    list_key = selectors.list_key_of(path)
    if list_key is None:  # a page that shares the filter bar but saves no views (the reports)
        return HttpResponse(status=204)
    query = QueryDict(request.GET.get("query", ""))
    current = query.get("view", "")
    views = list(selectors.saved_view_list(user=request.user, list_key=list_key))
    defaults = selectors.default_view_ids(user=request.user)
    context = {
        "views": views,
        "path": path,
        "query": request.GET.get("query", ""),
        "current": int(current) if current.isdigit() else None,
        "default_id": defaults.get(list_key),
        "list_key": list_key,
        "can_share": services.can_share(request.user),
        "visibilities": Visibility.choices,
    }
    if list_key in LIST_COLUMNS:  # the columns and page size a list shows (and a view saves)
        context["column_choices"] = column_choices(list_key, query)
        context["kept_params"] = [
            (name, value)
            for name, values in query.lists()
            if name not in ("columns", "per_page", "page", "view")
            for value in values
        ]
        context["page_sizes"] = PAGE_SIZES
        context["per_page"] = query.get("per_page", "")
    return render(request, "savedviews/_menu.html", context)


@login_required
@require_POST
def saved_view_save(request):
    try:
        view = services.saved_view_create(
            user=request.user,
            name=request.POST.get("name", ""),
            path=request.POST.get("path", ""),
            query=request.POST.get("query", ""),
            columns=request.POST.getlist("columns"),
            visibility=request.POST.get("visibility") or Visibility.PRIVATE,
            make_default=request.POST.get("default") == "1",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_back(request))
    remember_defaults(request, request.user)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(view)


@login_required
@require_POST
def saved_view_delete(request, pk):
    view = _view_or_404(request.user, pk)
    try:
        services.saved_view_delete(user=request.user, view=view)
    except ChangeNotAllowed as exc:
        messages.error(request, str(exc.message))
        return redirect(view)
    remember_defaults(request, request.user)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect(view.path)


@login_required
@require_POST
def saved_view_default(request, pk):
    """Make a view the one its list opens with; ``clear=1`` opens the list without a view again."""
    view = _view_or_404(request.user, pk)
    if request.POST.get("clear") == "1":
        services.saved_view_default_set(user=request.user, view=None, list_key=view.list_key)
        messages.success(request, _("The list opens without a view again."))
    else:
        services.saved_view_default_set(user=request.user, view=view)
        messages.success(request, _("“%(name)s” is now your default view.") % {"name": view.name})
    remember_defaults(request, request.user)
    return redirect(view)
