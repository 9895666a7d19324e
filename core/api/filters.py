"""The filter backend of every list endpoint: the app's FilterSet (shared with the HTML list), then
an ordering that always ends with the primary key."""

from django_filters.rest_framework import DjangoFilterBackend


class StableOrderingFilterBackend(DjangoFilterBackend):
    """The FilterSet's ordering, always ending with the primary key so pages never overlap."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        # Without any of its parameters a FilterSet selects everything: building it and its form
        # (deep copies of a dozen filters and fields) cost more than the SQL of a page of deals.
        # ``cf_…``: the custom field filters a FilterSet adds for the parameters sent (customfields).
        params = set(request.query_params)
        if (
            filterset_class is None
            or params & set(filterset_class.base_filters)
            or any(p.startswith("cf_") for p in params)
        ):
            queryset = super().filter_queryset(request, queryset, view)
        order = [o for o in queryset.query.order_by if o not in ("id", "-id", "pk", "-pk")]
        order = order or getattr(view, "default_ordering", ["-id"])
        # Tie-break in the direction of the first key, so (created_at DESC, id DESC) can use its index.
        first = order[0]  # a field name, or an expression (a custom field: customfields.filters)
        descending = getattr(first, "descending", False) or str(first).startswith("-")
        return queryset.order_by(*order, "-id" if descending else "id")
