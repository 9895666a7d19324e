"""Which columns a list shows: ``?columns=<key>&columns=<key>…`` (what a saved view stores in its
``columns``), from the list's own columns and its record kind's custom fields (``cf_<key>``).

Without ``?columns=`` a list shows its own columns and the custom fields marked "list column";
naming only custom fields keeps the list's own columns. The definitions come from the cache
(``customfields.selectors``), so custom columns cost no query. The values are drawn by
``customfields.display.list_context``. The record's name (and its check box) is always shown.
"""

from django.utils.translation import gettext_lazy as _

from .display import asked_columns, custom_list_columns
from .selectors import definitions_for

CUSTOM_PREFIX = "cf_"
# The optional columns of each list, in the order the list shows them, by saved-view list key.
LIST_COLUMNS = {
    "deals": (
        "deal",
        (
            ("customer", _("Customer")),
            ("stage", _("Stage")),
            ("amount", _("Amount")),
            ("probability", _("Probability")),
            ("expected_close_date", _("Expected close")),
            ("owner", _("Owner")),
        ),
    ),
    "organizations": (
        "organization",
        (
            ("sector", _("Sector")),
            ("city", _("City")),
            ("vat_number", _("VAT number")),
            ("open_deals", _("Open deals")),
            ("owner", _("Owner")),
        ),
    ),
    "contacts": (
        "contact",
        (
            ("job_title", _("Job title")),
            ("organization", _("Organization")),
            ("email", _("E-mail")),
            ("phone", _("Phone")),
            ("owner", _("Owner")),
        ),
    ),
}


def column_choices(list_key: str, params) -> list[tuple[str, str, bool]]:
    """(key, label, shown) of every column a list may show, its custom fields included: the
    saved-views menu's column chooser."""
    entity, builtin = LIST_COLUMNS[list_key]
    asked = asked_columns(params)
    definitions = definitions_for(entity)
    custom = [(f"{CUSTOM_PREFIX}{d.key}", d.label) for d in definitions]
    builtin_keys = {key for key, _label in builtin}
    custom_keys = {key for key, _label in custom}
    # As the list shows them: the own columns asked for (all when none is), the custom ones asked
    # for (those marked "list column" when none is).
    shown = {k for k in asked if k in builtin_keys} or builtin_keys
    shown |= {k for k in asked if k in custom_keys} or {f"{CUSTOM_PREFIX}{d.key}" for d in definitions if d.in_list}
    return [(key, label, key in shown) for key, label in (*builtin, *custom)]


def list_columns(list_key: str, params) -> dict:
    """The template context of the list's own columns ``params`` asks for: ``shown_columns`` (their
    keys; all of them when it names none) and ``column_count`` (every cell of a row, the check box
    and the custom columns of :func:`customfields.display.list_context` included)."""
    entity, builtin = LIST_COLUMNS[list_key]
    builtin_keys = [key for key, _label in builtin]
    asked = asked_columns(params)
    shown = [k for k in builtin_keys if k in asked] or builtin_keys
    custom = custom_list_columns(entity, asked) if any(k.startswith(CUSTOM_PREFIX) for k in asked) else None
    if custom is None:
        custom = custom_list_columns(entity)
    return {"shown_columns": shown, "column_count": 2 + len(shown) + len(custom)}
