"""Writes of the analytics app: targets and report subscriptions."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team, User
from accounts.permissions import ChangeNotAllowed, sees_everything, team_ids
from core.exceptions import ValidationError

from .models import Frequency, Metric, PeriodKind, ReportKind, ReportSubscription, SalesTarget
from .periods import add_months, period_start


def target_can_set(*, user, owner: User | None = None, team: Team | None = None) -> bool:
    """Admins set any target; managers the targets of the teams they belong to or manage and of
    those teams' members; reps none."""
    if sees_everything(user):
        return True
    if not (user and user.is_authenticated and user.is_manager):
        return False
    teams = team_ids(user)
    if team is not None:
        return team.pk in teams
    return owner is not None and (owner.pk == user.pk or owner.team_id in teams)


@transaction.atomic
def target_set(
    *,
    user,
    owner: User | None = None,
    team: Team | None = None,
    period_kind: str,
    day: datetime.date,
    metric: str,
    value: Decimal,
) -> SalesTarget:
    """Set (create or replace) the target of a rep or a team for the month or quarter holding
    ``day``. Raises ValidationError naming the field, ChangeNotAllowed for a caller who may not."""
    errors = {}
    if (owner is None) == (team is None):
        errors["owner"] = [_("Choose either a rep or a team.")]
    if period_kind not in PeriodKind.values:
        errors["period_kind"] = [_("Choose a month or a quarter.")]
    if metric not in Metric.values:
        errors["metric"] = [_("Choose what the target counts.")]
    if value is None or value <= 0:
        errors["value"] = [_("A target is a number above zero.")]
    if errors:
        raise ValidationError(errors)
    if not target_can_set(user=user, owner=owner, team=team):
        raise ChangeNotAllowed(_("You may set targets only for your teams and their members."))
    start = period_start(period_kind, day)
    key = {"owner": owner} if owner is not None else {"team": team}
    target, _created = SalesTarget.objects.update_or_create(
        **key,
        period_kind=period_kind,
        period_start=start,
        metric=metric,
        defaults={"value": value, "set_by": user, "updated_at": timezone.now()},
    )
    return target


@transaction.atomic
def target_delete(*, user, target: SalesTarget) -> None:
    if not target_can_set(user=user, owner=target.owner, team=target.team):
        raise ChangeNotAllowed(_("You may set targets only for your teams and their members."))
    target.delete()


def subscription_next_send(frequency: str, after: datetime.datetime) -> datetime.datetime:
    """Monday 07:00 of the next week, or 07:00 on the first of the next month (local time)."""
    day = timezone.localtime(after).date()
    if frequency == Frequency.WEEKLY:
        day = day + datetime.timedelta(days=7 - day.weekday())
    else:
        day = add_months(day, 1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(7)))


@transaction.atomic
def subscription_create(*, user, report: str, params: dict, frequency: str) -> ReportSubscription:
    """Subscribe ``user`` to a report with its filters; the filters are checked now as the page
    would check them (a bad one is a ValidationError naming it)."""
    from .reports import REPORTS  # the registry of report selectors; imported late (faces use it too)

    errors = {}
    if report not in ReportKind.values:
        errors["report"] = [_("Choose a report.")]
    if frequency not in Frequency.values:
        errors["frequency"] = [_("Choose weekly or monthly.")]
    if not (user and user.is_authenticated and (user.is_manager or sees_everything(user))):
        raise ChangeNotAllowed(_("Only managers and administrators subscribe to reports."))
    if errors:
        raise ValidationError(errors)
    params = {k: v for k, v in (params or {}).items() if k not in ("export", "page", "csrfmiddlewaretoken") and v}
    REPORTS[report].selector(user=user, params=params)  # raises ValidationError for bad filters
    return ReportSubscription.objects.create(
        user=user,
        report=report,
        params=params,
        frequency=frequency,
        next_send_at=subscription_next_send(frequency, timezone.now()),
    )


@transaction.atomic
def subscription_delete(*, user, subscription: ReportSubscription) -> None:
    if subscription.user_id != user.pk:
        raise ChangeNotAllowed()
    subscription.delete()
