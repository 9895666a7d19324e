import django_filters

from .forms import StyledFormMixin


class StyledFilterSet(django_filters.FilterSet):
    """A FilterSet whose form renders with the site's compact styles, for filter bars."""

    def get_form_class(self):
        base = super().get_form_class()
        return type(f"Styled{base.__name__}", (StyledFormMixin, base), {"compact": True})
