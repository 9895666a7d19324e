"""The funnel: how far the deals created in the period went through a pipeline, and how long they
stayed in each stage."""

import functools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import CharField, Count, F, Sum, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import is_anonymous, owned_by_visible_q, sees_everything
from opportunities.models import FunnelCohort, StageStay
from opportunities.rollups import FUNNEL_COHORTS, STAGE_STAYS, rollup_time_zones, rollups_enabled, stays_sql
from pipeline.models import Pipeline, Stage

from ..filters import FUNNEL_GROUP_BY, ReportFilter
from .common import (
    TENTH,
    ratio,
    report_filter,
    source_group_key,
    source_group_label,
    source_group_names,
    whole_months,
)
from .money import CurrencyMode


@dataclass
class FunnelStep:
    stage: Stage
    reached: int = 0
    next_reached: int | None = None
    median_days: Decimal | None = None
    timed_count: int = 0

    @property
    def conversion(self) -> Decimal | None:
        """Share of the deals that reached this stage and went on to reach the next one."""
        if self.next_reached is None:
            return None
        return ratio(self.next_reached, self.reached)

    @property
    def drop_off(self) -> int | None:
        if self.next_reached is None:
            return None
        return self.reached - self.next_reached

    def as_dict(self) -> dict:
        return {
            "stage": self.stage.pk,
            "label": self.stage.display_name,
            "kind": self.stage.kind,
            "reached": self.reached,
            "conversion": None if self.conversion is None else str(self.conversion),
            "drop_off": self.drop_off,
            "median_days_in_stage": None if self.median_days is None else str(self.median_days),
            "timed_deals": self.timed_count,
        }


@dataclass
class FunnelGroup:
    """The funnel of the deals of one web form or one campaign."""

    key: str | None
    label: str
    deals: int
    steps: list[FunnelStep]

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "deals": self.deals,
            "steps": [s.as_dict() for s in self.steps],
        }


@dataclass
class FunnelReport:
    pipeline: Pipeline
    deals: int
    steps: list[FunnelStep]
    filter: ReportFilter
    group_by: str = ""
    groups: list[FunnelGroup] = field(default_factory=list)

    @property
    def group_label(self) -> str:
        return str(dict(self.filter.filters["group_by"].extra["choices"]).get(self.group_by, ""))

    def as_dict(self) -> dict:
        return {
            "pipeline": self.pipeline.pk,
            "deals": self.deals,
            "steps": [s.as_dict() for s in self.steps],
            "group_by": self.group_by or None,
            "groups": [g.as_dict() for g in self.groups],
        }

    def chart(self) -> dict:
        return {
            "labels": [s.stage.display_name for s in self.steps],
            "reached": [s.reached for s in self.steps],
            "median_days": [float(s.median_days) if s.median_days is not None else None for s in self.steps],
            "names": {"reached": _("Deals reaching the stage"), "median_days": _("Median days in stage")},
        }


# The filters the funnel's kept tables are keyed by (opportunities/rollups.py: FUNNEL_COHORTS,
# STAGE_STAYS). A product, or a period that is not whole months, needs the deals themselves.
COHORT_FILTERS = frozenset(
    {"period", "date_from", "date_to", "pipeline", "team", "owner", "type", "lead_source", "currency"}
)
# The stays are kept per month, pipeline and stage only: they answer a reader who sees every deal
# and narrows by nothing but the period and the pipeline.
STAY_FILTERS = frozenset({"period", "date_from", "date_to", "pipeline"})


def _kept_cohorts(*, user, filterset: ReportFilter, pipeline: Pipeline, zones):
    """The FunnelCohort rows holding exactly the deals ``filterset`` selects in ``pipeline``, or
    None when the filters are not among the table's keys (then the deals are read)."""
    if not rollups_enabled() or is_anonymous(user):
        return None
    data = filterset.form.cleaned_data
    if {name for name, value in data.items() if value not in (None, "")} - COHORT_FILTERS:
        return None
    if not whole_months(filterset) or zones().get(FUNNEL_COHORTS.name) != timezone.get_current_timezone_name():
        return None
    cohorts = FunnelCohort.objects.filter(pipeline=pipeline, deals__gt=0)
    if not sees_everything(user):
        cohorts = cohorts.filter(owned_by_visible_q(user))
    for name, lookup in (("team", "owner__team"), ("owner", "owner"), ("type", "type"), ("lead_source", "lead_source")):
        if data.get(name):
            cohorts = cohorts.filter(**{lookup: data[name]})
    if filterset.chosen_currency:
        cohorts = cohorts.filter(currency=filterset.chosen_currency)
    return _in_months(cohorts, filterset)


def _kept_stays(*, user, filterset: ReportFilter, pipeline: Pipeline, zones):
    """The StageStay rows holding exactly the stays of the deals ``filterset`` selects, or None."""
    data = filterset.form.cleaned_data
    if {name for name, value in data.items() if value not in (None, "")} - STAY_FILTERS:
        return None
    if not sees_everything(user) or zones().get(STAGE_STAYS.name) != timezone.get_current_timezone_name():
        return None
    return _in_months(StageStay.objects.filter(pipeline=pipeline, stays__gt=0), filterset)


def _in_months(rows, filterset: ReportFilter):
    start, end = filterset.date_range()
    if start:
        rows = rows.filter(month__gte=start)
    if end:
        rows = rows.filter(month__lte=end.replace(day=1))
    return rows


def stays_of_deals(deals, *, key=None) -> list[tuple]:
    """(group, stage, days, stays) of the finished stays of ``deals``, grouped by the expression
    ``key`` (None: one group, ``0``): one grouped query over each deal's ``stage_days``, no
    history read.

    The one read of "days in a stage": the funnel and the time-in-stage report both call it, so
    their figures cannot disagree. A stay runs from entering a stage to entering the next, and
    lasts calendar days in the CRM's time zone (``opportunities.rollups.calendar_days_sql``, kept
    by the database from the stage history), as the kept StageStay table counts them too."""
    from django.db.models import Value

    rows = deals.order_by().annotate(stay_group=key if key is not None else Value(0))
    deals_sql, params = rows.values("stay_group", "stage_days").query.sql_with_params()
    expand, stage, days = stays_sql("d", vendor=connection.vendor)
    sql = (
        f"SELECT d.stay_group, {stage}, {days}, COUNT(*) FROM ({deals_sql}) d {expand} "  # noqa: S608
        f"GROUP BY 1, 2, 3"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(group, int(s), int(d), int(n)) for group, s, d, n in cursor.fetchall()]


def _funnel_steps(stages: list[Stage], by_top: dict, histograms: dict) -> tuple[int, list[FunnelStep]]:
    """(deals, steps) from the deals counted by the furthest stage they reached and the stays'
    histograms per stage."""
    total = sum(by_top.values())
    first_order = stages[0].order if stages else 0
    steps = []
    for stage in stages:
        if stage.order == first_order:
            reached = total
        else:
            reached = sum(n for top, n in by_top.items() if top is not None and top >= stage.order)
        middle = median(histograms.get(stage.pk, []))
        steps.append(
            FunnelStep(
                stage=stage,
                reached=reached,
                median_days=None if middle is None else middle.quantize(TENTH, rounding=ROUND_HALF_UP),
                timed_count=sum(n for _, n in histograms.get(stage.pk, [])),
            )
        )
    for step, following in zip(steps, steps[1:], strict=False):
        step.next_reached = following.reached
    return total, steps


def median(histogram: list[tuple[int, int]]) -> Decimal | None:
    """The median of values given as (value, how many times), as ``percentile_cont(0.5)`` gives it:
    the middle value, or the mean of the two middle ones."""
    total = sum(n for _, n in histogram)
    if not total:
        return None
    wanted = {(total - 1) // 2, total // 2}
    picked, seen = [], 0
    for value, n in sorted(histogram):
        for position in sorted(wanted):
            if seen <= position < seen + n:
                picked.append(value)
        seen += n
    return Decimal(sum(picked)) / len(picked)


def funnel_report(*, user, params=None) -> FunnelReport:
    """How many deals created in the period reached each stage of a pipeline, the conversion to
    the next stage, the drop-off and the median days spent in each stage (calendar days, as
    :func:`stays_of_deals` counts them).

    A deal *reached* a stage when its history enters that stage or any later open or won stage
    (skipping a stage still passes it); every deal with a history reached the first stage. Lost
    stages are not steps: a lost deal reached the stages up to the one it was lost from. A stay
    lasts from entering a stage to entering the next; the stage a deal is still in is not timed.

    Read from each deal's ``stages_entered`` and ``stage_days`` (kept from the history by the
    database), grouped: the kept tables FunnelCohort and StageStay when the filters are their keys
    (:func:`_kept_cohorts`, :func:`_kept_stays`), else the deals. The stage order is applied here,
    as the stages are now, so reordering stages needs no recomputation.
    """
    filterset = report_filter(
        user=user, params=params, date_field="created", with_group_by=True, group_choices=FUNNEL_GROUP_BY
    )
    group_by = filterset.chosen_group_by
    pipeline = filterset.form.cleaned_data.get("pipeline") or Pipeline.objects.default()
    if pipeline is None:
        raise ValidationError({"pipeline": _("There is no pipeline yet.")})
    stages = [s for s in pipeline.stages.order_by("order") if s.kind != Stage.Kind.LOST]
    order = {s.pk: s.order for s in stages}

    # The deals the filters select: read only when a kept table cannot answer (never when grouped:
    # the kept tables do not know the form or the campaign).
    deals = CurrencyMode(filterset.chosen_currency).narrow(filterset.qs.filter(pipeline=pipeline)).order_by()
    deals = deals.annotate(group_key=source_group_key(group_by) if group_by else Value(None, output_field=CharField()))
    zones = functools.cache(rollup_time_zones)  # read once, and only if a kept table may answer
    cohorts = _kept_cohorts(user=user, filterset=filterset, pipeline=pipeline, zones=zones)
    if cohorts is not None:
        by_entered = cohorts.annotate(group_key=Value(None, output_field=CharField()))
        by_entered = by_entered.values_list("group_key", "stages_entered").annotate(n=Sum("deals")).order_by()
    else:
        by_entered = deals.values_list("group_key", "stages_entered").annotate(n=Count("pk")).order_by()
    by_top: dict = {}
    for key, entered, n in by_entered:
        if not entered:
            continue  # no history at all: not in the funnel (a deal always has one)
        top = max((order[int(i)] for i in entered.split(",") if int(i) in order), default=None)
        group = by_top.setdefault(key, {})
        group[top] = group.get(top, 0) + n

    kept = _kept_stays(user=user, filterset=filterset, pipeline=pipeline, zones=zones) if cohorts is not None else None
    if kept is not None:
        stays = [(None, *row) for row in kept.values_list("stage_id", "days").annotate(n=Sum("stays")).order_by()]
    else:
        stays = stays_of_deals(deals, key=F("group_key"))
    histograms: dict = {}
    for key, stage_id, days, n in stays:
        histograms.setdefault(key, {}).setdefault(stage_id, []).append((days, n))

    # Every deal is in exactly one group: the whole funnel adds the groups up.
    all_tops: dict = {}
    for tops in by_top.values():
        for top, n in tops.items():
            all_tops[top] = all_tops.get(top, 0) + n
    all_histograms: dict = {}
    for per_stage in histograms.values():
        for stage_id, histogram in per_stage.items():
            all_histograms.setdefault(stage_id, []).extend(histogram)
    total, steps = _funnel_steps(stages, all_tops, all_histograms)

    groups = []
    if group_by:
        names = source_group_names(group_by, set(by_top))
        labelled = []
        for key, tops in by_top.items():
            text, label, sort_key = source_group_label(group_by, key, names)
            deals_in, group_steps = _funnel_steps(stages, tops, histograms.get(key, {}))
            labelled.append((sort_key, FunnelGroup(key=text, label=label, deals=deals_in, steps=group_steps)))
        groups = [group for _, group in sorted(labelled, key=lambda pair: pair[0])]
    return FunnelReport(pipeline=pipeline, deals=total, steps=steps, filter=filterset, group_by=group_by, groups=groups)
