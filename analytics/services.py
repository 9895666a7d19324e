"""Writes of the analytics app: targets and report subscriptions."""

import datetime
import logging
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Team, User
from accounts.permissions import ChangeNotAllowed, sees_everything, team_ids
from core.exceptions import ValidationError
from core.exports import export_response
from core.outbox import event_emit, subscribe

from .models import Frequency, Metric, PeriodKind, ReportKind, ReportSubscription, SalesTarget
from .periods import add_months, period_start

logger = logging.getLogger(__name__)


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
    from .registry import REPORTS  # imported late: the registry reaches the reports app's pages

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


def report_subscriptions_queue(*, now: datetime.datetime | None = None, limit: int = 200) -> int:
    """Queue the e-mail of every subscription that is due, and move it to its next date.

    The subscription row is locked (``skip_locked``) and advanced in the same transaction that
    writes the outbox event, so two sweeps at once, or one run twice, never send a report twice.
    The e-mail itself is sent by the outbox handler :func:`report_subscription_email`."""
    now = now or timezone.now()
    queued = 0
    with transaction.atomic():
        due = (
            ReportSubscription.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_send_at__lte=now, user__is_active=True)
            .order_by("next_send_at")[:limit]
        )
        for subscription in due:
            subscription.last_sent_at = now
            subscription.next_send_at = subscription_next_send(subscription.frequency, now)
            subscription.save(update_fields=["last_sent_at", "next_send_at"])
            event_emit("analytics.report_due", {"subscription": subscription.pk, "user": subscription.user_id})
            queued += 1
    return queued


def _html_chart(chart: dict) -> list[dict]:
    """The report's first chart series as rows of an HTML bar chart (e-mail clients run no script)."""
    labels = chart.get("labels") or []
    series = next((v for k, v in chart.items() if k not in ("labels", "names", "currency") and isinstance(v, list)), [])
    top = max((abs(v or 0) for v in series), default=0) or 1
    return [
        {"label": label, "value": value, "width": int(abs(value or 0) * 100 / top)}
        for label, value in zip(labels, series, strict=False)
    ][:30]


@subscribe("analytics.report_due")
def report_subscription_email(event) -> None:
    """Compute the subscribed report as its reader sees it, in the reader's language, and e-mail
    it: an HTML summary with a bar chart, and the table as an XLSX attachment."""
    from .registry import REPORTS

    subscription = ReportSubscription.objects.select_related("user").filter(pk=event.payload["subscription"]).first()
    if subscription is None or not subscription.user.is_active or not subscription.user.email:
        return
    user = subscription.user
    entry = REPORTS[subscription.report]
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(settings.TIME_ZONE):
        try:
            report = entry.selector(user=user, params=subscription.params)
        except DjangoValidationError:
            logger.warning("report subscription %s: its filters are no longer valid", subscription.pk)
            return
        title = str(entry.title)
        rows = list(entry.rows(report))
        xlsx = export_response(None, rows=rows, columns=entry.columns, filename=entry.filename, fmt="xlsx")
        url = settings.CRM_SITE_URL + reverse(REPORT_URLS[subscription.report])
        if subscription.params:
            url += "?" + urlencode(subscription.params)
        context = {
            "title": title,
            "user": user,
            "subscription": subscription,
            "period": getattr(report.filter, "period_text", ""),
            "summary": entry.summary(report) if entry.summary else [],
            "headers": [str(c.label) for c in entry.columns],
            "rows": [[_cell(c.get(r)) for c in entry.columns] for r in rows[:50]],
            "more": max(len(rows) - 50, 0),
            "chart": _html_chart(report.chart()) if hasattr(report, "chart") else [],
            "url": url,
        }
        subject = _("%(report)s report — %(date)s") % {
            "report": title,
            "date": formats.date_format(timezone.localdate(), "SHORT_DATE_FORMAT"),
        }
        html = render_to_string("analytics/email/report.html", context)
        text = render_to_string("analytics/email/report.txt", context)
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
        message.attach_alternative(html, "text/html")
        stamp = timezone.localdate().isoformat()
        message.attach(
            f"{entry.filename}-{stamp}.xlsx",
            xlsx.content,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        message.send()


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return formats.number_format(value, use_l10n=True)
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


REPORT_URLS = {
    "won_lost": "reports:won_lost",
    "funnel": "reports:funnel",
    "forecast": "reports:forecast",
    "lost_deals": "reports:lost_deals",
    "targets": "analytics:targets",
    "stages": "analytics:stages",
    "velocity": "analytics:velocity",
    "cohorts": "analytics:cohorts",
    "accuracy": "analytics:accuracy",
}
