"""The calendar page (month, week, agenda) and the personal iCal feed."""

import calendar as pycalendar
import datetime
import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.middleware import bad_request
from core.redirects import next_url
from core.validators import FIRST_YEAR, LAST_YEAR

from . import services
from .calendar import calendar_entries, entries_by_day
from .ical import feed_render
from .models import CalendarFeedToken

AGENDA_DAYS = 30
FEED_PAST = datetime.timedelta(days=90)
FEED_FUTURE = datetime.timedelta(days=400)


class _ImplausibleDay(Exception):
    pass


def _day(request) -> datetime.date:
    """The day asked for with ``?date=``, today when there is none or it is not a date; a date
    outside the plausible years (1900–2999) is refused, so the weeks and months around it, and
    the links to the previous and next ones, never leave the calendar Python can count."""
    try:
        day = datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate()
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise _ImplausibleDay
    return day


def _plausible_day_only(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _ImplausibleDay:
            message = _("Enter a date between the years %(first)s and %(last)s.") % {
                "first": FIRST_YEAR,
                "last": LAST_YEAR,
            }
            return bad_request(request, message, field="date")

    return wrapper


def _scope(request) -> str:
    return "team" if request.GET.get("scope") == "team" else "mine"


def _context(request, view, start, end, **extra):
    today = timezone.localdate()
    entries = calendar_entries(user=request.user, start=start, end=end, scope=_scope(request))
    feed = CalendarFeedToken.objects.filter(user=request.user).first()
    return {
        "view": view,
        "scope": _scope(request),
        "today": today,
        "entries": entries,
        "truncated": entries.truncated,
        "days": entries_by_day(entries),
        "feed_url": request.build_absolute_uri(reverse("calendar:feed", args=[feed.token])) if feed else "",
        **extra,
    }


@login_required
@_plausible_day_only
def calendar_month(request):
    day = _day(request)
    first = day.replace(day=1)
    weeks = pycalendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    start, end = weeks[0][0], weeks[-1][-1] + datetime.timedelta(days=1)
    context = _context(
        request,
        "month",
        start,
        end,
        anchor=first,
        weeks=weeks,
        weekdays=weeks[0],
        previous=(first - datetime.timedelta(days=1)).replace(day=1),
        next=(first + datetime.timedelta(days=32)).replace(day=1),
    )
    context["grid"] = [[(d, context["days"].get(d, [])) for d in week] for week in weeks]
    # Switching to the week or agenda view keeps the day asked for (or today, in the current month).
    today = context["today"]
    context["switch_date"] = day if request.GET.get("date") else (today if today.month == first.month else first)
    return render(request, "activities/calendar.html", context)


@login_required
@_plausible_day_only
def calendar_week(request):
    day = _day(request)
    start = day - datetime.timedelta(days=day.weekday())
    end = start + datetime.timedelta(days=7)
    context = _context(
        request,
        "week",
        start,
        end,
        anchor=start,
        switch_date=day,
        week_end=end - datetime.timedelta(days=1),
        previous=start - datetime.timedelta(days=7),
        next=end,
    )
    context["week_days"] = [
        (start + datetime.timedelta(days=n), context["days"].get(start + datetime.timedelta(days=n), []))
        for n in range(7)
    ]
    return render(request, "activities/calendar.html", context)


@login_required
@_plausible_day_only
def calendar_agenda(request):
    start = _day(request)
    end = start + datetime.timedelta(days=AGENDA_DAYS)
    context = _context(
        request,
        "agenda",
        start,
        end,
        anchor=start,
        switch_date=start,
        agenda_end=end - datetime.timedelta(days=1),
        previous=start - datetime.timedelta(days=AGENDA_DAYS),
        next=end,
    )
    context["agenda"] = sorted(context["days"].items())
    return render(request, "activities/calendar.html", context)


@login_required
@require_POST
def calendar_feed_regenerate(request):
    existed = CalendarFeedToken.objects.filter(user=request.user).exists()
    services.calendar_feed_token_regenerate(user=request.user)
    if existed:
        messages.success(request, _("Your calendar feed has a new secret address. The old one no longer works."))
    else:
        messages.success(request, _("Your calendar feed is ready: add its address to your calendar application."))
    return redirect(next_url(request, reverse("calendar:month")))


@login_required
@require_POST
def calendar_feed_revoke(request):
    services.calendar_feed_token_revoke(user=request.user)
    messages.success(request, _("Your calendar feed is switched off."))
    return redirect("calendar:month")


def calendar_feed(request, token):
    """The feed, for calendar applications: no session, the secret token is the credential."""
    feed = CalendarFeedToken.objects.select_related("user").filter(token=token).first()
    if feed is None or not feed.user.is_active:
        raise Http404
    today = timezone.localdate()
    # The calendar application's Accept-Language says nothing about its owner: texts follow the
    # language on the owner's profile (else the installation's).
    with translation.override(feed.user.language or settings.LANGUAGE_CODE):
        entries = calendar_entries(user=feed.user, start=today - FEED_PAST, end=today + FEED_FUTURE)
        body = feed_render(
            entries=entries,
            base_url=request.build_absolute_uri("/").rstrip("/"),
            name=_("CRM – %(user)s") % {"user": feed.user},
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="crm.ics"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response
