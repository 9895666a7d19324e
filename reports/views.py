"""Report pages: the selector's figures as charts and a table, with CSV / XLSX export of the same rows.

Views are thin: each one calls its report's selector (which applies visibility and filters) and
renders; ``?export=csv|xlsx`` downloads the table on screen. Bad filters show on the filter form.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _l

from core.exports import MONEY, Column, base_currency, export_response, wants_export

from . import selectors
from .filters import FUNNEL_GROUP_BY, ReportFilter


def _percent(value):
    return None if value is None else value * 100


def _unconverted_text(items) -> str:
    return "; ".join(f"{u['currency']} {u['won_amount']}/{u['lost_amount']}" for u in items)


def _money_apart(money) -> str:
    return "; ".join(f"{code} {value:.2f}" for code, value in sorted(money.unconverted.items()))


WON_LOST_COLUMNS = [
    Column(_l("Group"), "label"),
    Column(_l("Won"), "won_count"),
    Column(_l("Lost"), "lost_count"),
    Column(_l("Won amount"), "won_amount", kind=MONEY),
    Column(_l("Lost amount"), "lost_amount", kind=MONEY),
    Column(_l("Win rate (%)"), lambda r: _percent(r.win_rate)),
    Column(_l("Win rate by value (%)"), lambda r: _percent(r.win_rate_by_value)),
    Column(_l("Average won deal"), "avg_won_amount", kind=MONEY),
    Column(_l("Average sales cycle (days)"), "avg_cycle_days"),
    Column(_l("Not converted (won/lost)"), lambda r: _unconverted_text(r.unconverted)),
    Column(_l("Currency"), base_currency),
]

FUNNEL_COLUMNS = [
    Column(_l("Stage"), lambda s: s.stage.display_name),
    Column(_l("Deals reaching it"), "reached"),
    Column(_l("Conversion to next (%)"), lambda s: _percent(s.conversion)),
    Column(_l("Drop-off"), "drop_off"),
    Column(_l("Median days in stage"), "median_days"),
]

# A funnel split by web form or campaign: the whole funnel first, then each group's.
GROUPED_FUNNEL_COLUMNS = [
    Column(_l("Group"), lambda row: row[0]),
    *(Column(c.label, lambda row, c=c: c.get(row[1]), kind=c.kind) for c in FUNNEL_COLUMNS),
]


def _funnel_rows(report):
    if not report.group_by:
        return report.steps
    whole = str(_l("All deals"))
    return [
        *((whole, step) for step in report.steps),
        *((group.label, step) for group in report.groups for step in group.steps),
    ]


FORECAST_COLUMNS = [
    Column(_l("Expected close month"), "label"),
    Column(_l("Deals"), "count"),
    Column(_l("Amount"), "unweighted", kind=MONEY),
    Column(_l("Weighted amount"), "weighted", kind=MONEY),
    Column(_l("Not converted"), lambda m: _money_apart(m.amount)),
    Column(_l("Currency"), base_currency),
]

LOST_COLUMNS = [
    Column(_l("By"), lambda g: g[0]),
    Column(_l("Group"), lambda g: g[1].label),
    Column(_l("Deals"), lambda g: g[1].count),
    Column(_l("Amount"), lambda g: g[1].total_amount, kind=MONEY),
    Column(_l("Not converted"), lambda g: _money_apart(g[1].amount)),
    Column(_l("Currency"), base_currency),
]


def _report_page(
    request,
    *,
    selector,
    template,
    date_field,
    export_rows,
    columns,
    filename,
    with_group_by=False,
    group_choices=None,
):
    try:
        report = selector(user=request.user, params=request.GET)
    except ValidationError as exc:
        # Show the form with the errors the selector found, on the fields they name.
        filterset = ReportFilter(
            request.GET,
            date_field=date_field,
            with_group_by=with_group_by,
            group_choices=group_choices,
            user=request.user,
        )
        if filterset.is_valid():
            for name, errors in exc.message_dict.items():
                filterset.form.add_error(name if name in filterset.form.fields else None, errors)
        return render(request, template, {"filter": filterset, "report": None}, status=400)
    if wants_export(request):
        columns = columns(report) if callable(columns) else columns
        return export_response(request, rows=export_rows(report), columns=columns, filename=filename)
    return render(request, template, {"filter": report.filter, "report": report, "exportable": True})


@login_required
def report_index(request):
    return render(request, "reports/index.html")


@login_required
def won_lost(request):
    return _report_page(
        request,
        selector=selectors.won_lost_report,
        template="reports/won_lost.html",
        date_field="closed",
        with_group_by=True,
        export_rows=lambda r: [*r.rows, r.total],
        columns=WON_LOST_COLUMNS,
        filename="won-lost",
    )


@login_required
def funnel(request):
    return _report_page(
        request,
        selector=selectors.funnel_report,
        template="reports/funnel.html",
        date_field="created",
        with_group_by=True,
        group_choices=FUNNEL_GROUP_BY,
        export_rows=_funnel_rows,
        columns=lambda r: GROUPED_FUNNEL_COLUMNS if r.group_by else FUNNEL_COLUMNS,
        filename="funnel",
    )


@login_required
def forecast(request):
    return _report_page(
        request,
        selector=selectors.forecast_report,
        template="reports/forecast.html",
        date_field="expected",
        export_rows=lambda r: [*r.months, r.total],
        columns=FORECAST_COLUMNS,
        filename="forecast",
    )


@login_required
def lost_deals(request):
    reason, stage = str(_l("Lost reason")), str(_l("Stage lost from"))
    return _report_page(
        request,
        selector=selectors.lost_deals_report,
        template="reports/lost_deals.html",
        date_field="closed",
        export_rows=lambda r: [
            *((reason, g) for g in r.by_reason),
            *((stage, g) for g in r.by_stage),
            (str(_l("Total")), r.total),
        ],
        columns=LOST_COLUMNS,
        filename="lost-deals",
    )
