"""``{% load custom_fields %}``: custom values on detail pages, list cells and board cards."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from ..display import column_name, record_sections

register = template.Library()


@register.inclusion_tag("customfields/_sections.html")
def custom_field_sections(entity, record):
    """One card per section with the record's custom values (nothing without active fields)."""
    return {"sections": record_sections(entity, record)}


@register.simple_tag
def custom_value(shown):
    """One value: its text, a link where it has one, "removed" for a removed choice, or a dash.
    A tag, not an include: a list page shows hundreds of them."""
    if not shown.text:
        return "—"
    if shown.url:
        if shown.definition.type == "url":
            return format_html('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', shown.url, shown.text)
        return format_html('<a href="{}">{}</a>', shown.url, shown.text)
    if shown.removed:
        return format_html(
            '<span class="text-body-secondary" title="{}">{}</span>', _("This choice was removed"), shown.text
        )
    return shown.text


@register.filter
def custom_column(definition) -> str:
    """``cf_<key>``: the name of a custom column in ``?columns=`` and ``?ordering=``."""
    return column_name(definition)
