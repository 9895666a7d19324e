"""Reads of saved views: the ones a user may open, and the URL a view opens."""

from django.http import QueryDict
from django.urls import Resolver404, resolve

from .models import URL_NAMES, DefaultView, SavedView

# Query-string keys that are not filters: a page number, a download, the view itself.
NOT_SAVED = ("page", "export", "view")


def saved_view_list(*, user, list_key: str | None = None):
    """The views ``user`` may open (optionally of one list), their owner joined in."""
    qs = SavedView.objects.visible_to(user).select_related("owner")
    return qs.filter(list_key=list_key) if list_key else qs


def saved_view_get(*, user, pk: int) -> SavedView:
    """A view ``user`` may open; DoesNotExist otherwise (someone else's private view included)."""
    return saved_view_list(user=user).get(pk=pk)


def default_view_ids(*, user) -> dict[str, int]:
    """{list key: view id} of the views ``user`` opens lists with (views they may still open)."""
    visible = SavedView.objects.visible_to(user).values("pk")
    return dict(DefaultView.objects.filter(user=user, view__in=visible).values_list("list_key", "view_id"))


def list_key_of(path: str) -> str | None:
    """The list a page's path shows ("deals", "board" …), or None for a page views are not saved on."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return URL_NAMES.get(match.view_name)


def saved_view_url(view: SavedView) -> str:
    """Where a view opens: its page with its filters, sort, page size and columns, and ``view=<id>``."""
    params = QueryDict(view.query, mutable=True)
    for key in NOT_SAVED:
        params.pop(key, None)
    if view.sort and "ordering" not in params:
        params["ordering"] = view.sort
    if view.page_size and "per_page" not in params:
        params["per_page"] = str(view.page_size)
    if view.columns and "columns" not in params:
        params.setlist("columns", list(view.columns))
    params["view"] = str(view.pk)
    return f"{view.path}?{params.urlencode()}"
