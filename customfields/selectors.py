"""Reads of custom field definitions, cached for the length of a request and in the shared cache.

Within a request the definitions are read once (a context variable). Across requests they come from
the shared cache (Redis in production), dropped whenever a definition is saved or deleted
(``customfields.apps``: the next request of every process reads the new ones), so a list page with
ten custom columns or a board with fields on its cards costs no query for them. A write that
bypasses ``save()`` is seen within ``DEFINITIONS_CACHE_SECONDS``; the cache being down is a miss.
"""

import contextvars

from django.core.cache import cache
from django.db import transaction

from .models import CustomField

DEFINITIONS_CACHE_SECONDS = 300
# Part of the key: the test suite changes it for each test (rows come and go with rollbacks).
namespace = "customfield-definitions"

# None outside a request (a task, a shell, a test body): every read asks the database, so nothing
# stale outlives a transaction. Inside a request: {} until the first read, then entity → definitions.
_cache: contextvars.ContextVar[dict | None] = contextvars.ContextVar("customfield_definitions", default=None)
# True between a definition's change and its commit: what is read then stays out of the shared cache.
_changing: contextvars.ContextVar[bool] = contextvars.ContextVar("customfield_definitions_changing", default=False)


def definitions_cache_start(*args, **kwargs) -> None:
    """A request starts: cache the definitions for its length."""
    _cache.set({})
    _changing.set(False)


def definitions_cache_stop(*args, **kwargs) -> None:
    _cache.set(None)


def definitions_forget() -> None:
    """A definition changed: the rest of the request, and every later request, read the new ones."""
    if _cache.get() is not None:
        _cache.set({})
    cache.delete(namespace)
    _changing.set(True)
    transaction.on_commit(_committed)


def _committed() -> None:
    _changing.set(False)
    cache.delete(namespace)


def _all() -> dict[str, list[CustomField]]:
    cached = _cache.get()
    if cached:
        return cached
    rows = cache.get(namespace)
    if rows is None:
        rows = {}
        for definition in CustomField.objects.order_by("entity", "order", "id"):
            rows.setdefault(definition.entity, []).append(definition)
        if not _changing.get():
            cache.set(namespace, rows, DEFINITIONS_CACHE_SECONDS)
    if cached is not None:
        cached.update(rows or {"": []})  # not empty, so the next read knows it was loaded
    return rows


def definitions_for(entity: str, *, include_archived: bool = False) -> list[CustomField]:
    """The definitions of a record kind in display order (one query per request for all kinds)."""
    rows = _all().get(entity, [])
    return rows if include_archived else [d for d in rows if d.archived_at is None]


def definition_get(entity: str, key: str, *, include_archived: bool = False) -> CustomField | None:
    for definition in definitions_for(entity, include_archived=include_archived):
        if definition.key == key:
            return definition
    return None


def definition_list(*, entity: str | None = None, include_archived: bool = False):
    """The definitions for the API and the settings page (a queryset, not the cache)."""
    qs = CustomField.objects.order_by("entity", "order", "id")
    if entity:
        qs = qs.filter(entity=entity)
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs


def value_display(definition: CustomField, value) -> str:
    """A stored value as text for people (pages, exports as text, the audit trail)."""
    from .types import is_empty

    if is_empty(value):
        return ""
    t = definition.type
    if t == "choice":
        return definition.choice_label(value)
    if t == "multi_choice":
        return ", ".join(definition.choice_label(v) for v in value)
    if t == "boolean":
        from django.utils.translation import gettext as _

        return str(_("yes") if value else _("no"))
    if t == "money" and isinstance(value, dict):
        return f"{value.get('amount')} {value.get('currency')}"
    if t == "percent":
        return f"{value} %"
    if t == "user":
        from accounts.models import User

        user = User.objects.filter(pk=value).first()
        return str(user) if user else str(value)
    return str(value)
