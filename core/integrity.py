"""A database constraint violation, said for people.

Services validate before writing (``full_clean`` checks every ``Meta.constraints``), so the
database refuses a row only when someone else wrote a conflicting one in between (two people
saving the same VAT number at once, say). Pages and the API then answer with the constraint's
own ``violation_error_message`` — a 400 or a form error naming the field, never a 500.
"""

import re

from django.apps import apps
from django.db import models
from django.utils.translation import gettext as _

# SQLite names the columns of a failed unique index, not the index: "UNIQUE constraint failed: t.a, t.b".
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w.]+(?:, [\w.]+)*)")


def _constraints():
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            yield model, constraint


def _unique_fields(model, columns: set[str]):
    """The (field, message) of the unique constraint or unique field over exactly ``columns``."""
    names = {
        model._meta.get_field(c.split(".", 1)[1]).name for c in columns if c.split(".", 1)[0] == model._meta.db_table
    }
    if not names:
        return None
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and set(constraint.fields) == names:
            field = constraint.fields[0] if len(constraint.fields) == 1 else None
            return field, str(constraint.get_violation_error_message())
    if len(names) == 1:
        field = model._meta.get_field(names.pop())
        if field.unique:
            message = field.error_messages["unique"] % {
                "model_name": model._meta.verbose_name,
                "field_label": field.verbose_name,
            }
            return field.name, str(message)
    return None


def integrity_error_explained(exc) -> tuple[str | None, str]:
    """``(field or None, message)`` for an IntegrityError, from the constraint it names."""
    text = str(exc)
    for _model, constraint in _constraints():
        if re.search(rf"\b{re.escape(constraint.name)}\b", text):
            fields = list(getattr(constraint, "fields", ()) or ())
            return (fields[0] if len(fields) == 1 else None), str(constraint.get_violation_error_message())
    columns = set()
    match = _SQLITE_UNIQUE.search(text)
    diag = getattr(exc.__cause__, "diag", None)  # PostgreSQL (psycopg) names the table and the key
    if match:
        columns = set(match["columns"].split(", "))
    elif diag is not None and getattr(diag, "table_name", None):
        key = re.search(r"Key \((?P<columns>[^)]+)\)=", text)
        if key:
            columns = {f"{diag.table_name}.{c.strip()}" for c in key["columns"].split(",")}
    if columns:
        tables = {c.split(".", 1)[0] for c in columns}
        for model in apps.get_models():
            if model._meta.db_table in tables:
                found = _unique_fields(model, columns)
                if found:
                    return found
    return None, _(
        "This change conflicts with data saved in the meantime, so nothing was saved. Reload the page and try again."
    )
