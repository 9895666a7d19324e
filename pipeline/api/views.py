"""`/api/v1/pipelines/`, `/stages/`, `/lost-reasons/`, and the per-stage summary the board shows."""

from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.base import ERRORS
from core.api.schema import filterset_parameters
from opportunities.deal_filters import DealFilters
from opportunities.filters import OpportunityFilter
from opportunities.models import Opportunity

from ..models import LostReason, Pipeline, Stage
from ..selectors import pipeline_summary


class StageSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Stage
        fields = ["id", "pipeline", "name", "display_name", "order", "kind", "probability", "stale_after_days"]


class PipelineSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = ["id", "name", "display_name", "is_default", "stages"]


class LostReasonSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = LostReason
        fields = ["id", "name", "display_name", "order", "active"]


class StageTotalsSerializer(serializers.Serializer):
    stage = serializers.IntegerField(source="stage.pk")
    stage_name = serializers.CharField(source="stage.display_name")
    kind = serializers.ChoiceField(source="stage.kind", choices=Stage.Kind.choices)
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    weighted = serializers.DecimalField(max_digits=20, decimal_places=2)
    unconverted = serializers.DictField(child=serializers.DecimalField(max_digits=20, decimal_places=2))


class PipelineViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PipelineSerializer
    queryset = Pipeline.objects.prefetch_related("stages").order_by("-is_default", "name", "id")

    @extend_schema(
        parameters=filterset_parameters(OpportunityFilter), responses={200: StageTotalsSerializer(many=True), **ERRORS}
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def summary(self, request, pk=None):
        """Per stage: count, amount and weighted amount (in the base currency) of the deals you may
        see that match the filters — the same selector as the board's column headers."""
        pipeline = self.get_object()
        filterset = OpportunityFilter(request.query_params, queryset=Opportunity.objects.none(), request=request)
        if not filterset.is_valid():  # 400 naming the parameter, as the deal list answers
            raise translate_validation(filterset.errors)
        summary = pipeline_summary(user=request.user, pipeline=pipeline, filters=DealFilters.from_filterset(filterset))
        return Response(StageTotalsSerializer(summary, many=True).data)


class StageViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StageSerializer
    queryset = Stage.objects.order_by("pipeline_id", "order", "id")
    filterset_fields = ["pipeline", "kind"]


class LostReasonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = LostReasonSerializer
    queryset = LostReason.objects.order_by("order", "name", "id")
