import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filters import StyledFilterSet

from .models import Activity


class ActivityFilter(StyledFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    scope = django_filters.ChoiceFilter(
        choices=[("mine", _("Mine")), ("team", _("My team"))],
        method="filter_scope",
        label=_("Whose"),
        empty_label=_("Everyone"),
    )
    kind = django_filters.ChoiceFilter(choices=Activity.Kind.choices, label=_("Kind"))
    state = django_filters.ChoiceFilter(
        choices=[("open", _("Open")), ("overdue", _("Overdue")), ("done", _("Done"))],
        method="filter_state",
        label=_("State"),
    )
    due_after = django_filters.DateFilter(
        field_name="due_at",
        lookup_expr="date__gte",
        label=_("Due from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    due_before = django_filters.DateFilter(
        field_name="due_at", lookup_expr="date__lte", label=_("Due to"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ordering = django_filters.OrderingFilter(fields=(("due_at", "due_at"), ("subject", "subject")))

    class Meta:
        model = Activity
        fields = ["q", "scope", "kind", "state"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(subject__icontains=value) | Q(opportunity__name__icontains=value) | Q(organization__name__icontains=value)
        )

    def filter_scope(self, queryset, name, value):
        user = self.request.user
        if value == "mine":
            return queryset.filter(owner=user)
        if value == "team" and user.team_id:
            return queryset.filter(owner__team_id=user.team_id)
        return queryset

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(done=False)
        if value == "overdue":
            return queryset.filter(done=False, due_at__lt=timezone.now())
        if value == "done":
            return queryset.filter(done=True)
        return queryset
