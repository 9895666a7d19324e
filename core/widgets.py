"""The searchable autocomplete (static/js/combobox.js) over a plain <select>.

The <select> holds only the chosen record, never every record: the script turns it into an
accessible combobox (ARIA 1.2 pattern: an input with a listbox) that asks a JSON endpoint
(:func:`core.views.lookup_response`) for matches as one types. The form field keeps its queryset,
so what may be chosen is still checked by the form, whatever the script sent.
"""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class AutocompleteSelect(forms.Select):
    """A <select> enhanced into a combobox that searches ``url_name``.

    ``depends_on``: the name of another field of the form (``organization`` for a contact) whose
    value narrows the search (sent as that parameter). ``label_queryset``: where the chosen
    value's label is read when the field has no queryset of its own (a filter by id)."""

    def __init__(self, url_name, *, depends_on=None, label_queryset=None, attrs=None):
        super().__init__(attrs)
        self.url_name = url_name
        self.depends_on = depends_on
        self.label_queryset = label_queryset

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)
        copy.label_queryset = self.label_queryset
        return copy

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        attrs["data-autocomplete"] = reverse(self.url_name)
        attrs["data-autocomplete-placeholder"] = str(_("Type to search…"))
        attrs["data-autocomplete-empty"] = str(_("Nothing matches."))
        attrs["data-autocomplete-more"] = str(_("%(shown)s of %(count)s: type more to narrow them."))
        if self.depends_on:
            attrs["data-autocomplete-depends"] = self.depends_on
        return attrs

    def optgroups(self, name, value, attrs=None):
        """An empty choice and the chosen records only (one query, or none when nothing is chosen)."""
        chosen = [str(v) for v in value if str(v).isdigit()]
        options = [("", "")]
        if chosen:
            queryset = getattr(self.choices, "queryset", None)
            field = getattr(self.choices, "field", None)
            if queryset is not None and field is not None:
                options += [
                    (field.prepare_value(obj), field.label_from_instance(obj)) for obj in queryset.filter(pk__in=chosen)
                ]
            elif self.label_queryset is not None:
                options += [(obj.pk, str(obj)) for obj in self.label_queryset.filter(pk__in=chosen)]
        groups = []
        for index, (option_value, label) in enumerate(options):
            selected = str(option_value) in chosen
            groups.append((None, [self.create_option(name, option_value, label, selected, index, attrs=attrs)], index))
        return groups


def use_autocomplete(field, url_name, **kwargs) -> None:
    """Give a form's model choice ``field`` (its queryset already set) the autocomplete widget,
    keeping its attributes (CSS classes, error state)."""
    widget = AutocompleteSelect(url_name, attrs=dict(field.widget.attrs), **kwargs)
    widget.is_required = field.widget.is_required
    widget.choices = field.choices
    field.widget = widget


def autocomplete_by_id(field, url_name, *, label_queryset, **kwargs) -> None:
    """The autocomplete on a field that takes an id (a filter): the chosen id's label is read from
    ``label_queryset`` (the records the reader may see)."""
    widget = AutocompleteSelect(url_name, label_queryset=label_queryset, attrs=dict(field.widget.attrs), **kwargs)
    widget.attrs["class"] = f"{widget.attrs.get('class', '').replace('form-control', 'form-select')}".strip()
    field.widget = widget
