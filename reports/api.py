"""Report endpoints: parse the query string, call the report's selector, render its figures.

Amounts and rates are strings holding exact decimals (``"1234.50"``, ``"0.2500"``); bad filters
answer 400 naming the field. The schema declares each report's query parameters (the one
``ReportFilter`` of the pages) and the exact shape of its answer.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.api.base import ERRORS
from core.filters import ID_SCHEMA
from opportunities.models import LeadSource, OpportunityType
from pipeline.models import Stage

from . import selectors
from .filters import FUNNEL_GROUP_BY, GROUP_BY, PERIODS


@extend_schema_field({"type": "string", "format": "decimal"})
class DecimalText(serializers.CharField):
    """An exact decimal written as a string, as every amount and rate of the reports."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)


def _nullable_decimal(help_text=""):
    return DecimalText(allow_null=True, help_text=help_text)


class UnconvertedField(serializers.DictField):
    """Amounts that could not be converted to the report's currency, per currency code."""

    def __init__(self, **kwargs):
        super().__init__(child=DecimalText(), read_only=True, **kwargs)


class WonLostUnconvertedSerializer(serializers.Serializer):
    currency = serializers.CharField()
    won_amount = DecimalText()
    lost_amount = DecimalText()


class WonLostRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    won_count = serializers.IntegerField()
    lost_count = serializers.IntegerField()
    won_amount = DecimalText()
    lost_amount = DecimalText()
    win_rate = _nullable_decimal("Won / closed, by count (0.2500 = 25 %); null when nothing closed.")
    win_rate_by_value = _nullable_decimal("Won / closed, by amount.")
    avg_won_amount = _nullable_decimal()
    avg_cycle_days = _nullable_decimal("Average days from creation to won.")
    unconverted = WonLostUnconvertedSerializer(many=True)


class WonLostReportSerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=GROUP_BY)
    currency = serializers.CharField()
    rows = WonLostRowSerializer(many=True)
    total = WonLostRowSerializer()


class FunnelStepSerializer(serializers.Serializer):
    stage = serializers.IntegerField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=Stage.Kind.choices)
    reached = serializers.IntegerField()
    conversion = _nullable_decimal("Share of the deals reaching this stage that reached the next one.")
    drop_off = serializers.IntegerField(allow_null=True)
    median_days_in_stage = _nullable_decimal()
    timed_deals = serializers.IntegerField()


class FunnelGroupSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="The web form's id or the campaign; null for neither.")
    label = serializers.CharField()
    deals = serializers.IntegerField()
    steps = FunnelStepSerializer(many=True)


class FunnelReportSerializer(serializers.Serializer):
    pipeline = serializers.IntegerField()
    deals = serializers.IntegerField()
    steps = FunnelStepSerializer(many=True)
    group_by = serializers.ChoiceField(choices=FUNNEL_GROUP_BY, allow_null=True)
    groups = FunnelGroupSerializer(many=True, help_text="The funnel of each group; empty without group_by.")


class ForecastMonthSerializer(serializers.Serializer):
    month = serializers.CharField(allow_null=True, help_text="YYYY-MM; null for deals without an expected date.")
    label = serializers.CharField()
    count = serializers.IntegerField()
    amount = DecimalText()
    weighted = DecimalText()
    unconverted = UnconvertedField()


class OverdueDealSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    expected_close_date = serializers.DateField()
    amount = DecimalText()
    currency = serializers.CharField()
    owner = serializers.CharField()


class ForecastVersusActualSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    snapshot_week = serializers.DateField()
    forecast = DecimalText()
    weighted = DecimalText()
    actual = DecimalText()


class ForecastReportSerializer(serializers.Serializer):
    currency = serializers.CharField()
    months = ForecastMonthSerializer(many=True)
    total = ForecastMonthSerializer()
    overdue = ForecastMonthSerializer()
    overdue_deals = OverdueDealSerializer(many=True)
    forecast_versus_actual = ForecastVersusActualSerializer(many=True)


class LostGroupSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    count = serializers.IntegerField()
    share = _nullable_decimal("Share of the lost deals (0.2500 = 25 %).")
    amount = DecimalText()
    unconverted = UnconvertedField()


class LostReportSerializer(serializers.Serializer):
    currency = serializers.CharField()
    by_reason = LostGroupSerializer(many=True)
    by_stage = LostGroupSerializer(many=True)
    total = LostGroupSerializer()


def _id(name, description):
    return OpenApiParameter(
        name,
        ID_SCHEMA,
        OpenApiParameter.QUERY,
        description=description,
    )


def _choice(name, choices, description):
    return OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.QUERY, enum=[c[0] for c in choices], description=description
    )


def report_parameters(date_basis: str, *, with_group_by: bool = False, group_choices=None) -> list[OpenApiParameter]:
    """The query parameters of ``reports.filters.ReportFilter`` (the pages' filters)."""
    parameters = [
        _choice("period", PERIODS, f"A preset range of the {date_basis}; `date_from`/`date_to` win over it."),
        OpenApiParameter(
            "date_from", OpenApiTypes.DATE, OpenApiParameter.QUERY, description=f"First day ({date_basis})."
        ),
        OpenApiParameter("date_to", OpenApiTypes.DATE, OpenApiParameter.QUERY, description=f"Last day ({date_basis})."),
        _id("pipeline", "Only deals of this pipeline."),
        _id("team", "Only deals owned by members of this team."),
        _id("owner", "Only deals of this owner."),
        _choice("type", OpportunityType.choices, "Only deals of this type."),
        _id("product", "Only deals with a line of this product."),
        _choice("lead_source", LeadSource.choices, "Only deals from this lead source."),
        OpenApiParameter(
            "currency",
            OpenApiTypes.STR,
            OpenApiParameter.QUERY,
            description="Only the deals in this currency (ISO 4217 code), not converted; "
            "absent: every deal, converted to the reporting currency.",
        ),
    ]
    if with_group_by and group_choices is not None:
        parameters.append(_choice("group_by", group_choices, "Also split the report by this (default: not split)."))
    elif with_group_by:
        parameters.append(_choice("group_by", GROUP_BY, "How the rows are grouped (default: owner)."))
    return parameters


def _report(request, selector):
    # A bad filter raises ValidationError: the API's one error handler answers 400 naming the field.
    report = selector(user=request.user, params=request.query_params)
    return Response(report.as_dict())


@extend_schema(
    parameters=report_parameters("closing date", with_group_by=True),
    responses={200: WonLostReportSerializer, **ERRORS},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def won_lost(request):
    """Won and lost deals grouped by ``group_by`` (owner, team, product, type, lost_reason,
    lead_source, month, quarter, lead_form, utm_campaign), with a total row."""
    return _report(request, selectors.won_lost_report)


@extend_schema(
    parameters=report_parameters("creation date", with_group_by=True, group_choices=FUNNEL_GROUP_BY),
    responses={200: FunnelReportSerializer, **ERRORS},
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def funnel(request):
    """Deals reaching each stage, conversion, drop-off and median days in each stage; with
    ``group_by`` (lead_form, utm_campaign) also the funnel of each web form or campaign."""
    return _report(request, selectors.funnel_report)


@extend_schema(parameters=report_parameters("expected close date"), responses={200: ForecastReportSerializer, **ERRORS})
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def forecast(request):
    """Open pipeline by expected close month, overdue deals, forecast versus actual."""
    return _report(request, selectors.forecast_report)


@extend_schema(parameters=report_parameters("closing date"), responses={200: LostReportSerializer, **ERRORS})
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def lost_deals(request):
    """Lost deals by reason and by the stage they were lost from."""
    return _report(request, selectors.lost_deals_report)
