"""Which columns a list shows: ``?columns=<key>&columns=<key>…`` (what a saved view stores in its
``columns``), from the list's own columns and its record kind's custom fields (``cf_<key>``).

Without ``?columns=`` a list shows its usual columns and no custom field, and reads no definition
(its query budget stays the same); with custom columns it reads the definitions once (cached for
the request). The record's name (and its check box) is always shown.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .exports import export_value
from .models import FieldType
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


@dataclass(frozen=True)
class CustomColumn:
    """A custom field shown as a column: its definition and the users a "user" field may name."""

    definition: object
    users: dict

    @property
    def label(self) -> str:
        return self.definition.label

    def value(self, record) -> str:
        raw = (getattr(record, "custom_fields", None) or {}).get(self.definition.key)
        shown = export_value(self.definition, raw, self.users)
        if shown is None or shown == "":
            return "—"
        if isinstance(shown, bool):
            return str(_("Yes") if shown else _("No"))
        if self.definition.type == FieldType.MONEY and isinstance(raw, dict):
            return f"{shown} {raw.get('currency', '')}".strip()
        return str(shown)


def asked_columns(params) -> list[str]:
    """The column keys a query string asks for (repeated ``columns=`` or one comma-separated)."""
    keys = []
    for value in params.getlist("columns"):
        keys.extend(k.strip() for k in value.split(",") if k.strip())
    return list(dict.fromkeys(keys))


def column_choices(list_key: str, params) -> list[tuple[str, str, bool]]:
    """(key, label, shown) of every column a list may show, its custom fields included: the
    saved-views menu's column chooser."""
    entity, builtin = LIST_COLUMNS[list_key]
    asked = asked_columns(params)
    custom = [(f"{CUSTOM_PREFIX}{d.key}", d.label) for d in definitions_for(entity)]
    known = {key for key, _label in (*builtin, *custom)}
    shown = {k for k in asked if k in known} or {key for key, _label in builtin}
    return [(key, label, key in shown) for key, label in (*builtin, *custom)]


def list_columns(list_key: str, params) -> dict:
    """The template context of the columns ``params`` asks a list to show: ``shown_columns`` (the
    keys of the list's own columns to show), ``custom_columns`` (:class:`CustomColumn`, after
    them) and ``column_count`` (every cell of a row, the check box included)."""
    entity, builtin = LIST_COLUMNS[list_key]
    builtin_keys = [key for key, _label in builtin]
    asked = asked_columns(params)
    custom: list[CustomColumn] = []
    if any(k.startswith(CUSTOM_PREFIX) for k in asked):
        definitions = {f"{CUSTOM_PREFIX}{d.key}": d for d in definitions_for(entity)}
        chosen = [definitions[k] for k in asked if k in definitions]
        users = {}
        if any(d.type == FieldType.USER for d in chosen):
            from accounts.models import User

            users = {u.pk: str(u) for u in User.objects.filter(is_active=True)}
        custom = [CustomColumn(d, users) for d in chosen]
    shown = [k for k in builtin_keys if k in asked]
    if not shown and not custom:
        shown = builtin_keys
    return {"shown_columns": shown, "custom_columns": custom, "column_count": 2 + len(shown) + len(custom)}
