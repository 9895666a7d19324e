"""Every report a page, the API or a subscription e-mail can produce, by name: its selector, its
export columns and rows, its page template. One registry, so an e-mailed report is computed by the
same selector, for the same reader, as the page."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _l

from core.exports import MONEY, Column
from reports import selectors as report_selectors
from reports import views as report_views
from reports.filters import ReportFilter

from .filters import TargetFilterForm
from .selectors import accuracy, cohorts, stages
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


STAGE_COLUMNS = [
    Column(_l("Group"), "label"),
    Column(_l("Stage"), lambda r: r.stage.display_name),
    Column(_l("Finished stays"), "finished_count"),
    Column(_l("Average days"), "avg_days"),
    Column(_l("Median days"), "median_days"),
    Column(_l("Still in the stage"), "current_count"),
    Column(_l("Average days so far"), "current_avg_days"),
    Column(_l("Median days so far"), "current_median_days"),
]

VELOCITY_COLUMNS = [
    Column(_l("Group"), "label"),
    Column(_l("Open deals"), "current.open"),
    Column(_l("Win rate (%)"), lambda r: None if r.current.win_rate is None else r.current.win_rate * 100),
    Column(_l("Average won deal"), "current.avg_won_amount", kind=MONEY),
    Column(_l("Average sales cycle (days)"), "current.avg_cycle_days"),
    Column(_l("Velocity per day"), "current.velocity", kind=MONEY),
    Column(_l("Velocity per day, previous period"), "previous.velocity", kind=MONEY),
    Column(_l("Change (%)"), "change"),
]

COHORT_COLUMNS = [
    Column(_l("Month created"), lambda c: f"{c.month:%Y-%m}"),
    Column(_l("Deals"), "deals"),
    Column(_l("Won"), "won"),
    Column(_l("Lost"), "lost"),
    Column(_l("Open"), "open"),
    Column(_l("Win rate (%)"), lambda c: None if c.win_rate is None else c.win_rate * 100),
    *[Column(_l("Won after %(n)s months (%%)") % {"n": n}, lambda c, n=n: _age_share(c, n)) for n in (1, 2, 3, 6, 12)],
]

ACCURACY_COLUMNS = [
    Column(_l("Month"), lambda r: f"{r.month:%Y-%m}"),
    Column(_l("Group"), "label"),
    Column(_l("Snapshot of"), "week_start"),
    Column(_l("Weighted forecast"), "weighted", kind=MONEY),
    Column(_l("Won"), "actual", kind=MONEY),
    Column(_l("Error"), "error", kind=MONEY),
    Column(_l("Error (%)"), "error_percent"),
]


def _age_share(cohort, n):
    for age in cohort.ages:
        if age.months == n:
            share = age.share(age.won)
            return None if share is None else share * 100
    return None


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
    "stages": Entry(
        _l("Time in stage"),
        stages.stage_time_report,
        STAGE_COLUMNS,
        lambda r: r.rows,
        "time-in-stage",
        template="analytics/stages.html",
        form=_report_filter_form("created"),
    ),
    "velocity": Entry(
        _l("Sales velocity"),
        stages.velocity_report,
        VELOCITY_COLUMNS,
        lambda r: [*r.rows, r.total],
        "velocity",
        template="analytics/velocity.html",
        form=_report_filter_form("closed"),
    ),
    "cohorts": Entry(
        _l("Cohorts"),
        cohorts.cohort_report,
        COHORT_COLUMNS,
        lambda r: r.cohorts,
        "cohorts",
        template="analytics/cohorts.html",
        form=_report_filter_form("created"),
    ),
    "accuracy": Entry(
        _l("Forecast accuracy"),
        accuracy.forecast_accuracy_report,
        ACCURACY_COLUMNS,
        lambda r: r.rows,
        "forecast-accuracy",
        template="analytics/accuracy.html",
        form=_report_filter_form("expected"),
    ),
}
