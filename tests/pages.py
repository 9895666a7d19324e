"""Every HTML page of the CRM, found as `.ci/fuzz_pages.py` finds them: the URL patterns without
parameters, then, for each pattern that takes ids, the first link to it that a visited page shows.
Used by the tests that check every page (sideways scrolling, accessibility, Django's dashes)."""

import re
from urllib.parse import urlsplit

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern

LINK = re.compile(r'(?:href|hx-get|data-[a-z-]*url)="(/[^"#]*)"')
# Not ours to check (the Django admin, the API and its third-party docs), not pages (files,
# feeds, exports) or not a GET page at all.
SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/media/", "/logout/", "/favicon.ico")
SKIP_VIEWS = {"calendar:feed"}


def _routes() -> list[str]:
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and isinstance(pattern.pattern, RoutePattern):
                route = prefix + str(pattern.pattern)
                if "<" not in route:
                    found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return found


def discover_pages(user) -> dict[str, str]:
    """{path: view name} of every HTML page ``user`` can open: one per view that takes ids (the
    first a page links to), every page without. Partials that htmx swaps in are left out."""
    from django.urls import resolve

    client = Client()
    client.force_login(user)
    queue, pages, seen_views = _routes(), {}, set()
    while queue:
        url = queue.pop(0).replace("&amp;", "&")
        path = urlsplit(url).path
        if path.startswith(SKIP_PREFIXES) or path in pages or "export=" in url:
            continue
        try:
            match = resolve(path)
        except Resolver404:
            continue
        if match.view_name in SKIP_VIEWS or (match.kwargs and match.view_name in seen_views):
            continue
        seen_views.add(match.view_name)
        response = client.get(path)
        pages[path] = ""
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode("utf-8", "replace")
        if "<html" not in html[:500]:
            continue  # a partial
        pages[path] = match.view_name
        queue.extend(LINK.findall(html))
    return {path: name for path, name in pages.items() if name}
