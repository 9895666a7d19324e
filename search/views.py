"""The search page (works without JavaScript) and the suggestions the navigation bar fetches."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import selectors
from .text import MIN_LENGTH

MAX_QUERY = 200


def _query(request) -> str:
    return (request.GET.get("q") or "").strip()[:MAX_QUERY]


@login_required
@require_GET
def search_page(request):
    """``/search/?q=``: every kind's best results; ``&kind=deals`` the best 50 of one kind."""
    query = _query(request)
    kind = request.GET.get("kind") or ""
    if kind not in selectors.KINDS_BY_KEY:
        kind = ""
    groups = selectors.search(
        user=request.user,
        query=query,
        kinds=[kind] if kind else None,
        limit=selectors.PAGE_LIMIT if kind else 10,
    )
    return render(
        request,
        "search/results.html",
        {
            "query": query,
            "kind": kind,
            "kind_label": selectors.KINDS_BY_KEY[kind].label if kind else "",
            "groups": groups,
            "too_short": bool(query) and len(query) < MIN_LENGTH,
            "min_length": MIN_LENGTH,
        },
    )


@login_required
@require_GET
def search_suggest(request):
    """``/search/suggest/?q=``: the navigation bar's drop-down, JSON, five per kind."""
    query = _query(request)
    groups = selectors.search(user=request.user, query=query, limit=selectors.SUGGEST_LIMIT)
    response = JsonResponse(
        {
            "query": query,
            "groups": [
                {
                    "kind": group["kind"],
                    "label": str(group["label"]),
                    "results": [{"title": h.title, "subtitle": h.subtitle, "url": h.url} for h in group["hits"]],
                }
                for group in groups
            ],
            "all_url": f"{reverse('search:page')}?{urlencode({'q': query})}" if query else "",
            "empty": _("Nothing found.") if query and not groups else "",
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response
