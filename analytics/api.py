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
from reports.api import report_parameters

from . import services
from .models import Metric, PeriodKind
from .registry import REPORTS
from .selectors.common import GROUPS


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


class StageTimeRowSerializer(serializers.Serializer):
    stage = serializers.IntegerField()
    stage_label = serializers.CharField()
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    stays = serializers.IntegerField(help_text="Finished stays in the stage.")
    avg_days = DecimalText(allow_null=True)
    median_days = DecimalText(allow_null=True)
    in_stage_now = serializers.IntegerField(help_text="Open deals still in the stage.")
    in_stage_now_avg_days = DecimalText(allow_null=True, help_text="Counted to today.")
    in_stage_now_median_days = DecimalText(allow_null=True)


class ConversionSerializer(serializers.Serializer):
    stage = serializers.IntegerField()
    label = serializers.CharField()
    reached = serializers.IntegerField()
    conversion = DecimalText(allow_null=True, help_text="Share reaching the next stage (0.2500 = 25 %).")


class StuckDealSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    owner = serializers.CharField()
    days = serializers.IntegerField()


class StuckSerializer(serializers.Serializer):
    stage = serializers.IntegerField()
    deals = StuckDealSerializer(many=True)


class StageTimeReportSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    rows = StageTimeRowSerializer(many=True)
    conversion = ConversionSerializer(many=True)
    stuck = StuckSerializer(many=True)


class VelocityFiguresSerializer(serializers.Serializer):
    open_deals = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    win_rate = DecimalText(allow_null=True)
    avg_won_amount = DecimalText(allow_null=True)
    avg_cycle_days = DecimalText(allow_null=True)
    velocity = DecimalText(allow_null=True, help_text="Amount per day.")


class VelocityRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    current = VelocityFiguresSerializer()
    previous = VelocityFiguresSerializer()
    change_percent = DecimalText(allow_null=True)


class VelocityReportSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    currency = serializers.CharField()
    period = serializers.ListField(child=serializers.DateField())
    previous_period = serializers.ListField(child=serializers.DateField())
    rows = VelocityRowSerializer(many=True)
    total = VelocityRowSerializer()


class CohortAgeSerializer(serializers.Serializer):
    months = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    open = serializers.IntegerField()
    won_share = DecimalText()
    lost_share = DecimalText()
    open_share = DecimalText()


class CohortSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    deals = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    open = serializers.IntegerField()
    win_rate = DecimalText(allow_null=True)
    ages = CohortAgeSerializer(many=True)


class CohortReportSerializer(serializers.Serializer):
    ages = serializers.IntegerField()
    cohorts = CohortSerializer(many=True)


class AccuracyRowSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    snapshot_week = serializers.DateField()
    forecast = DecimalText()
    weighted = DecimalText()
    actual = DecimalText()
    error = DecimalText(help_text="Weighted forecast − won.")
    error_percent = DecimalText(allow_null=True)


class AccuracyReportSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    currency = serializers.CharField()
    rows = AccuracyRowSerializer(many=True)


def _group(choices):
    return OpenApiParameter("group_by", OpenApiTypes.STR, enum=choices, description="How rows are grouped.")


def _report(request, kind):
    # A bad filter raises ValidationError: the API's one error handler answers 400 naming the field.
    return Response(REPORTS[kind].selector(user=request.user, params=request.query_params).as_dict())


GROUP_VALUES = [g[0] for g in GROUPS]


@extend_schema(
    parameters=[*report_parameters("creation date"), _group(GROUP_VALUES)],
    responses={200: StageTimeReportSerializer, **ERRORS},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def stages(request):
    """Average and median days in each stage (finished stays; deals still in a stage apart),
    stage-to-stage conversion, deals stuck longest."""
    return _report(request, "stages")


@extend_schema(
    parameters=[*report_parameters("closing date"), _group(GROUP_VALUES)],
    responses={200: VelocityReportSerializer, **ERRORS},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def velocity(request):
    """Sales velocity per group, this period and the previous one."""
    return _report(request, "velocity")


@extend_schema(
    parameters=[
        *report_parameters("creation date"),
        OpenApiParameter("months", OpenApiTypes.INT, description="Months followed (1–36, default 12)."),
    ],
    responses={200: CohortReportSerializer, **ERRORS},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def cohorts(request):
    """Deals created per month, and the share won, lost or open after 1, 2, 3… months."""
    return _report(request, "cohorts")


@extend_schema(
    parameters=[*report_parameters("expected close month"), _group(["owner", "team"])],
    responses={200: AccuracyReportSerializer, **ERRORS},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def accuracy(request):
    """Forecast snapshots against what was won, per month and rep or team."""
    return _report(request, "accuracy")
