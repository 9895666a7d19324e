"""Report endpoints: parse the query string, call the report's selector, render its figures.

Amounts and rates are strings holding exact decimals (``"1234.50"``, ``"0.2500"``); bad filters
answer 400 naming the field.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.api.base import ERRORS

from . import selectors


def _report(request, selector):
    # A bad filter raises ValidationError: the API's one error handler answers 400 naming the field.
    report = selector(user=request.user, params=request.query_params)
    return Response(report.as_dict())


REPORT_SCHEMA = extend_schema(responses={200: OpenApiTypes.OBJECT, **ERRORS})


@REPORT_SCHEMA
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def won_lost(request):
    """Won and lost deals grouped by ``group_by`` (owner, team, product, type, lost_reason,
    lead_source, month, quarter), with a total row."""
    return _report(request, selectors.won_lost_report)


@REPORT_SCHEMA
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def funnel(request):
    """Deals reaching each stage, conversion, drop-off and median days in each stage."""
    return _report(request, selectors.funnel_report)


@REPORT_SCHEMA
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def forecast(request):
    """Open pipeline by expected close month, overdue deals, forecast versus actual."""
    return _report(request, selectors.forecast_report)


@REPORT_SCHEMA
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def lost_deals(request):
    """Lost deals by reason and by the stage they were lost from."""
    return _report(request, selectors.lost_deals_report)
