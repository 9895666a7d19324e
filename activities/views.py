from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from accounts.permissions import can_edit
from core.exports import Column
from core.redirects import next_url
from core.views import form_page, list_page

from . import selectors, services
from .filters import ActivityFilter
from .forms import PARENTS, ActivityForm
from .models import Activity

EXPORT_COLUMNS = [
    Column(_l("Kind"), lambda a: a.get_kind_display()),
    Column(_l("Subject"), "subject"),
    Column(_l("Due"), "due_at"),
    Column(_l("Duration (minutes)"), "duration_minutes"),
    Column(_l("Done"), "done"),
    Column(_l("Regarding"), lambda a: str(a.regarding or "")),
    Column(_l("Owner"), lambda a: str(a.owner)),
    Column(_l("Notes"), "notes"),
]


def _activity_or_404(user, pk, *, for_edit=False) -> Activity:
    try:
        activity = selectors.activity_get(user=user, pk=pk)
    except Activity.DoesNotExist:
        raise Http404 from None
    if for_edit and not can_edit(user, activity):
        raise Http404
    return activity


@login_required
def activity_list(request):
    return list_page(
        request,
        selector=selectors.activity_list,
        filterset_class=ActivityFilter,
        template="activities/activity_list.html",
        export_columns=EXPORT_COLUMNS,
        export_name="activities",
    )


@login_required
def activity_mine(request):
    """My open and overdue activities."""
    return render(request, "activities/activity_mine.html", selectors.activity_my_open(user=request.user))


class _Saved:
    """What form_page redirects to after a save: the linked record, else the activity list."""

    def __init__(self, url):
        self.url = url

    def get_absolute_url(self):
        return self.url


def _after_save(request, activity):
    return _Saved(
        next_url(request, activity.regarding.get_absolute_url() if activity.regarding else reverse("activities:mine"))
    )


@login_required
def activity_create(request):
    initial = {name: request.GET[name] for name in PARENTS if request.GET.get(name, "").isdigit()}
    if request.GET.get("kind") in Activity.Kind.values:
        initial["kind"] = request.GET["kind"]
    form = ActivityForm(request.POST or None, user=request.user, initial=initial)
    return form_page(
        request,
        form=form,
        save=lambda f: _after_save(request, services.activity_create(user=request.user, **f.service_data())),
        template="activities/activity_form.html",
        success_message=_("Activity saved."),
        context={"title": _("New activity")},
    )


@login_required
def activity_edit(request, pk):
    activity = _activity_or_404(request.user, pk, for_edit=True)
    form = ActivityForm(request.POST or None, instance=activity, user=request.user)
    return form_page(
        request,
        form=form,
        save=lambda f: _after_save(
            request, services.activity_update(activity=activity, user=request.user, data=f.service_data())
        ),
        template="activities/activity_form.html",
        success_message=_("Activity saved."),
        context={"title": activity.subject, "activity": activity},
    )


@login_required
@require_POST
def activity_done(request, pk):
    activity = _activity_or_404(request.user, pk, for_edit=True)
    done = request.POST.get("done", "1") == "1"
    services.activity_set_done(activity=activity, user=request.user, done=done)
    messages.success(request, _("Marked as done.") if done else _("Marked as not done."))
    return redirect(next_url(request, reverse("activities:mine")))


@login_required
@require_POST
def activity_delete(request, pk):
    activity = _activity_or_404(request.user, pk, for_edit=True)
    target = activity.regarding.get_absolute_url() if activity.regarding else reverse("activities:mine")
    services.activity_delete(activity=activity, user=request.user)
    messages.success(request, _("Activity deleted."))
    return redirect(target)
