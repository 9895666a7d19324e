"""The funnel: how far the deals created in the period went through a pipeline, and how long they
stayed in each stage."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from pipeline.models import Pipeline, Stage, StageChange

from ..filters import ReportFilter
from .common import TENTH, ratio, report_filter
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
class FunnelReport:
    pipeline: Pipeline
    deals: int
    steps: list[FunnelStep]
    filter: ReportFilter

    def as_dict(self) -> dict:
        return {"pipeline": self.pipeline.pk, "deals": self.deals, "steps": [s.as_dict() for s in self.steps]}

    def chart(self) -> dict:
        return {
            "labels": [s.stage.display_name for s in self.steps],
            "reached": [s.reached for s in self.steps],
            "median_days": [float(s.median_days) if s.median_days is not None else None for s in self.steps],
            "names": {"reached": _("Deals reaching the stage"), "median_days": _("Median days in stage")},
        }


_FUNNEL_SQL = """
WITH entries AS (
    SELECT sc.to_stage_id AS stage_id,
           sc.changed_at AS entered_at,
           LEAD(sc.changed_at) OVER w AS left_at,
           ROW_NUMBER() OVER w AS step,
           MAX(CASE WHEN st.pipeline_id = %s AND st.kind <> 'lost' THEN st."order" END)
               OVER (PARTITION BY sc.opportunity_id) AS top
    FROM {history} sc JOIN {stage} st ON st.id = sc.to_stage_id
    WHERE sc.opportunity_id IN ({deals})
    WINDOW w AS (PARTITION BY sc.opportunity_id ORDER BY sc.changed_at, sc.id)
), spans AS (
    SELECT stage_id, {seconds} AS seconds FROM entries WHERE left_at IS NOT NULL
)
SELECT 'reach', top, COUNT(*), NULL FROM entries WHERE step = 1 GROUP BY top
UNION ALL
{median}
"""

# PostgreSQL has an ordered-set aggregate for the median; elsewhere (SQLite) the middle row(s) are
# picked with ROW_NUMBER / COUNT window functions. Both run inside the database.
_MEDIAN_POSTGRESQL = """
SELECT 'median', stage_id, COUNT(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)
FROM spans GROUP BY stage_id
"""
_MEDIAN_PORTABLE = """
SELECT 'median', stage_id, MAX(n), AVG(seconds) FROM (
    SELECT stage_id, seconds,
           ROW_NUMBER() OVER (PARTITION BY stage_id ORDER BY seconds) AS rn,
           COUNT(*) OVER (PARTITION BY stage_id) AS n
    FROM spans
) ranked
WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY stage_id
"""


def _funnel_figures(deals, pipeline) -> tuple[dict, dict]:
    """One pass over the deals' history: (highest stage order reached → deals, stage → (median
    seconds spent in it, spans)).

    The highest order counts open and won stages of ``pipeline`` (lost stages are not steps). A span
    runs from entering a stage to entering the next one (LEAD over the deal's history); the stage a
    deal is still in has no end yet and is not timed.
    """
    deals_sql, params = deals.order_by().values("pk").query.sql_with_params()
    postgres = connection.vendor == "postgresql"
    seconds = (
        "EXTRACT(EPOCH FROM (left_at - entered_at))"
        if postgres
        else "(julianday(left_at) - julianday(entered_at)) * 86400.0"
    )
    sql = _FUNNEL_SQL.format(
        history=StageChange._meta.db_table,
        stage=Stage._meta.db_table,
        deals=deals_sql,
        seconds=seconds,
        median=_MEDIAN_POSTGRESQL if postgres else _MEDIAN_PORTABLE,
    )
    reach, medians = {}, {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [pipeline.pk, *params])
        for kind, key, number, median in cursor.fetchall():
            if kind == "reach":
                reach[key] = number
            else:
                medians[key] = (float(median), int(number))
    return reach, medians


def funnel_report(*, user, params=None) -> FunnelReport:
    """How many deals created in the period reached each stage of a pipeline, the conversion to
    the next stage, the drop-off and the median time spent in each stage.

    A deal *reached* a stage when its history enters that stage or any later open or won stage
    (skipping a stage still passes it); every deal reached the first stage. Lost stages are not
    steps: a lost deal reached the stages up to the one it was lost from. Three queries: the
    default pipeline, its stages, and one pass over the history with window functions.
    """
    filterset = report_filter(user=user, params=params, date_field="created")
    pipeline = filterset.form.cleaned_data.get("pipeline") or Pipeline.objects.default()
    if pipeline is None:
        raise ValidationError({"pipeline": _("There is no pipeline yet.")})
    mode = CurrencyMode(filterset.chosen_currency)
    deals = mode.narrow(filterset.qs.filter(pipeline=pipeline)).order_by()
    stages = [s for s in pipeline.stages.order_by("order") if s.kind != Stage.Kind.LOST]
    by_top, medians = _funnel_figures(deals, pipeline)
    total = sum(by_top.values())
    first_order = stages[0].order if stages else 0

    steps = []
    for stage in stages:
        if stage.order == first_order:
            reached = total
        else:
            reached = sum(n for top, n in by_top.items() if top is not None and top >= stage.order)
        median = medians.get(stage.pk)
        steps.append(
            FunnelStep(
                stage=stage,
                reached=reached,
                median_days=(
                    None
                    if median is None
                    else (Decimal(repr(median[0])) / 86400).quantize(TENTH, rounding=ROUND_HALF_UP)
                ),
                timed_count=median[1] if median else 0,
            )
        )
    for step, following in zip(steps, steps[1:], strict=False):
        step.next_reached = following.reached
    return FunnelReport(pipeline=pipeline, deals=total, steps=steps, filter=filterset)
