"""Forms of the board: the filters, a move (drag and drop or the "Move to…" menu) and quick add."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import StyledFormMixin
from opportunities.filters import OpportunityFilter

from .models import LostReason, Stage

BOARD_FILTERS = ("q", "scope", "type", "close_after", "close_before", "tag", "rotten", "no_next_activity")


class BoardFilter(OpportunityFilter):
    """The deal filters a board offers (owner scope, type, expected close range, text search)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.filters):
            if name not in BOARD_FILTERS and not name.startswith("cf_"):
                del self.filters[name]
        self.filters["type"].extra["empty_label"] = _("Any type")


class BoardMoveForm(forms.Form):
    """A card dropped on a column, or moved with its menu. ``version`` is the one the card was
    rendered with: a move made on a stale copy is refused, never applied over someone's change."""

    stage = forms.ModelChoiceField(queryset=Stage.objects.select_related("pipeline"), label=_("Stage"))
    version = forms.IntegerField(min_value=1, label=_("Version"))
    lost_reason = forms.ModelChoiceField(
        queryset=LostReason.objects.filter(active=True), required=False, label=_("Lost reason")
    )
    lost_note = forms.CharField(max_length=300, required=False, label=_("Note"))
    above = forms.IntegerField(required=False, widget=forms.HiddenInput)
    below = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        stage = data.get("stage")
        if stage is not None and stage.is_lost and not data.get("lost_reason"):
            self.add_error("lost_reason", _("Choose why the deal was lost."))
        return data


class QuickAddForm(StyledFormMixin, forms.Form):
    """The small form at the top of a column: enough to put a deal on the board."""

    stage = forms.ModelChoiceField(queryset=Stage.objects.select_related("pipeline"), widget=forms.HiddenInput)
    name = forms.CharField(max_length=200, label=_("Deal name"))
    organization = forms.CharField(max_length=200, label=_("Organization"))
    amount = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False, label=_("Amount")
    )
    # Only a lost column needs it (the service refuses a lost deal without one).
    lost_reason = forms.ModelChoiceField(
        queryset=LostReason.objects.filter(active=True), required=False, label=_("Lost reason")
    )
