"""Every figure of the reports, computed in the database: one selector per report feeds its page,
its API endpoint and its export, so they cannot disagree. One module per report; what they share
lives in :mod:`.common` (the filter, ratios, dates) and :mod:`.money` (amounts and currencies).

Rules shared by every report:

* **Who sees what**: every selector starts from ``Opportunity.objects.visible_to(user).active()``
  (archived deals are not counted), then applies :class:`reports.filters.ReportFilter`.
* **Money**: see :mod:`reports.selectors.money`: converted amounts in the reporting currency, the
  unconvertible ones apart per currency, or one currency unconverted; rounding once, at the end.
* **Queries**: a fixed number per report (aggregations, window functions), whatever the number of
  deals.

The public names are re-exported here: views, the API and the exports import ``reports.selectors``.
"""

from .common import report_filter
from .forecast import ForecastMonth, ForecastReport, ForecastVersusActual, forecast_report
from .funnel import FunnelGroup, FunnelReport, FunnelStep, funnel_report
from .lost_deals import LostGroup, LostReport, lost_deals_report
from .money import Money
from .won_lost import WonLostReport, WonLostRow, won_lost_report

__all__ = [
    "ForecastMonth",
    "ForecastReport",
    "ForecastVersusActual",
    "FunnelGroup",
    "FunnelReport",
    "FunnelStep",
    "LostGroup",
    "LostReport",
    "Money",
    "WonLostReport",
    "WonLostRow",
    "forecast_report",
    "funnel_report",
    "lost_deals_report",
    "report_filter",
    "won_lost_report",
]
