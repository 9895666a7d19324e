"""Scenarios of the analytics reports (issue 23) as an admin opens them over every deal: targets of
the current quarter (one team target and one rep target, set once), time in stage by owner over
the last 12 months, velocity by team, cohorts, forecast accuracy by owner."""

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

BUDGETS = {
    # session user, the report's grouped queries, labels, filter choices: independent of the deals.
    "analytics_targets_api": 10,
    "analytics_time_in_stage_owner_12m_api": 14,
    "analytics_velocity_team_api": 10,
    "analytics_cohorts_api": 8,
    "analytics_forecast_accuracy_api": 10,
    "analytics_targets_page": 20,
}


def _targets(ctx):
    """One rep target and one team target for this quarter (set once, through the service)."""
    if "targets" in ctx.state:
        return
    from accounts.models import Team, User
    from analytics.services import target_set

    today = timezone.localdate()
    rep = User.objects.filter(team__isnull=False).exclude(pk=ctx.user.pk).order_by("pk").first()
    team = Team.objects.order_by("pk").first()
    if rep is not None:
        target_set(user=ctx.user, owner=rep, period_kind="quarter", day=today, metric="won_amount", value=Decimal(1e6))
    if team is not None:
        target_set(user=ctx.user, team=team, period_kind="quarter", day=today, metric="won_count", value=Decimal(100))
    ctx.state["targets"] = True


def scenarios(ctx):
    def get(name, params, expect):
        def run():
            _targets(ctx)
            response = ctx.client.get(reverse(name), params)
            assert response.status_code == 200, (response.status_code, response.content[:300])
            assert expect in response.content
            return response

        return run

    today = timezone.localdate()
    last_quarter_end = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - datetime.timedelta(days=1)
    last_quarter_start = datetime.date(last_quarter_end.year, last_quarter_end.month - 2, 1)
    return [
        ("analytics_targets_api", get("analytics-api:targets", {}, b'"rows"')),
        ("analytics_targets_page", get("analytics:targets", {}, b"targets-table")),
        (
            "analytics_time_in_stage_owner_12m_api",
            get("analytics-api:stages", {"group_by": "owner", "period": "last_12_months"}, b'"rows"'),
        ),
        (
            "analytics_velocity_team_api",
            get(
                "analytics-api:velocity",
                {"group_by": "team", "date_from": last_quarter_start, "date_to": last_quarter_end},
                b'"rows"',
            ),
        ),
        ("analytics_cohorts_api", get("analytics-api:cohorts", {"period": "last_12_months"}, b'"cohorts"')),
        ("analytics_forecast_accuracy_api", get("analytics-api:accuracy", {"group_by": "owner"}, b'"rows"')),
    ]
