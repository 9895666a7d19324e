import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import Activity
from opportunities.selectors import opportunity_list

from .forms import ProfileForm


@login_required
def home(request):
    """The start page: what needs the user's attention today."""
    today = timezone.localdate()
    month_end = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
    mine = opportunity_list(user=request.user).filter(owner=request.user, status="open")
    totals = mine.aggregate(count=Count("id"), amount=Sum("amount_base"))
    context = {
        "open_count": totals["count"],
        "open_amount": totals["amount"],
        "closing_this_month": mine.filter(expected_close_date__range=(today.replace(day=1), month_end)).order_by(
            "expected_close_date"
        )[:10],
        "overdue_deals": mine.filter(expected_close_date__lt=today).order_by("expected_close_date")[:10],
        "activities": Activity.objects.filter(owner=request.user, done=False)
        .select_related("opportunity", "contact", "organization")
        .order_by("due_at")[:10],
        "recent": opportunity_list(user=request.user).order_by("-updated_at")[:10],
        "today": today,
    }
    return render(request, "home.html", context)


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Profile saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})
