"""Pages of the analytics reports and of targets and subscriptions. Thin: each report page calls its
selector (from :mod:`analytics.registry`, shared with the API and the e-mails) and renders."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import sees_everything
from core.exports import export_response, wants_export

from . import services
from .forms import SubscriptionForm, TargetForm
from .models import ReportSubscription, SalesTarget
from .registry import REPORTS


class _BadFilter:
    """The filter bar of a page whose filters failed: the report's own form with the errors."""

    def __init__(self, form):
        self.form = form
        self.date_basis = ""
        self.period_text = ""


def _report_page(request, kind: str):
    entry = REPORTS[kind]
    try:
        report = entry.selector(user=request.user, params=request.GET)
    except ValidationError as exc:
        form = entry.form(request.GET, user=request.user)
        form.is_valid()
        for name, errors in exc.message_dict.items():
            if name not in form.errors:
                form.add_error(name if name in form.fields else None, errors)
        return render(request, entry.template, {"filter": _BadFilter(form), "report": None}, status=400)
    if wants_export(request):
        return export_response(request, rows=entry.rows(report), columns=entry.columns, filename=entry.filename)
    subscribe = None
    if request.user.is_manager or sees_everything(request.user):
        subscribe = SubscriptionForm(initial={"report": kind, "params": request.GET.urlencode()})
    return render(
        request,
        entry.template,
        {"filter": report.filter, "report": report, "exportable": True, "subscribe_form": subscribe, "kind": kind},
    )


@login_required
def targets(request):
    return _report_page(request, "targets")


@login_required
def stages(request):
    return _report_page(request, "stages")


@login_required
def velocity(request):
    return _report_page(request, "velocity")


@login_required
def cohorts(request):
    return _report_page(request, "cohorts")


@login_required
def accuracy(request):
    return _report_page(request, "accuracy")


@login_required
def target_set(request):
    """Managers (for their teams) and admins set a target; others get a 403."""
    if not (request.user.is_manager or sees_everything(request.user)):
        raise PermissionDenied
    form = TargetForm(request.POST or None, user=request.user, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.target_set(
                user=request.user,
                owner=data.get("owner"),
                team=data.get("team"),
                period_kind=data["period_kind"],
                day=data["day"],
                metric=data["metric"],
                value=data["value"],
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, _("Target saved."))
            return redirect(f"{reverse('analytics:targets')}?period_kind={data['period_kind']}&day={data['day']}")
    return render(request, "analytics/target_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def target_delete(request, pk):
    if not (request.user.is_manager or sees_everything(request.user)):
        raise PermissionDenied
    target = get_object_or_404(SalesTarget, pk=pk)
    if not services.target_can_set(user=request.user, owner=target.owner, team=target.team):
        raise Http404  # another team's target: not found, as every record one may not see
    services.target_delete(user=request.user, target=target)
    messages.success(request, _("Target deleted."))
    return redirect("analytics:targets")


@login_required
def subscriptions(request):
    """The reader's report subscriptions; POST subscribes to a report with its filters."""
    if request.method == "POST":
        form = SubscriptionForm(request.POST)
        if form.is_valid():
            params = QueryDict(form.cleaned_data["params"] or "").dict()
            try:
                services.subscription_create(
                    user=request.user,
                    report=form.cleaned_data["report"],
                    params=params,
                    frequency=form.cleaned_data["frequency"],
                )
            except ValidationError as exc:
                messages.error(request, "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.message_dict.items()))
            else:
                messages.success(request, _("Subscribed: the report will come to you by e-mail."))
                return redirect("analytics:subscriptions")
        else:
            messages.error(request, _("Please choose how often."))
    items = ReportSubscription.objects.filter(user=request.user).order_by("report", "pk")
    return render(request, "analytics/subscriptions.html", {"subscriptions": items})


@login_required
@require_POST
def subscription_delete(request, pk):
    subscription = get_object_or_404(ReportSubscription, pk=pk, user=request.user)
    services.subscription_delete(user=request.user, subscription=subscription)
    messages.success(request, _("Subscription cancelled."))
    return redirect("analytics:subscriptions")
