import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from activities.models import Activity
from core.views import lookup_response
from opportunities.selectors import opportunity_list

from . import selectors
from .forms import ProfileForm
from .services import user_set_language


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


@require_POST
def language_set(request):
    """The navigation bar's language switcher: Django's ``set_language`` (cookie, safe redirect) and,
    for a logged-in user, the choice saved on the profile so it follows them to any browser."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        user_set_language(user=request.user, language=language)
    return response


@login_required
def owner_lookup(request):
    """Users for the owner autocomplete (``?q=``): only those the reader may assign."""
    return lookup_response(
        request,
        lambda text: selectors.owner_search(user=request.user, text=text),
        label=lambda user: user.get_full_name() or user.username,
        detail=lambda user: user.email,
    )
