"""Analytics endpoints: each report's figures, from the same selector as its page (amounts and
rates as exact decimal strings), and setting a target. Bad input answers 400 naming the field."""

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.models import Team, User
from core.api.base import ERRORS, WRITE_ERRORS

from . import services
from .models import Metric, PeriodKind
from .registry import REPORTS


@extend_schema_field({"type": "string", "format": "decimal"})
class DecimalText(serializers.CharField):
    """An exact decimal written as a string, as every amount and rate of the reports."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)


class TargetRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    owner = serializers.IntegerField(allow_null=True)
    team = serializers.IntegerField(allow_null=True)
    label = serializers.CharField()
    period_kind = serializers.ChoiceField(choices=PeriodKind.choices)
    period_start = serializers.DateField()
    period = serializers.CharField(help_text="YYYY-MM or YYYY Qn")
    metric = serializers.ChoiceField(choices=Metric.choices)
    target = DecimalText()
    achieved = DecimalText()
    percent = DecimalText(allow_null=True, help_text="Achieved / target × 100, one decimal.")
    forecast = DecimalText(help_text="Achieved + weighted open pipeline expected to close in the period.")
    forecast_percent = DecimalText(allow_null=True)


class TargetsReportSerializer(serializers.Serializer):
    period_kind = serializers.ChoiceField(choices=PeriodKind.choices)
    period_start = serializers.DateField()
    currency = serializers.CharField()
    rows = TargetRowSerializer(many=True)


class TargetSetSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    period_kind = serializers.ChoiceField(choices=PeriodKind.choices)
    day = serializers.DateField(help_text="Any day of the month or quarter.")
    metric = serializers.ChoiceField(choices=Metric.choices)
    value = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=Decimal("0.01"))


TARGET_PARAMETERS = [
    OpenApiParameter("period_kind", OpenApiTypes.STR, enum=PeriodKind.values, description="month or quarter (default)"),
    OpenApiParameter("day", OpenApiTypes.DATE, description="Any day of the period (default: today)."),
    OpenApiParameter("team", OpenApiTypes.INT, description="Only this team's targets and its members'."),
    OpenApiParameter("owner", OpenApiTypes.INT, description="Only this rep's targets."),
    OpenApiParameter("metric", OpenApiTypes.STR, enum=Metric.values),
]


@extend_schema(methods=["GET"], parameters=TARGET_PARAMETERS, responses={200: TargetsReportSerializer, **ERRORS})
@extend_schema(methods=["POST"], request=TargetSetSerializer, responses={201: TargetRowSerializer, **WRITE_ERRORS})
@api_view(["GET", "POST"])
@permission_classes([IsAuthenticated])
def targets(request):
    """GET: the targets of a month or quarter with target, achieved, % and forecast to the period's
    end. POST: set (create or replace) a target; managers for their teams, admins for all."""
    if request.method == "POST":
        data = TargetSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = services.target_set(user=request.user, **data.validated_data)
        report = REPORTS["targets"].selector(
            user=request.user,
            params={"period_kind": target.period_kind, "day": target.period_start.isoformat()},
        )
        row = next(r for r in report.rows if r.target.pk == target.pk)
        return Response(row.as_dict(), status=status.HTTP_201_CREATED)
    return Response(REPORTS["targets"].selector(user=request.user, params=request.query_params).as_dict())
