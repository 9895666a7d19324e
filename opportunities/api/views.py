"""`/api/v1/opportunities/`: the same selectors, filters and services as the pages."""

import django_filters
from django.db import transaction
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api.archive import RestorePurgeMixin, restore_purge_schema
from core.api.base import ERRORS, IDEMPOTENCY_KEY, IF_MATCH, WRITE_ERRORS, CrmViewSet
from core.api.filters import StableOrderingFilterBackend
from core.api.pagination import PageNumberPagination
from core.views import CountedPaginator
from search.specs import OPPORTUNITY as OPPORTUNITY_SPEC
from search.text import SEARCH_HELP
from search.text import match_q as search_match_q
from tags.selectors import tag_names_of
from tags.services import tags_resolve, tags_set

from .. import selectors, services
from ..filters import OpportunityFilter, OpportunityLineFilter
from ..models import Opportunity, OpportunityLine
from .serializers import (
    DEAL_VALUES,
    WRITABLE,
    MoveSerializer,
    OpportunityLineSerializer,
    OpportunitySerializer,
    StageChangeSerializer,
    deal_rows_representation,
)


def _with_tags(rows: list[dict]) -> list[dict]:
    """Add each deal's tag names to a page of rows (one query for the page)."""
    names = tag_names_of(Opportunity, [row["id"] for row in rows])
    for row in rows:
        row["tags"] = names[row["id"]]
    return rows


class ApiOpportunityFilter(OpportunityFilter):
    search = django_filters.CharFilter(method="search_indexed", help_text=SEARCH_HELP)

    def search_indexed(self, queryset, name, value):
        return queryset.filter(search_match_q(OPPORTUNITY_SPEC, value) or Q(pk__in=[]))


class DealFilterBackend(StableOrderingFilterBackend):
    """The deals' filter backend; hands the view the FilterSet it validated, for the page count."""

    def get_filterset(self, request, queryset, view):
        view.deal_filterset = super().get_filterset(request, queryset, view)
        return view.deal_filterset


class _RowsPaginator(CountedPaginator):
    """Reads the page's rows as plain values instead of model instances."""

    def _get_page(self, object_list, *args, **kwargs):
        return super()._get_page(selectors.opportunity_values(object_list, DEAL_VALUES), *args, **kwargs)


class DealRowsPagination(PageNumberPagination):
    known_count: int | None = None  # set by the view when it knows the count without counting

    def django_paginator_class(self, object_list, per_page):
        return _RowsPaginator(object_list, per_page, count=self.known_count)


@restore_purge_schema(OpportunitySerializer)
class OpportunityViewSet(RestorePurgeMixin, mixins.ListModelMixin, CrmViewSet):
    serializer_class = OpportunitySerializer
    pagination_class = DealRowsPagination
    filter_backends = [DealFilterBackend]
    filterset_class = ApiOpportunityFilter
    deal_filterset = None  # the validated filters of this request (None: none asked for)
    default_ordering = ["-created_at"]
    queryset = Opportunity.objects.none()  # for the schema; get_queryset narrows to what the caller sees

    def get_queryset(self):
        return selectors.opportunity_list(user=self.request.user)

    def list(self, request, *args, **kwargs):
        """A page of the deals you may see that match the filters.

        The rows are read as plain values and turned into the same dicts as the serializer's
        (``deal_representation``; a test keeps them equal): building 100 deals with their five
        related records as model instances was a third of the page's time."""
        deals = self.filter_queryset(self.get_queryset())
        # The count: from the kept per-stage totals when the filters are keys only, else counted.
        if self.paginator is not None:
            self.paginator.known_count = selectors.opportunity_count_from_totals(
                user=request.user, filterset=self.deal_filterset
            )
        page = self.paginate_queryset(deals)
        if page is None:  # no pagination asked for
            rows = _with_tags(list(selectors.opportunity_values(deals, DEAL_VALUES)))
            return Response(deal_rows_representation(rows))
        return self.get_paginated_response(deal_rows_representation(_with_tags(list(page))))

    def get_object(self):
        try:
            return self.with_etag(selectors.opportunity_get(user=self.request.user, pk=int(self.kwargs["pk"])))
        except (Opportunity.DoesNotExist, ValueError):
            raise NotFound() from None

    @extend_schema(responses={200: OpportunitySerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=OpportunitySerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: OpportunitySerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        def make():
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            names = data.pop("tags", None)
            tags = tags_resolve(names) if names is not None else None  # a 400 before anything is made
            with transaction.atomic():
                opp = services.opportunity_create(user=request.user, **data)
                if tags:
                    tags_set(opp, tags, request.user)
            opp = selectors.opportunity_get(user=request.user, pk=opp.pk)
            self.with_etag(opp)
            return Response(self.get_serializer(opp).data, status=status.HTTP_201_CREATED)

        return self.idempotent(request, make)

    def _update(self, request, partial):
        # Who may change the deal, the stage rules (same pipeline, lost reason) and the version are
        # the service's checks: this face only parses and translates (the exception handler).
        opp = self.get_object()
        self.check_if_match(opp)
        serializer = self.get_serializer(opp, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = {
            k: v
            for k, v in serializer.validated_data.items()
            if k in WRITABLE or k in ("stage", "lost_reason", "pipeline")
        }
        if "probability" in data and data["probability"] is None:  # null: back to the stage's default
            del data["probability"]
            data["probability_is_manual"] = False
        names = serializer.validated_data.get("tags")
        tags = tags_resolve(names) if names is not None else None
        with transaction.atomic():
            services.opportunity_update(opportunity=opp, user=request.user, data=data, expected_version=opp.version)
            if tags is not None:
                tags_set(opp, tags, request.user)
        fresh = self.with_etag(selectors.opportunity_get(user=request.user, pk=opp.pk))
        return Response(self.get_serializer(fresh).data)

    @extend_schema(parameters=[IF_MATCH], responses={200: OpportunitySerializer, **WRITE_ERRORS})
    def partial_update(self, request, pk=None):
        """Change some fields. A different `stage` goes through the stage-change service, as `move/`
        does: a stage of another pipeline is a 400 on `stage`. To move a deal to another pipeline,
        send `pipeline` together with one of its stages (a `pipeline` alone is a 400 on `stage`)."""
        return self._update(request, partial=True)

    @extend_schema(parameters=[IF_MATCH], responses={200: OpportunitySerializer, **WRITE_ERRORS})
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(parameters=[IF_MATCH], responses={204: None, **WRITE_ERRORS})
    def destroy(self, request, pk=None):
        """Archive the deal (its history stays; a manager can restore it)."""
        opp = self.get_object()
        self.check_if_match(opp)
        services.opportunity_archive(opportunity=opp, user=request.user, expected_version=opp.version)
        self._etag_object = None
        return Response(status=status.HTTP_204_NO_CONTENT)

    def restore_record(self, obj):
        return services.opportunity_restore(opportunity=obj, user=self.request.user)

    def purge_record(self, obj):
        return services.opportunity_purge(opportunity=obj, user=self.request.user)

    @extend_schema(
        request=MoveSerializer, parameters=[IF_MATCH], responses={200: OpportunitySerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the deal to another stage of its pipeline (and/or position) through the one
        stage-change service; a stage of another pipeline is a 400 on `stage`."""
        opp = self.get_object()
        self.check_if_match(opp)
        serializer = MoveSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        expected = data.get("version") or (opp.version if request.headers.get("If-Match") else None)
        services.opportunity_move_stage(
            opportunity=opp,
            stage=data["stage"],
            user=request.user,
            expected_version=expected,
            lost_reason=data.get("lost_reason"),
            lost_note=data.get("lost_note", ""),
            position=data.get("position"),
        )
        fresh = self.with_etag(selectors.opportunity_get(user=request.user, pk=opp.pk))
        return Response(self.get_serializer(fresh).data)

    @extend_schema(responses={200: StageChangeSerializer(many=True), **ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """The stages the deal went through, oldest first."""
        opp = self.get_object()
        self._etag_object = None
        rows = selectors.opportunity_history(opportunity=opp)
        return Response(StageChangeSerializer(rows, many=True).data)


class OpportunityLineViewSet(mixins.ListModelMixin, CrmViewSet):
    """Product lines of the deals the caller may see. `?opportunity=<id>` narrows to one deal."""

    serializer_class = OpportunityLineSerializer
    filterset_class = OpportunityLineFilter
    queryset = OpportunityLine.objects.none()

    def get_queryset(self):
        visible = selectors.opportunity_list(user=self.request.user, include_archived=True)
        qs = OpportunityLine.objects.filter(opportunity__in=visible.values("pk")).select_related("product")
        return qs.order_by("opportunity_id", "position", "id")

    def get_object(self):
        line = self.get_queryset().filter(pk=self.kwargs["pk"]).select_related("opportunity").first()
        if line is None:
            raise NotFound()
        return self.with_etag(line)

    @extend_schema(responses={200: OpportunityLineSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(parameters=[IDEMPOTENCY_KEY], responses={201: OpportunityLineSerializer, **WRITE_ERRORS})
    def create(self, request):
        def make():
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            opp = data.pop("opportunity")
            line = services.opportunity_line_add(opportunity=opp, user=request.user, **data)
            return Response(self.get_serializer(line).data, status=status.HTTP_201_CREATED)

        return self.idempotent(request, make)

    @extend_schema(parameters=[IF_MATCH], responses={200: OpportunityLineSerializer, **WRITE_ERRORS})
    def partial_update(self, request, pk=None):
        line = self.get_object()
        self.check_if_match(line)
        serializer = self.get_serializer(line, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if k != "opportunity"}
        line = services.opportunity_line_update(line=line, user=request.user, data=data)
        return Response(self.get_serializer(line).data)

    @extend_schema(parameters=[IF_MATCH], responses={204: None, **WRITE_ERRORS})
    def destroy(self, request, pk=None):
        line = self.get_object()
        self.check_if_match(line)
        services.opportunity_line_remove(line=line, user=request.user)
        self._etag_object = None
        return Response(status=status.HTTP_204_NO_CONTENT)
