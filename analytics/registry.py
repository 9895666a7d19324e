"""Every report a page, the API or a subscription e-mail can produce, by name: its selector, its
export columns and rows, its page template. One registry, so an e-mailed report is computed by the
same selector, for the same reader, as the page."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _l

from core.exports import Column
from reports import selectors as report_selectors
from reports import views as report_views
from reports.filters import ReportFilter

from .filters import TargetFilterForm
from .selectors import targets as target_selectors


def _percent(value):
    return None if value is None else value


@dataclass(frozen=True)
class Entry:
    title: Any
    selector: Callable
    columns: list
    rows: Callable
    filename: str
    template: str = ""
    form: Callable | None = None
    summary: Callable | None = None  # report -> list of (label, value) for the e-mail


def _report_filter_form(date_field):
    def build(data, *, user):
        return ReportFilter(data, date_field=date_field, user=user).form

    return build


TARGET_COLUMNS = [
    Column(_l("Rep or team"), "label"),
    Column(_l("Period"), "period_label"),
    Column(_l("Metric"), lambda r: r.target.get_metric_display()),
    Column(_l("Target"), lambda r: r.target.value),
    Column(_l("Achieved"), "achieved"),
    Column(_l("Achieved (%)"), "percent"),
    Column(_l("Forecast to period end"), "forecast"),
    Column(_l("Forecast (%)"), "forecast_percent"),
]


def _targets_summary(report):
    return [
        (
            f"{r.label} · {r.target.get_metric_display()} · {r.period_label}",
            f"{r.achieved:.2f} / {r.target.value} ({r.percent} %)",
        )
        for r in report.rows
    ]


REPORTS: dict[str, Entry] = {
    "won_lost": Entry(
        _l("Won/lost"),
        report_selectors.won_lost_report,
        report_views.WON_LOST_COLUMNS,
        lambda r: [*r.rows, r.total],
        "won-lost",
        form=_report_filter_form("closed"),
    ),
    "funnel": Entry(
        _l("Funnel"),
        report_selectors.funnel_report,
        report_views.FUNNEL_COLUMNS,
        lambda r: r.steps,
        "funnel",
        form=_report_filter_form("created"),
    ),
    "forecast": Entry(
        _l("Forecast"),
        report_selectors.forecast_report,
        report_views.FORECAST_COLUMNS,
        lambda r: [*r.months, r.total],
        "forecast",
        form=_report_filter_form("expected"),
    ),
    "lost_deals": Entry(
        _l("Lost deals"),
        report_selectors.lost_deals_report,
        report_views.LOST_COLUMNS,
        lambda r: [
            *((str(_l("Lost reason")), g) for g in r.by_reason),
            *((str(_l("Stage lost from")), g) for g in r.by_stage),
        ],
        "lost-deals",
        form=_report_filter_form("closed"),
    ),
    "targets": Entry(
        _l("Targets"),
        target_selectors.targets_report,
        TARGET_COLUMNS,
        lambda r: r.rows,
        "targets",
        template="analytics/targets.html",
        form=TargetFilterForm,
        summary=_targets_summary,
    ),
}
