"""Fuzz the HTML pages' query parameters (the API has schemathesis): no hostile value may cause a 5xx.

On a fresh PostgreSQL database (``CI_FUZZ_DATABASE_URL``, dropped and created; its name must
contain "fuzz" or be given on purpose) with the demo data, as an admin, a manager and a rep:

1. every GET page of the URLconf: those without parameters directly, the others with real object
   ids, taken from the links of the pages already visited (the patterns no page links to, mostly
   POST-only actions, are listed as not fuzzed);
2. for each page, every query parameter it knows (the names in its GET forms, the filters of
   every FilterSet, and the parameters views read themselves) receives each hostile value of
   ``HOSTILE_VALUES`` (all parameters at once: forms and FilterSets validate each field on its
   own); a 5xx (or an exception) is a failure, printed with the exception and the URL to replay.

    CI_FUZZ_DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_ci_fuzz_pages .venv/bin/python .ci/fuzz_pages.py

Bounded: about a minute on a busy 2-CPU machine (``FUZZ_USERS=admin`` for a quicker local run).
"""

import logging
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("CI_FUZZ_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_ci_fuzz_pages")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["DEBUG"] = "false"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.base")
# Side effects of GET pages (none expected) run inline: no broker, no shared cache.
for name in ("REDIS_URL", "CELERY_BROKER_URL"):
    os.environ.pop(name, None)

HOSTILE_VALUES = [
    "\x00",
    "a\x00b",
    "1e30",
    "100000000000000000000000000000",
    "-1",
    "0",
    "1.5",
    "NaN",
    "-Infinity",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13-01T25:61:00+99:00",
    "x" * 3000,
    "abc",
    "[" * 500,
    "{{}}[]()<>'\";--",
    "%00%ff",
    "Ω≈ç√ 😀 \u202e\u200b\ufeff",
]
# Read by views directly, not through a form: the board's column offset, the calendar's day and
# scope, the reports' period and grouping, exports, pagination, archived lists, redirects.
COMMON_PARAMETERS = [
    "q",
    "page",
    "page_size",
    "export",
    "ordering",
    "archived",
    "offset",
    "date",
    "scope",
    "period",
    "date_from",
    "date_to",
    "group_by",
    "currency",
    "next",
    "download",
    "kind",
    "organization",
    "contact",
    "opportunity",
    "stage",
    "pipeline",
]
USERS = os.environ.get("FUZZ_USERS", "admin,manager,rep1").split(",")
# The first user gets every value; the others (whose pages differ by what they may see) a few.
FEW_VALUES = ["a\x00b", "1e30", "0001-01-01", "9999-12-31", "abc"]
# Patterns no page links to with an id (documented reasons), so the run cannot reach them.
UNREACHED_OK = {
    "calendar:feed",  # the secret address: added below from the admin's feed
    "admin:",  # the Django admin is not ours to fuzz
}
SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/media/", "/logout/")


def prepare_database():
    import psycopg2

    base, _, name = DATABASE_URL.rpartition("/")
    if "fuzz" not in name and os.environ.get("CI_FUZZ_DATABASE_OK") != name:
        sys.exit(
            f"refusing to drop database {name!r}: its name must contain 'fuzz' (or set CI_FUZZ_DATABASE_OK={name})"
        )
    conn = psycopg2.connect(f"{base}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def get_patterns():
    """(view name, route) of every GET-able pattern of the URLconf."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = namespace
                if pattern.namespace:
                    ns = f"{namespace}{pattern.namespace}:"
                walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                found.append((f"{namespace}{pattern.name}", prefix + str(pattern.pattern)))

    walk(get_resolver().url_patterns, "", "")
    return found


def filterset_parameters():
    """Every filter name of every FilterSet of the project (hidden ones are not in the page)."""
    import django_filters

    from core.filters import StyledFilterSet

    names = set()
    pending = [StyledFilterSet, django_filters.FilterSet]
    seen = set()
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in seen and sub.__module__.split(".")[0] in {p.name for p in ROOT.iterdir()}:
                seen.add(sub)
                pending.append(sub)
                names.update(sub.base_filters)
    return names


LINK = re.compile(r'(?:href|hx-get|data-[a-z-]*url)="(/[^"#]*)"')
GET_FORM = re.compile(r'<form(?![^>]*method="post")[^>]*>(.*?)</form>', re.S | re.I)
FIELD_NAME = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', re.I)


def main():
    started = time.monotonic()
    prepare_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import Resolver404, resolve

    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    logging.getLogger("django.security").setLevel(logging.CRITICAL)
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", deals=30, verbosity=0, stdout=quiet)

    from accounts.models import User
    from activities.services import calendar_feed_token_regenerate
    from opportunities.models import Opportunity
    from quotes.services import quote_create

    for username in USERS:  # a quote each, so that the quote pages have an id to be fuzzed on
        user = User.objects.get(username=username)
        deal = Opportunity.objects.filter(owner=user).first() or Opportunity.objects.first()
        quote_create(user=deal.owner, opportunity=deal, title="Fuzz")

    failures = []
    requests = 0
    patterns = get_patterns()
    names_with_args = {name for name, route in patterns if "<" in route}
    reached = set()
    filter_names = filterset_parameters()

    def fetch(client, url):
        nonlocal requests
        requests += 1
        try:
            response = client.get(url)
        except Exception as exc:  # a view raising is a 500 in production
            failures.append(f"{type(exc).__name__}: {str(exc)[:200]} <- {url[:300]}")
            return None
        if response.status_code >= 500:
            failures.append(f"{url}: {response.status_code}")
        return response

    for username in USERS:
        user = User.objects.get(username=username)
        client = Client(raise_request_exception=True)
        client.force_login(user)
        feed = calendar_feed_token_regenerate(user=user)

        # 1. The pages: those without parameters, then every page a visited page links to.
        queue = [route for name, route in patterns if "<" not in route and not name.startswith("admin:")]
        queue = ["/" + route.lstrip("^").rstrip("$") for route in queue]
        queue.append(f"/calendar/feed/{feed.token}.ics")
        pages, seen_views = {}, set()
        while queue:
            url = queue.pop(0)
            path = urlsplit(url).path
            if path.startswith(SKIP_PREFIXES) or path in pages:
                continue
            try:
                match = resolve(path)
            except Resolver404:
                continue
            # One page per view that takes ids (its first link), every page without.
            if match.kwargs and match.view_name in seen_views:
                continue
            seen_views.add(match.view_name)
            response = fetch(client, path)
            if response is None or response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                pages[path] = set()
                continue
            reached.add(match.view_name)
            html = response.content.decode("utf-8", "replace")
            names = set()
            for form in GET_FORM.findall(html):
                names.update(FIELD_NAME.findall(form))
            pages[path] = names
            queue.extend(link.replace("&amp;", "&") for link in LINK.findall(html))

        print(f"{username}: {len(pages)} pages, {requests} requests, {time.monotonic() - started:.0f} s")
        # 2. Every parameter of every page at once, for each hostile value (forms and FilterSets
        #    validate each field on its own, and views read theirs independently).
        for path, names in pages.items():
            parameters = sorted((names | set(COMMON_PARAMETERS) | filter_names) - {"csrfmiddlewaretoken"})
            for value in HOSTILE_VALUES if username == USERS[0] else FEW_VALUES:
                fetch(client, f"{path}?{urlencode(dict.fromkeys(parameters, value))}")

    unreached = sorted(
        name
        for name in names_with_args - reached
        if not any(name.startswith(ok) for ok in UNREACHED_OK) and not name.startswith("api:")
    )
    elapsed = time.monotonic() - started
    print(f"fuzz_pages: {requests} requests, {len(reached)} views reached, {elapsed:.0f} s")
    if unreached:
        print("Views with ids that no page links to (not fuzzed): " + ", ".join(unreached))
    if failures:
        print(f"FAIL: {len(failures)} server errors:")
        for failure in failures[:50]:
            print("  " + failure)
        sys.exit(1)
    print("fuzz_pages: no server error")


if __name__ == "__main__":
    main()
